"""Several master addresses: the list parser, the order of the search for the leader, and a
client that reaches a real master past standbys (fake ones that refuse every HELLO with
NOT_LEADER, naming the leader or not)."""

import json
import os
import socket
import threading
import unittest
from typing import List, Optional
from unittest import mock

from titan_sdk import BadRequestError, NotLeaderError, TitanClient, TitanConnectionError
from titan_sdk._masters import LeaderSearch, format_master, parse_masters
from titan_sdk._wire import HEADER, OP_HELLO, OP_RESPONSE, encode_frame

from ._cluster import BUILT, Cluster, node_binary


class TestMasterList(unittest.TestCase):
    def test_reads_entries_in_order_with_default_port_and_ipv6_in_brackets(self) -> None:
        self.assertEqual(parse_masters("a:9091, b ,10.0.0.5:9100,[::1]:9092,[fe80::1]"), [("a", 9091), ("b", 9090), ("10.0.0.5", 9100), ("::1", 9092), ("fe80::1", 9090)])
        self.assertEqual(parse_masters(["m1:1", "m2"]), [("m1", 1), ("m2", 9090)])
        self.assertEqual(parse_masters("a:9090,a,b"), [("a", 9090), ("b", 9090)])

    def test_refuses_bad_input_naming_the_entry(self) -> None:
        cases = [
            ("", "no master address given"),
            ("a:9090,,b", "entry 2 of the master list is empty"),
            ("a:9090,b:70000", '"b:70000": the port must be from 1 to 65535'),
            ("a,b:x", '"b:x" is not a master address'),
            ("::1", "in brackets"),
        ]
        for text, message in cases:
            with self.assertRaises(BadRequestError, msg=text) as caught:
                parse_masters(text)
            self.assertIn(message, str(caught.exception))

    def test_writes_an_address_back_as_it_is_read(self) -> None:
        for text in ("a:9090", "[::1]:9091"):
            self.assertEqual(format_master(parse_masters(text)[0]), text)

    def test_titan_masters_is_read_when_no_address_is_given(self) -> None:
        with mock.patch.dict(os.environ, {"TITAN_MASTERS": "a:1,b"}):
            self.assertEqual(TitanClient()._master_list()[0], [("a", 1), ("b", 9090)])
            self.assertEqual(TitanClient(host="h", port=2)._master_list()[0], [("h", 2)])
        with mock.patch.dict(os.environ, {"TITAN_MASTERS": "a:1,,b"}):
            with self.assertRaises(BadRequestError) as caught:
                TitanClient()._master_list()
            self.assertIn("TITAN_MASTERS: entry 2 of the master list is empty", str(caught.exception))


class TestLeaderSearch(unittest.TestCase):
    def test_rounds_then_waits_doubling_to_the_cap(self) -> None:
        search = LeaderSearch([("a", 1), ("b", 1)], first=0.25, most=1.0)
        dials = [search.next() for _ in range(8)]
        self.assertEqual([m[0] for m, _ in dials], ["a", "b"] * 4)
        self.assertEqual([w for _, w in dials], [0, 0, 0.25, 0, 0.5, 0, 1.0, 0])

    def test_follows_a_hint_then_goes_on_with_the_list(self) -> None:
        search = LeaderSearch([("a", 1), ("b", 1), ("c", 1)])
        self.assertEqual(search.next()[0], ("a", 1))
        search.refused("d:9", ("a", 1))
        self.assertEqual(search.next(), (("d", 9), 0.0))
        self.assertEqual(search.next()[0], ("b", 1))


class FakeStandby(object):
    """A TCP server on loopback that answers every HELLO with NOT_LEADER and closes."""

    def __init__(self, leader: Optional[str] = None) -> None:
        self.leader = leader
        self.hellos = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = "127.0.0.1:{}".format(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                head = conn.recv(HEADER.size, socket.MSG_WAITALL)
                _v, opcode, _f, _r, length = HEADER.unpack(head)
                conn.recv(length, socket.MSG_WAITALL)
                if opcode == OP_HELLO:
                    self.hellos += 1
                    error = {"code": "NOT_LEADER", "message": "this master is a standby"}
                    if self.leader is not None:
                        error["leader"] = self.leader
                    conn.sendall(encode_frame(OP_RESPONSE, {"id": None, "ok": False, "error": error}))
            except (OSError, ValueError):
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self.sock.close()


@unittest.skipUnless(node_binary() is not None and os.path.exists(BUILT), "needs node and a built dist/ (npm run build)")
class TestFollowingTheLeader(unittest.TestCase):
    cluster = None  # type: Optional[Cluster]

    @classmethod
    def setUpClass(cls) -> None:
        cls.cluster = Cluster()
        cls.cluster.start_master()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.cluster is not None:
            cls.cluster.stop()

    def setUp(self) -> None:
        self.standbys = []  # type: List[FakeStandby]

    def tearDown(self) -> None:
        for s in self.standbys:
            s.close()

    def standby(self, leader: Optional[str] = None) -> FakeStandby:
        s = FakeStandby(leader)
        self.standbys.append(s)
        return s

    def master(self) -> str:
        assert self.cluster is not None
        return "127.0.0.1:{}".format(self.cluster.port)

    def test_passes_over_a_standby_without_a_hint(self) -> None:
        assert self.cluster is not None
        mute = self.standby()
        with TitanClient(masters=[mute.address, self.master()], token=self.cluster.token) as client:
            self.assertIn("workers", client.stats())
        self.assertEqual(mute.hellos, 1)

    def test_follows_a_hint_before_the_next_address(self) -> None:
        assert self.cluster is not None
        pointer, never = self.standby(self.master()), self.standby()
        with mock.patch.dict(os.environ, {"TITAN_MASTERS": "{},{}".format(pointer.address, never.address), "TITAN_TOKEN": self.cluster.token}):
            with TitanClient() as client:
                self.assertIn("workers", client.stats())
        self.assertEqual((pointer.hellos, never.hellos), (1, 0))

    def test_gives_up_after_the_connect_timeout_naming_the_addresses_tried(self) -> None:
        a, b = self.standby(), self.standby()
        with TitanClient(masters="{},{}".format(a.address, b.address), connect_timeout=1.5) as client:
            with self.assertRaises(TitanConnectionError) as caught:
                client.stats()
        self.assertIn("tried {}, {}".format(a.address, b.address), str(caught.exception))
        self.assertGreater(a.hellos, 1)

    def test_a_single_standby_is_asked_again_until_the_timeout_and_named_in_the_error(self) -> None:
        lone = self.standby()
        with TitanClient(masters=[lone.address], connect_timeout=0.8) as client:
            with self.assertRaises(TitanConnectionError) as caught:
                client.stats()
        self.assertIn("(tried {}); last: this master is a standby".format(lone.address), str(caught.exception))
        self.assertGreater(lone.hellos, 1)
        self.assertEqual(NotLeaderError("x", "b:1").leader, "b:1")


if __name__ == "__main__":
    unittest.main()
