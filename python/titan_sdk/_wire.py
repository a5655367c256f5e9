"""The v2 wire: Titan's 8-byte frame (``>BBBBI``: version 2, opcode, flags 0, reserved 0, payload
length) around UTF-8 JSON, on one persistent TCP connection per client.

The connection opens with HELLO ``{id, token, role: "client", versions: [2]}``. Each request
``{id, method, params}`` gets exactly one response ``{id, ok, result | error}``, in any order; a
reader thread matches them to their callers, so several threads may share a connection and a
caller may keep a few requests in flight. Events ``{event, data}`` of a subscription (``run.watch``,
``logs.follow``) carry the id of the request that opened it as ``data.subscription`` and are
queued for it until read, even when they arrive before the response.
"""

import collections
import json
import os
import socket
import ssl
import struct
import threading
import time
from typing import Any, Deque, Dict, List, Optional, Tuple

from .errors import BadRequestError, ProtocolError, TitanConnectionError, TitanError, TitanTimeoutError, error_for

VERSION = 2
OP_HELLO = 0x20
OP_REQUEST = 0x21
OP_RESPONSE = 0x22
OP_EVENT = 0x23

HEADER = struct.Struct(">BBBBI")
#: The protocol's limit on a v2 payload.
MAX_PAYLOAD = 16 * 1024 * 1024


def encode_frame(opcode: int, body: Dict[str, Any]) -> bytes:
    """One frame: the header, then ``body`` as compact UTF-8 JSON."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(payload) > MAX_PAYLOAD:
        raise BadRequestError("a request of {} bytes exceeds the protocol's limit of {} bytes".format(len(payload), MAX_PAYLOAD))
    return HEADER.pack(VERSION, opcode, 0, 0, len(payload)) + payload


class _Pending(object):
    __slots__ = ("event", "ok", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.ok = False
        self.value = None  # type: Any


class Subscription(object):
    """The events of one subscription, in order, and the reply of the request that opened it."""

    def __init__(self, conn: "Connection", sub_id: int) -> None:
        self._conn = conn
        self.id = sub_id
        self.reply = None  # type: Any
        self._queue = collections.deque()  # type: Deque[Tuple[str, Any]]
        self._cond = threading.Condition()
        self._closed = False

    def _push(self, event: str, data: Any) -> None:
        with self._cond:
            self._queue.append((event, data))
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def next(self, timeout: Optional[float] = None) -> Tuple[str, Any]:
        """The next ``(event, data)``; raises TitanTimeoutError after ``timeout`` seconds, and
        TitanConnectionError if the connection closed with nothing left to read."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._queue:
                    return self._queue.popleft()
                if self._conn.closed_error is not None:
                    raise self._conn.closed_error
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TitanTimeoutError("no event within {:g} s".format(timeout))
                    self._cond.wait(left)

    def close(self) -> None:
        """Stops the subscription (``unsubscribe``); events still queued are dropped."""
        if self._closed:
            return
        self._closed = True
        self._conn._subscriptions.pop(self.id, None)
        if self._conn.closed_error is None:
            try:
                self._conn.send("unsubscribe", {"subscription": self.id})
            except TitanError:
                pass


class Connection(object):
    """One authenticated v2 connection to the master."""

    def __init__(self, host: str, port: int, token: Optional[str], connect_timeout: float = 10.0, tls: Optional[ssl.SSLContext] = None) -> None:
        self.host = host
        self.port = port
        self.address = "{}:{}".format(host, port)
        self.closed_error = None  # type: Optional[TitanError]
        self._next_id = 1
        self._id_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending = {}  # type: Dict[int, _Pending]
        self._subscriptions = {}  # type: Dict[int, Subscription]
        self._tls = tls is not None
        try:
            self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout:
            raise TitanConnectionError("cannot reach the master at {}: timed out after {:g} s".format(self.address, connect_timeout))
        except OSError as err:
            raise TitanConnectionError("cannot reach the master at {}: {}".format(self.address, _describe(err)))
        try:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                self._sock = self._handshake(tls, connect_timeout)
            self.server_version = self._hello(token, connect_timeout)
            self._sock.settimeout(None)
        except BaseException:
            self._sock.close()
            raise
        self._reader = threading.Thread(target=self._read_loop, name="titan-sdk-reader", daemon=True)
        self._reader.start()

    # ---- requests -------------------------------------------------------------------------------

    def _new_id(self) -> int:
        with self._id_lock:
            rid = self._next_id
            self._next_id += 1
            return rid

    def begin(self, method: str, params: Dict[str, Any], subscription: Optional[Subscription] = None, track: bool = True) -> Tuple[int, _Pending]:
        """Sends a request and returns its id and the slot its response will fill (unless
        ``track`` is false: then the response is dropped when it comes)."""
        if self.closed_error is not None:
            raise self.closed_error
        rid = self._new_id() if subscription is None else subscription.id
        pending = _Pending()
        if track:
            self._pending[rid] = pending
        frame = encode_frame(OP_REQUEST, {"id": rid, "method": method, "params": params})
        try:
            with self._send_lock:
                self._sock.sendall(frame)
        except OSError as err:
            self._pending.pop(rid, None)
            self._fail(TitanConnectionError("the connection to the master at {} broke: {}".format(self.address, _describe(err))))
            raise self.closed_error  # type: ignore[misc]
        return rid, pending

    def wait(self, rid: int, pending: _Pending, timeout: Optional[float] = None) -> Any:
        """The result of request ``rid``, or its error raised."""
        if not pending.event.wait(timeout):
            self._pending.pop(rid, None)
            raise TitanTimeoutError("no answer from the master at {} within {:g} s".format(self.address, timeout))
        if pending.ok:
            return pending.value
        raise pending.value

    def request(self, method: str, params: Dict[str, Any], timeout: Optional[float] = None) -> Any:
        rid, pending = self.begin(method, params)
        return self.wait(rid, pending, timeout)

    def send(self, method: str, params: Dict[str, Any]) -> None:
        """A request whose answer nobody waits for (its error, if any, is dropped)."""
        self.begin(method, params, track=False)

    def subscribe(self, method: str, params: Dict[str, Any], timeout: Optional[float] = None) -> Subscription:
        """Opens a subscription: its queue exists before the request leaves, so no event is lost."""
        sub = Subscription(self, self._new_id())
        self._subscriptions[sub.id] = sub
        try:
            rid, pending = self.begin(method, params, subscription=sub)
            sub.reply = self.wait(rid, pending, timeout)
        except BaseException:
            self._subscriptions.pop(sub.id, None)
            raise
        return sub

    def close(self) -> None:
        self._fail(TitanConnectionError("the connection to the master at {} was closed by this client".format(self.address)))

    @property
    def closed(self) -> bool:
        return self.closed_error is not None

    # ---- reading ------------------------------------------------------------------------------

    def _handshake(self, context: ssl.SSLContext, timeout: float) -> socket.socket:
        """Wraps the socket in TLS, checking the certificate against the host dialled."""
        self._sock.settimeout(timeout)
        try:
            return context.wrap_socket(self._sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError as err:
            raise TitanConnectionError("the master at {} has a certificate this side does not trust ({}); check TITAN_CA and that the certificate names the host dialled".format(self.address, err.verify_message or err))
        except ssl.SSLError as err:
            if "WRONG_VERSION_NUMBER" in str(err) or "record layer failure" in str(err).lower():
                raise TitanConnectionError("the master at {} does not speak TLS ({}); unset TITAN_TLS/TITAN_CA".format(self.address, err.reason or err))
            raise TitanConnectionError("TLS with the master at {} failed: {}".format(self.address, err.reason or err))
        except socket.timeout:
            raise TitanConnectionError("the master at {} did not finish the TLS handshake within {:g} s".format(self.address, timeout))
        except OSError as err:
            raise TitanConnectionError("TLS with the master at {} failed: {}".format(self.address, _describe(err)))

    def _hello(self, token: Optional[str], timeout: float) -> str:
        hello = {"id": 0, "role": "client", "versions": [VERSION]}  # type: Dict[str, Any]
        if token:
            hello["token"] = token
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(encode_frame(OP_HELLO, hello))
            while True:
                opcode, body = self._read_frame()
                if opcode == OP_RESPONSE and body.get("id") in (0, None):
                    break
        except socket.timeout:
            raise TitanConnectionError("the master at {} did not answer the greeting within {:g} s".format(self.address, timeout))
        except ssl.SSLError as err:
            # With TLS 1.3 a master that wants a client certificate says so only after the handshake.
            raise TitanConnectionError("the master at {} refused the TLS connection ({}); mutual TLS needs TITAN_CERT and TITAN_KEY".format(self.address, err.reason or err))
        except TitanConnectionError as err:
            if self._tls:
                raise
            raise TitanConnectionError("{} (is the master using TLS? set TITAN_TLS=1 or TITAN_CA)".format(err))
        except OSError as err:
            hint = "" if self._tls else " (is the master using TLS? set TITAN_TLS=1 or TITAN_CA)"
            raise TitanConnectionError("the connection to the master at {} broke during the greeting: {}{}".format(self.address, _describe(err), hint))
        if not body.get("ok"):
            err = body.get("error") or {}
            raise error_for(str(err.get("code", "INTERNAL")), str(err.get("message", "the master refused the connection")), err.get("leader"))
        result = body.get("result") or {}
        return str(result.get("serverVersion", ""))

    def _read_exact(self, n: int) -> bytes:
        parts = []  # type: List[bytes]
        left = n
        while left > 0:
            chunk = self._sock.recv(min(left, 1024 * 1024))
            if not chunk:
                raise TitanConnectionError("the master at {} closed the connection".format(self.address))
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _read_frame(self) -> Tuple[int, Dict[str, Any]]:
        version, opcode, _flags, _reserved, length = HEADER.unpack(self._read_exact(HEADER.size))
        if version != VERSION:
            raise ProtocolError("BAD_FRAME", "the master at {} answered with protocol version {} (this SDK speaks {})".format(self.address, version, VERSION))
        if length > MAX_PAYLOAD:
            raise ProtocolError("BAD_FRAME", "the master at {} announced a frame of {} bytes, over the limit of {}".format(self.address, length, MAX_PAYLOAD))
        payload = self._read_exact(length)
        try:
            body = json.loads(payload.decode("utf-8"))
        except ValueError as err:
            raise ProtocolError("BAD_JSON", "the master at {} sent invalid JSON: {}".format(self.address, err))
        if not isinstance(body, dict):
            raise ProtocolError("BAD_JSON", "the master at {} sent a frame that is not a JSON object".format(self.address))
        return opcode, body

    def _read_loop(self) -> None:
        try:
            while True:
                opcode, body = self._read_frame()
                if opcode == OP_RESPONSE:
                    self._on_response(body)
                elif opcode == OP_EVENT:
                    data = body.get("data")
                    sub_id = data.get("subscription") if isinstance(data, dict) else None
                    sub = self._subscriptions.get(sub_id) if isinstance(sub_id, int) else None
                    if sub is not None:
                        sub._push(str(body.get("event")), data)
        except TitanError as err:
            self._fail(err if isinstance(err, TitanConnectionError) else TitanConnectionError("the connection to the master at {} failed: {}".format(self.address, err)))
        except OSError as err:
            self._fail(TitanConnectionError("the connection to the master at {} broke: {}".format(self.address, _describe(err))))

    def _on_response(self, body: Dict[str, Any]) -> None:
        rid = body.get("id")
        if rid is None:
            # A connection-level error (bad frame or JSON): fail everything in flight.
            err = body.get("error") or {}
            failure = error_for(str(err.get("code", "INTERNAL")), str(err.get("message", "")), err.get("leader"))
            for key in list(self._pending):
                self._settle(key, False, failure)
            return
        if body.get("ok"):
            self._settle(rid, True, body.get("result"))
        else:
            err = body.get("error") or {}
            self._settle(rid, False, error_for(str(err.get("code", "INTERNAL")), str(err.get("message", "")), err.get("leader")))

    def _settle(self, rid: Any, ok: bool, value: Any) -> None:
        pending = self._pending.pop(rid, None)
        if pending is None:
            return
        pending.ok = ok
        pending.value = value
        pending.event.set()

    def _fail(self, error: TitanError) -> None:
        if self.closed_error is not None:
            return
        self.closed_error = error
        # The kernel-level shutdown: SSLSocket.shutdown would drop the TLS state, and a reader
        # between two reads would then read the raw socket.
        try:
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
        except OSError:
            pass
        # Closed only once the reader is done with it: a new connection may get the same
        # descriptor, and must not have its bytes read by this reader.
        reader = getattr(self, "_reader", None)
        if reader is not None and reader is not threading.current_thread():
            reader.join(5)
        try:
            self._sock.close()
        except OSError:
            pass
        for key in list(self._pending):
            self._settle(key, False, error)
        for sub in list(self._subscriptions.values()):
            sub._wake()


def tls_context_from_env(env: Optional[Dict[str, str]] = None) -> Optional[ssl.SSLContext]:
    """TLS as ``TITAN_TLS=1``, ``TITAN_CA``, ``TITAN_CERT`` and ``TITAN_KEY`` (file paths) say, read
    now; None when none is set. A CA or a client certificate implies TLS."""
    env = os.environ if env is None else env
    flag = (env.get("TITAN_TLS") or "").lower() in ("1", "true", "yes")
    ca = env.get("TITAN_CA") or None
    cert = env.get("TITAN_CERT") or None
    key = env.get("TITAN_KEY") or None
    if not (flag or ca or cert or key):
        return None
    if (cert is None) != (key is None):
        raise BadRequestError("a client certificate needs both TITAN_CERT and TITAN_KEY")
    try:
        context = ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError) as err:
        raise BadRequestError("TITAN_CA: cannot use {} as a CA file: {}".format(ca, _describe(err)))
    if cert is not None and key is not None:
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as err:
            raise BadRequestError("TITAN_CERT/TITAN_KEY: cannot load the client certificate {} with key {}: {}".format(cert, key, _describe(err)))
    return context


def _describe(err: BaseException) -> str:
    """A socket error as text: ``[Errno 111] Connection refused`` rather than its repr."""
    text = str(err)
    return text or type(err).__name__
