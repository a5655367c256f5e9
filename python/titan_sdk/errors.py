"""The SDK's errors: one subclass of :class:`TitanError` per error code of the v2 protocol.

Every error the master answers becomes the subclass for its code, with the master's message as
the exception's text, so callers can write ``except NotFoundError:`` or ``except TitanError as e:
if e.code == "NOT_FOUND"``. A master that cannot be reached, or a connection that breaks, is a
:class:`TitanConnectionError` (an :class:`UnavailableError`, code ``UNAVAILABLE``).
"""

from typing import Dict, Optional, Type

# The error classes, which the package exports as they are listed here.
__all__ = [
    "TitanError",
    "BadRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "ConflictError",
    "InvalidDagError",
    "UnavailableError",
    "NotLeaderError",
    "TitanConnectionError",
    "ProtocolError",
    "InternalError",
    "TitanTimeoutError",
    "TitanFileNotFoundError",
]


class TitanError(Exception):
    """An error with a stable ``code`` (``NOT_FOUND``, ``BAD_REQUEST``, ...) and a ``message``.

    ``str(error)`` is the message (the master's, word for word, for errors it answered).
    """

    code = "INTERNAL"

    def __init__(self, code: str, message: Optional[str] = None) -> None:
        # TitanError("NOT_FOUND", "message"); a lone argument is the message.
        if message is None:
            code, message = type(self).code, code
        self.code = code
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return "{}({!r}, {!r})".format(type(self).__name__, self.code, self.message)


class _Coded(TitanError):
    """A TitanError whose code is fixed by its class: constructed with the message alone."""

    def __init__(self, message: str = "") -> None:
        super().__init__(type(self).code, message)


class BadRequestError(_Coded):
    """The request was malformed or named something invalid (``BAD_REQUEST``)."""

    code = "BAD_REQUEST"


class UnauthorizedError(_Coded):
    """The token is missing or wrong (``UNAUTHORIZED``)."""

    code = "UNAUTHORIZED"


class ForbiddenError(_Coded):
    """The caller may not do this (``FORBIDDEN``)."""

    code = "FORBIDDEN"


class NotFoundError(_Coded):
    """The run, job, key, gate, file or artifact does not exist (``NOT_FOUND``)."""

    code = "NOT_FOUND"


class ConflictError(_Coded):
    """The request clashes with the current state, e.g. a gate already decided (``CONFLICT``)."""

    code = "CONFLICT"


class InvalidDagError(_Coded):
    """The jobs do not form a valid DAG: unknown parents, cycles, duplicate ids (``INVALID_DAG``)."""

    code = "INVALID_DAG"


class UnavailableError(_Coded):
    """The master is unavailable (``UNAVAILABLE``)."""

    code = "UNAVAILABLE"


class NotLeaderError(_Coded):
    """A standby master, or one that lost the leadership (``NOT_LEADER``): ``leader`` is the
    ``host:port`` of the master that leads, when it said. The client follows the leader by
    itself; this is raised only when no master led within the connect timeout."""

    code = "NOT_LEADER"

    def __init__(self, message: str = "", leader: Optional[str] = None) -> None:
        super().__init__(message)
        self.leader = leader


class TitanConnectionError(UnavailableError, ConnectionError):
    """The master cannot be reached, or the connection to it broke.

    The message names the address and the cause:
    ``cannot reach the master at 127.0.0.1:9090: [Errno 111] Connection refused``. It is also a
    built-in :class:`ConnectionError`.
    """


class ProtocolError(TitanError):
    """The two ends do not understand each other: ``BAD_FRAME``, ``BAD_JSON`` or ``UNKNOWN_METHOD``
    (often a master older than this SDK)."""

    code = "BAD_FRAME"


class InternalError(_Coded):
    """The master failed while handling the request (``INTERNAL``)."""

    code = "INTERNAL"


class TitanTimeoutError(_Coded, TimeoutError):
    """A wait given a timeout ran out (code ``TIMEOUT``, raised by the SDK, never by the master).
    It is also a built-in :class:`TimeoutError`."""

    code = "TIMEOUT"


class TitanFileNotFoundError(BadRequestError, FileNotFoundError):
    """A local file or folder the call needs does not exist. It is also a built-in
    :class:`FileNotFoundError`, which Titan's SDK raised for a missing job script."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        BadRequestError.__init__(self, message)
        self.filename = path


_BY_CODE: Dict[str, Type[TitanError]] = {
    "BAD_REQUEST": BadRequestError,
    "UNAUTHORIZED": UnauthorizedError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "INVALID_DAG": InvalidDagError,
    "UNAVAILABLE": UnavailableError,
    "INTERNAL": InternalError,
    "NOT_LEADER": NotLeaderError,
}


def error_for(code: str, message: str, leader: Optional[str] = None) -> TitanError:
    """The typed error for an error reply ``{code, message}`` (with ``leader`` for NOT_LEADER);
    unknown codes give a plain TitanError."""
    if code == "NOT_LEADER":
        return NotLeaderError(message, leader if isinstance(leader, str) and leader else None)
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    if code in ("BAD_FRAME", "BAD_JSON", "UNKNOWN_METHOD"):
        return ProtocolError(code, message)
    return TitanError(code, message)
