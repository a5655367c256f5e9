"""The sub-clients of TitanClient and the flat methods kept beside them (no master needed)."""

import unittest
from unittest import mock

from titan_sdk import TitanClient
from titan_sdk._agent import AgentRunClient
from titan_sdk._artifact import ArtifactClient
from titan_sdk._file import FileClient
from titan_sdk._gate import GateClient
from titan_sdk._job import JobClient
from titan_sdk._limits import LimitClient
from titan_sdk._run import RunClient
from titan_sdk._schedule import ScheduleClient
from titan_sdk._service import ServiceClient
from titan_sdk._store import StoreClient
from titan_sdk._worker import WorkerClient

#: Passed through untouched: the patched sub-client method never reads it.
JOB = object()

#: One flat name per sub-client: the sub-client, its method, the arguments, and what the sub-client method receives.
ALIASES = [
    ("get_run", "run", RunClient, "get", ("run-1",), ("run-1",)),
    ("submit_dag", "run", RunClient, "submit", ("nightly", [JOB]), ("nightly", [JOB], None, None, None, None, None, None)),
    ("retry", "job", JobClient, "retry", ("run-1/a",), ("run-1/a",)),
    ("approve", "gate", GateClient, "approve", ("run-1/gate", "ok"), ("run-1/gate", "ok")),
    ("drain_worker", "worker", WorkerClient, "drain", ("w1",), ("w1",)),
    ("stop_service", "service", ServiceClient, "stop", ("api",), ("api",)),
    ("pause_schedule", "schedule", ScheduleClient, "pause", ("nightly",), ("nightly",)),
    ("agent_runs", "agent", AgentRunClient, "list", (5,), (5,)),
    ("cas", "store", StoreClient, "cas", ("k", None, "v", 1.5), ("k", None, "v", 1.5)),
    ("list_artifacts", "artifact", ArtifactClient, "list", ("out/",), ("out/", None, 1000)),
    ("list_files", "file", FileClient, "list", ("scripts",), ("scripts",)),
    ("limits_list", "limits", LimitClient, "list", (), ()),
    ("limits_set", "limits", LimitClient, "set", ("openai", 4), ("openai", 4, None, None, None, None)),
    ("limits_remove", "limits", LimitClient, "remove", ("openai",), ("openai",)),
]


class TestSubClients(unittest.TestCase):
    def test_each_flat_method_delegates_to_its_sub_client(self) -> None:
        client = TitanClient("127.0.0.1", 9)
        for flat, attr, cls, method, args, received in ALIASES:
            with self.subTest(flat=flat):
                self.assertIsInstance(getattr(client, attr), cls)
                sentinel = object()
                with mock.patch.object(cls, method, autospec=True, return_value=sentinel) as spy:
                    self.assertIs(getattr(client, flat)(*args), sentinel)
                called_self, *called_args = spy.call_args.args
                self.assertIs(called_self._client, client)
                self.assertEqual(tuple(called_args) + tuple(spy.call_args.kwargs.values()), received)

    def test_sub_clients_send_through_the_clients_call(self) -> None:
        client = TitanClient("127.0.0.1", 9)
        with mock.patch.object(client, "call", return_value={"value": "v", "version": 3}) as call:
            self.assertEqual(client.store.get("k"), "v")
            client.run.get("run-1")
            client.store.wait("k", timeout=2)
        self.assertEqual(
            call.call_args_list,
            [mock.call("kv.get", {"key": "k"}), mock.call("run.get", {"runId": "run-1"}), mock.call("kv.wait", {"key": "k", "timeoutMs": 2000}, 32)],
        )

    def test_limits_send_the_cluster_limit_as_the_master_takes_it(self) -> None:
        client = TitanClient("127.0.0.1", 9)
        with mock.patch.object(client, "call", return_value={"keys": [], "limits": [], "removed": True}) as call:
            self.assertEqual(client.limits.list(), [])
            self.assertEqual(client.limits_set("openai", concurrency=4, rate=60, per="minute", burst=10, weight=2), [])
            client.limits_set("db", rate=5)
            self.assertEqual(client.limits_remove("openai"), {"keys": [], "limits": [], "removed": True})
        self.assertEqual(
            call.call_args_list,
            [
                mock.call("limits.list", {}),
                mock.call("limits.set", {"key": "openai", "concurrency": 4, "rate": {"limit": 60, "per": "minute", "burst": 10}, "weight": 2}),
                mock.call("limits.set", {"key": "db", "rate": {"limit": 5}}),
                mock.call("limits.remove", {"key": "openai"}),
            ],
        )

    def test_titan_names_keep_their_replies(self) -> None:
        client = TitanClient("127.0.0.1", 9)
        with mock.patch.object(StoreClient, "get", autospec=True, return_value=None):
            self.assertEqual(client.store_get("k"), "NULL")
        with mock.patch.object(JobClient, "status", autospec=True, return_value="SKIPPED"):
            self.assertEqual(client.get_job_status("a"), "CANCELLED")


if __name__ == "__main__":
    unittest.main()
