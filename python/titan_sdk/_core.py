"""What the sub-clients of :class:`~titan_sdk.TitanClient` share: the master's address, the base
every sub-client builds on (it sends through its client's one connection), blob uploads and the
local file helpers."""

import base64
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

from .errors import BadRequestError, TitanFileNotFoundError

if TYPE_CHECKING:
    from .client import TitanClient

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090
#: Largest raw chunk of a blob, file or artifact transfer (1 MiB, as the protocol allows).
CHUNK_BYTES = 1024 * 1024
TERMINAL = ("COMPLETED", "DEAD", "CANCELLED", "SKIPPED")


def resolve_address(host: Optional[str] = None, port: Optional[int] = None, token: Optional[str] = None) -> Tuple[str, int, Optional[str]]:
    """The master's address and token: the arguments, else Titan's module globals if a script
    assigned them (``titan_sdk.titan_sdk.TITAN_HOST = ...``), else the environment, else
    ``127.0.0.1:9090`` without a token. Read at each call, so a changed environment counts."""
    from . import titan_sdk as _compat  # Titan's module path; imported late (it imports the client)

    overrides = vars(_compat)
    if host is None:
        host = overrides.get("TITAN_HOST") or os.environ.get("TITAN_HOST") or DEFAULT_HOST
    if port is None:
        raw = overrides.get("TITAN_PORT")
        if raw is None:
            raw = os.environ.get("TITAN_PORT") or DEFAULT_PORT
        try:
            port = int(raw)
        except (TypeError, ValueError):
            raise BadRequestError("TITAN_PORT must be a port number from 1 to 65535, got {!r}".format(raw))
        if not 1 <= port <= 65535:
            raise BadRequestError("TITAN_PORT must be a port number from 1 to 65535, got {!r}".format(raw))
    else:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise BadRequestError("port must be a number from 1 to 65535, got {!r}".format(port))
    if token is None:
        token = os.environ.get("TITAN_TOKEN") or None
    return str(host), port, token


class SubClient(object):
    """One concept's methods, sent through the client's ``call`` and connection (looked up at
    each request, so one connection serves every sub-client and a reopened one is used)."""

    def __init__(self, client: "TitanClient") -> None:
        self._client = client

    def _call(self, method: str, params: Dict[str, Any], timeout: Optional[float] = None) -> Any:
        if timeout is None:
            return self._client.call(method, params)
        return self._client.call(method, params, timeout)

    def _pages(self, method: str, params: Dict[str, Any], pin: str, pinned: Callable[[Any], Any]) -> Iterator[Any]:
        """The replies of a read by offset (``method`` answers ``nextOffset``) from 0 until one adds
        nothing. Each request after the first sends ``pin`` as ``pinned`` of the reply before, so
        every page is of the version the read began with (one attempt's log, one content)."""
        offset = 0
        while True:
            reply = self._call(method, dict(params, offset=offset))
            yield reply
            params = dict(params, **{pin: pinned(reply)})
            if reply["nextOffset"] == offset:
                return
            offset = reply["nextOffset"]


def upload_blobs(client: "TitanClient", blobs: Mapping[str, bytes]) -> None:
    """Uploads the blobs the master lacks (by sha256), in chunks of at most 1 MiB."""
    if not blobs:
        return
    missing = client.call("blob.missing", {"hashes": list(blobs)})["missing"]
    for sha in missing:
        content = blobs[sha]
        offset = 0
        while True:
            part = content[offset:offset + CHUNK_BYTES]
            final = offset + len(part) >= len(content)
            client.call("blob.put", {"sha256": sha, "offset": offset, "data": base64.b64encode(part).decode("ascii"), "final": final})
            offset += len(part)
            if final:
                break


def read_local(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise TitanFileNotFoundError("File not found at: {}".format(path), path)
    except IsADirectoryError:
        raise BadRequestError("{} is a folder, not a file".format(path))
    except OSError as err:
        raise BadRequestError("cannot read {}: {}".format(path, err))


def write_atomic(dest: str, data: bytes) -> None:
    part = dest + ".part"
    try:
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, dest)
    except OSError as err:
        raise BadRequestError("cannot write {}: {}".format(dest, err))
