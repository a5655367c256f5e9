"""Unit tests of the v2 wire against a scripted fake master on loopback: frames, HELLO with the
token, request ids, typed errors, subscription events, connection failures, and the address
read from the environment at call time."""

import base64
import hashlib
import json
import os
import socket
import struct
import threading
import unittest
from typing import Any, Callable, Dict, List, Optional, Tuple

import titan_sdk.titan_sdk as titan_module
from titan_sdk import (
    BadRequestError,
    ConflictError,
    InvalidDagError,
    NotFoundError,
    ProtocolError,
    TitanClient,
    TitanConnectionError,
    TitanError,
    TitanTimeoutError,
    UnauthorizedError,
)

HEADER = struct.Struct(">BBBBI")


def read_frame(conn: socket.socket) -> Optional[Tuple[int, int, Dict[str, Any]]]:
    head = b""
    while len(head) < 8:
        chunk = conn.recv(8 - len(head))
        if not chunk:
            return None
        head += chunk
    version, opcode, _, _, length = HEADER.unpack(head)
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return version, opcode, json.loads(body.decode("utf-8"))


def send_frame(conn: socket.socket, opcode: int, body: Dict[str, Any], version: int = 2) -> None:
    payload = json.dumps(body).encode("utf-8")
    conn.sendall(HEADER.pack(version, opcode, 0, 0, len(payload)) + payload)


Handler = Callable[[socket.socket, Dict[str, Any]], None]


class FakeMaster(object):
    """Accepts connections; answers HELLO (or refuses a wrong token) and hands each request to
    ``handler(conn, request)``. Records every HELLO and request it saw."""

    def __init__(self, handler: Handler, token: Optional[str] = "secret") -> None:
        self.handler = handler
        self.token = token
        self.hellos = []  # type: List[Dict[str, Any]]
        self.requests = []  # type: List[Dict[str, Any]]
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn: socket.socket) -> None:
        with conn:
            frame = read_frame(conn)
            if frame is None:
                return
            _, opcode, hello = frame
            self.hellos.append(hello)
            if self.token is not None and hello.get("token") != self.token:
                send_frame(conn, 0x22, {"id": hello["id"], "ok": False, "error": {"code": "UNAUTHORIZED", "message": "invalid token"}})
                return
            send_frame(conn, 0x22, {"id": hello["id"], "ok": True, "result": {"version": 2, "serverVersion": "9.9.9"}})
            while True:
                frame = read_frame(conn)
                if frame is None:
                    return
                self.requests.append(frame[2])
                try:
                    self.handler(conn, frame[2])
                except OSError:
                    return

    def close(self) -> None:
        self.sock.close()


def reply(conn: socket.socket, req: Dict[str, Any], result: Any) -> None:
    send_frame(conn, 0x22, {"id": req["id"], "ok": True, "result": result})


def fail(conn: socket.socket, req: Dict[str, Any], code: str, message: str) -> None:
    send_frame(conn, 0x22, {"id": req["id"], "ok": False, "error": {"code": code, "message": message}})


class WireTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.saved_env = {k: os.environ.get(k) for k in ("TITAN_HOST", "TITAN_PORT", "TITAN_TOKEN")}
        self.masters = []  # type: List[FakeMaster]
        self.clients = []  # type: List[TitanClient]

    def tearDown(self) -> None:
        for c in self.clients:
            c.close()
        for m in self.masters:
            m.close()
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for name in ("TITAN_HOST", "TITAN_PORT"):
            vars(titan_module).pop(name, None)

    def master(self, handler: Handler, token: Optional[str] = "secret") -> FakeMaster:
        m = FakeMaster(handler, token)
        self.masters.append(m)
        return m

    def client(self, master: FakeMaster, token: Optional[str] = "secret", **kwargs: Any) -> TitanClient:
        c = TitanClient("127.0.0.1", master.port, token, **kwargs)
        self.clients.append(c)
        return c


class TestFramesAndHello(WireTestCase):
    def test_hello_then_requests_on_one_persistent_connection(self) -> None:
        m = self.master(lambda conn, req: reply(conn, req, {"method": req["method"], "params": req["params"]}))
        c = self.client(m)
        self.assertEqual(c.call("stats"), {"method": "stats", "params": {}})
        self.assertEqual(c.call("kv.get", {"key": "k"}), {"method": "kv.get", "params": {"key": "k"}})
        self.assertEqual(m.connections, 1)
        self.assertEqual(m.hellos, [{"id": 0, "token": "secret", "role": "client", "versions": [2]}])
        ids = [r["id"] for r in m.requests]
        self.assertEqual(len(set(ids)), 2)
        self.assertEqual(c.ping(), "9.9.9")

    def test_a_wrong_token_is_unauthorized_with_the_masters_message(self) -> None:
        m = self.master(lambda conn, req: None)
        with self.assertRaises(UnauthorizedError) as caught:
            self.client(m, token="wrong").stats()
        self.assertEqual((caught.exception.code, str(caught.exception)), ("UNAUTHORIZED", "invalid token"))

    def test_without_a_token_the_hello_carries_none(self) -> None:
        m = self.master(lambda conn, req: reply(conn, req, {}), token=None)
        os.environ.pop("TITAN_TOKEN", None)
        self.client(m, token=None).stats()
        self.assertNotIn("token", m.hellos[0])

    def test_responses_in_any_order_reach_their_callers(self) -> None:
        held = []  # type: List[Dict[str, Any]]

        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            held.append(req)
            if len(held) == 2:
                for r in reversed(held):
                    reply(conn, r, r["params"]["n"])

        c = self.client(self.master(handler))
        conn = c._connection()
        first = conn.begin("echo", {"n": 1})
        second = conn.begin("echo", {"n": 2})
        self.assertEqual((conn.wait(*first), conn.wait(*second)), (1, 2))

    def test_a_frame_of_another_version_breaks_the_connection_clearly(self) -> None:
        m = self.master(lambda conn, req: send_frame(conn, 0x22, {"id": req["id"], "ok": True}, version=1))
        with self.assertRaises(TitanConnectionError) as caught:
            self.client(m).stats()
        self.assertIn("protocol version 1", str(caught.exception))


class TestErrors(WireTestCase):
    def test_each_code_is_its_own_class_with_the_masters_message(self) -> None:
        codes = {
            "NOT_FOUND": NotFoundError,
            "BAD_REQUEST": BadRequestError,
            "CONFLICT": ConflictError,
            "INVALID_DAG": InvalidDagError,
            "UNKNOWN_METHOD": ProtocolError,
        }
        m = self.master(lambda conn, req: fail(conn, req, req["params"]["code"], "the message for " + req["params"]["code"]))
        c = self.client(m)
        for code, cls in codes.items():
            with self.assertRaises(cls) as caught:
                c.call("x", {"code": code})
            self.assertIsInstance(caught.exception, TitanError)
            self.assertEqual(caught.exception.code, code)
            self.assertEqual(str(caught.exception), "the message for " + code)
        with self.assertRaises(TitanError) as caught:
            c.call("x", {"code": "SOMETHING_NEW"})
        self.assertEqual(caught.exception.code, "SOMETHING_NEW")
        # The connection survives error replies.
        self.assertEqual(m.connections, 1)


class TestConnectionFailures(WireTestCase):
    def test_nothing_listening_names_the_address(self) -> None:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(TitanConnectionError) as caught:
            TitanClient("127.0.0.1", port).stats()
        self.assertRegex(str(caught.exception), r"^cannot reach the master at 127\.0\.0\.1:{}: ".format(port))
        self.assertEqual(caught.exception.code, "UNAVAILABLE")
        self.assertIsInstance(caught.exception, ConnectionError)

    def test_a_master_that_never_greets_times_out(self) -> None:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        with self.assertRaisesRegex(TitanConnectionError, "did not answer the greeting within 0.3 s"):
            TitanClient("127.0.0.1", s.getsockname()[1], connect_timeout=0.3).stats()

    def test_a_dropped_connection_fails_the_call_and_the_next_call_reconnects(self) -> None:
        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            if req["method"] == "drop":
                conn.shutdown(socket.SHUT_RDWR)
                raise OSError("dropped")
            reply(conn, req, "fine")

        m = self.master(handler)
        c = self.client(m)
        with self.assertRaisesRegex(TitanConnectionError, "127.0.0.1:{}".format(m.port)):
            c.call("drop")
        self.assertEqual(c.call("stats"), "fine")
        self.assertEqual(m.connections, 2)

    def test_a_request_timeout(self) -> None:
        c = self.client(self.master(lambda conn, req: None))
        with self.assertRaisesRegex(TitanTimeoutError, "within 0.2 s"):
            c.call("slow", {}, timeout=0.2)


class TestSubscriptions(WireTestCase):
    def test_events_that_come_before_the_response_are_kept(self) -> None:
        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            if req["method"] == "logs.follow":
                send_frame(conn, 0x23, {"event": "log", "data": {"subscription": req["id"], "attempt": 1, "data": "one\n"}})
                reply(conn, req, {"subscription": req["id"]})
                send_frame(conn, 0x23, {"event": "log", "data": {"subscription": 999, "attempt": 1, "data": "not ours\n"}})
                send_frame(conn, 0x23, {"event": "log", "data": {"subscription": req["id"], "attempt": 2, "data": "two\n"}})
                send_frame(conn, 0x23, {"event": "log.end", "data": {"subscription": req["id"], "status": "COMPLETED"}})
            elif req["method"] == "unsubscribe":
                reply(conn, req, {"ok": True})

        m = self.master(handler)
        stream = self.client(m).follow_logs("DAG-job")
        self.assertEqual(list(stream), ["one\n", "two\n"])
        self.assertEqual((stream.status, stream.attempt), ("COMPLETED", 2))
        self.assertEqual(m.requests[0]["params"], {"ref": "DAG-job"})

    def test_wait_for_run_follows_events_to_the_end(self) -> None:
        def job(status: str) -> Dict[str, Any]:
            return {"spec": {"id": "a"}, "status": status, "service": None}

        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            if req["method"] == "run.watch":
                sub = req["id"]
                reply(conn, req, {"subscription": sub, "snapshot": {"run": {"runId": "r1", "status": "RUNNING"}, "jobs": [job("QUEUED")]}})
                send_frame(conn, 0x23, {"event": "run.jobs", "data": {"subscription": sub, "jobs": [job("RUNNING")]}})
                send_frame(conn, 0x23, {"event": "run.jobs", "data": {"subscription": sub, "jobs": [job("COMPLETED")]}})
                send_frame(conn, 0x23, {"event": "run.update", "data": {"subscription": sub, "run": {"runId": "r1", "status": "COMPLETED"}}})

        seen = []  # type: List[str]
        view = self.client(self.master(handler)).wait_for_run("r1", on_event=lambda kind, value: seen.append(kind))
        self.assertEqual(view["run"]["status"], "COMPLETED")
        self.assertEqual([j["status"] for j in view["jobs"]], ["COMPLETED"])
        self.assertEqual(seen, ["job", "job", "run"])

    def test_wait_for_run_with_a_timeout(self) -> None:
        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            if req["method"] == "run.watch":
                reply(conn, req, {"subscription": req["id"], "snapshot": {"run": {"runId": "r1", "status": "RUNNING"}, "jobs": []}})

        with self.assertRaisesRegex(TitanTimeoutError, "run r1 did not finish within 0.2 s"):
            self.client(self.master(handler)).wait_for_run("r1", timeout=0.2)

    def test_wait_for_job_with_a_timeout(self) -> None:
        running = {"spec": {"id": "a"}, "status": "RUNNING", "runId": "r1", "ref": "r1/a"}

        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            if req["method"] == "job.get":
                reply(conn, req, {"job": running, "attempts": []})
            elif req["method"] == "run.watch":
                sub = req["id"]
                reply(conn, req, {"subscription": sub, "snapshot": {"run": {"runId": "r1", "status": "RUNNING"}, "jobs": [running]}})
                send_frame(conn, 0x23, {"event": "run.jobs", "data": {"subscription": sub, "jobs": [running]}})

        with self.assertRaisesRegex(TitanTimeoutError, "job r1/a did not finish within 0.2 s"):
            self.client(self.master(handler)).wait_for_job("r1/a", timeout=0.2)


class TestPagedReads(WireTestCase):
    def test_logs_are_read_page_by_page_from_the_attempt_the_first_page_named(self) -> None:
        pages = {0: ("one\n", 4), 4: ("two\n", 8), 8: ("", 8)}

        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            data, next_offset = pages[req["params"]["offset"]]
            reply(conn, req, {"attempt": 2, "data": data, "nextOffset": next_offset})

        m = self.master(handler)
        self.assertEqual(self.client(m).job.logs("r1/a"), "one\ntwo\n")
        self.assertEqual([r["params"] for r in m.requests], [{"ref": "r1/a", "offset": 0}, {"ref": "r1/a", "offset": 4, "attempt": 2}, {"ref": "r1/a", "offset": 8, "attempt": 2}])

    def test_an_artifact_is_read_in_chunks_of_the_content_the_first_chunk_named(self) -> None:
        content = b"hello artifact"
        sha = hashlib.sha256(content).hexdigest()

        def handler(conn: socket.socket, req: Dict[str, Any]) -> None:
            offset = req["params"]["offset"]
            part = content[offset:offset + 8]
            reply(conn, req, {"artifact": {"key": "k", "sha256": sha, "size": len(content)}, "data": base64.b64encode(part).decode("ascii"), "nextOffset": offset + len(part)})

        m = self.master(handler)
        self.assertEqual(self.client(m).artifact.read("k"), content)
        self.assertEqual([r["params"] for r in m.requests], [{"key": "k", "offset": 0}, {"key": "k", "offset": 8, "sha256": sha}])


class TestAddress(WireTestCase):
    def test_the_environment_is_read_when_the_connection_opens(self) -> None:
        m = self.master(lambda conn, req: reply(conn, req, "ok"), token="env-token")
        c = TitanClient()
        self.clients.append(c)
        os.environ.update({"TITAN_HOST": "127.0.0.1", "TITAN_PORT": str(m.port), "TITAN_TOKEN": "env-token"})
        self.assertEqual(c.call("stats"), "ok")
        self.assertEqual(m.hellos[0]["token"], "env-token")

    def test_titans_module_globals_reflect_the_environment(self) -> None:
        os.environ.update({"TITAN_HOST": "10.1.2.3", "TITAN_PORT": "9191"})
        self.assertEqual((titan_module.TITAN_HOST, titan_module.TITAN_PORT), ("10.1.2.3", 9191))
        from titan_sdk.titan_sdk import TITAN_HOST, TITAN_PORT, TitanClient as C, TitanJob as J  # noqa: F401

        self.assertEqual((TITAN_HOST, TITAN_PORT), ("10.1.2.3", 9191))

    def test_assigned_module_globals_are_honoured(self) -> None:
        m = self.master(lambda conn, req: reply(conn, req, "ok"))
        os.environ.update({"TITAN_HOST": "192.0.2.1", "TITAN_PORT": "1"})
        titan_module.TITAN_HOST = "127.0.0.1"
        titan_module.TITAN_PORT = m.port
        c = TitanClient(token="secret")
        self.clients.append(c)
        self.assertEqual(c.call("stats"), "ok")

    def test_a_bad_port_in_the_environment_is_a_bad_request(self) -> None:
        os.environ["TITAN_PORT"] = "ninety"
        with self.assertRaisesRegex(BadRequestError, "TITAN_PORT must be a port number"):
            TitanClient().stats()


if __name__ == "__main__":
    unittest.main()
