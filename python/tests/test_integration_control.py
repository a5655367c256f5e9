"""Integration tests against a real master and worker (see _integration.py): controlling runs, jobs,
services and workers, and flow control (keys, limits, fairness, singleton)."""

import os
import socket
import sys
import time
import uuid
from typing import Any

from titan_sdk import (
    BadRequestError,
    NotFoundError,
    TitanClient,
    TitanConnectionError,
    TitanJob,
)

from ._integration import IntegrationTestCase, eventually, setUpModule, tearDownModule  # noqa: F401 (the module's cluster)


class TestControl(IntegrationTestCase):
    def test_cancel_retry_and_follow_logs(self) -> None:
        flaky = self.script("flaky.py", """
            import os, sys, time
            from titan_sdk import TitanClient
            n = TitanClient().incr("tries:" + os.environ["TITAN_RUN_ID"])
            for i in range(3):
                print("line", i, "try", n, flush=True)
                time.sleep(0.1)
            sys.exit(1 if n == 1 else 0)
        """)
        sleeper = self.script("sleeper.py", "import time\ntime.sleep(60)\n")
        job = TitanJob(self.jid("flaky"), flaky, retries=0)
        result = self.client.submit_job(job)
        self.assertEqual(self.client.wait_for_job(job.id, timeout=30)["status"], "DEAD")
        self.assertEqual(self.client.get_job_status(job.id), "DEAD")
        self.client.retry(job.id)
        stream = self.client.follow_logs("{}/{}".format(result.run_id, job.id), timeout=30)
        text = "".join(stream)
        self.assertEqual(stream.status, "COMPLETED")
        self.assertIn("line 2 try 2", text)

        slow = TitanJob(self.jid("sleeper"), sleeper)
        run = self.client.submit_job(slow).run_id
        eventually(lambda: self.client.status(slow.id) == "RUNNING", what="the sleeper to start")
        self.assertEqual(self.client.cancel(slow.id)["status"], "CANCELLED")
        self.assertEqual(self.client.wait_for_run(run, timeout=15)["run"]["status"], "CANCELLED")
        self.assertEqual(self.client.get_job_status("DAG-" + slow.id), "CANCELLED")

        self.assertTrue(self.client.delete_run(run))
        self.assertFalse(self.client.delete_run(run))
        with self.assertRaises(NotFoundError):
            self.client.get_run(run)

    def test_a_service_up_then_stopped(self) -> None:
        server = self.script("server.py", """
            import os, socket, time
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(os.environ["PORT"])))
            s.listen(5)
            print("serving on", os.environ["PORT"], flush=True)
            while True:
                time.sleep(1)
        """)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        svc = TitanJob(self.jid("svc"), server, job_type="SERVICE", port=port)
        result = self.client.submit_job(svc)
        view = self.client.wait_for_run(result.run_id, timeout=30, until_services_up=True)
        self.assertEqual(view["run"]["status"], "RUNNING")
        [job] = view["jobs"]
        self.assertEqual((job["status"], job["service"]["port"]), ("RUNNING", port))
        self.assertIn(svc.id, [s["jobId"] for s in self.client.services()])
        self.assertEqual(self.client.stop_service("DAG-" + svc.id), "STOPPED: DAG-" + svc.id)
        final = self.client.wait_for_run(result.run_id, timeout=15)
        self.assertNotEqual(final["run"]["status"], "RUNNING")

    def test_cluster_views(self) -> None:
        stats = self.client.stats()
        self.assertGreaterEqual(stats["workers"]["connected"], 1)
        workers = self.client.workers()
        self.assertEqual(workers[0]["capabilities"], ["GENERAL"])
        self.assertIsInstance(self.client.schedules(), list)
        self.assertIsInstance(self.client.services(), list)
        self.assertRegex(self.client.ping(), r"^\d+\.\d+")

    def test_runs_page_goes_through_every_run(self) -> None:
        tag = "paged-" + uuid.uuid4().hex[:8]
        script = self.script("p.py", "print(1)\n")
        ids = [self.client.submit_dag("paged", [TitanJob("a", script)], tags=[tag]).run_id for _ in range(3)]
        seen = []
        after = None
        while True:
            page = self.client.runs_page(limit=1, tag=tag, after=after)
            seen.extend(r["runId"] for r in page["runs"])
            if page["next"] is None:
                break
            after = page["next"]
        self.assertEqual(seen, list(reversed(ids)))

    def test_a_submission_whose_reply_was_lost_is_sent_again_and_makes_one_run(self) -> None:
        tag = "resent-" + uuid.uuid4().hex[:8]
        real = self.client._connection
        lost = []

        def connection() -> Any:
            conn = real()
            send = conn.request

            def request(method: str, params: Any, timeout: Any) -> Any:
                if method != "submit" or lost:
                    return send(method, params, timeout)
                send(method, params, timeout)
                lost.append(params["requestId"])
                conn.close()
                raise TitanConnectionError("the connection broke before the reply (test)")

            conn.request = request
            return conn

        self.client._connection = connection  # type: ignore[method-assign]
        run_id = self.client.submit_dag("resent", [TitanJob("a", self.script("r.py", "print(1)\n"))], tags=[tag]).run_id
        self.assertEqual(len(lost), 1)
        self.assertEqual([r["runId"] for r in self.client.runs_page(tag=tag)["runs"]], [run_id])

    def test_drain_and_undrain_a_worker(self) -> None:
        worker_id = self.client.workers()[0]["id"]
        try:
            self.assertEqual(self.client.drain_worker(worker_id)["state"], "draining")
        finally:
            undrained = self.client.undrain_worker(worker_id)
        self.assertEqual(undrained["state"], "connected")
        self.assertFalse(undrained["exiting"])


class TestFlowControl(IntegrationTestCase):
    def test_jobs_declare_keys_the_cluster_limits_them_and_a_bad_key_is_refused(self) -> None:
        key = "py-" + self.tag
        step = self.script("step.py", "print('step')\n")
        limits = self.client.limits_set(key, concurrency=1, rate=120, per="minute")
        self.assertIn({"key": key, "concurrency": 1, "rate": {"limit": 120, "per": "minute"}}, limits)
        try:
            jobs = [TitanJob(self.jid(n), step, concurrency={"key": key}, rate_limit={"key": "{job}", "limit": 10}) for n in ("a", "b")]
            result = self.client.submit_dag("flow", jobs, tags=["customer=acme"], fairness={"key": "tenant-{tags.customer}", "weight": 2})
            view = self.client.wait_for_run(result.run_id, timeout=30)
            done = self.assert_completed(view)
            a = done[self.jid("a")]["spec"]
            self.assertEqual((a["concurrency"], a["rateLimit"]), ({"key": key}, {"key": self.jid("a"), "limit": 10, "per": "second"}))
            # Limited to one at a time: the second started after the first ended.
            first, second = sorted(done.values(), key=lambda j: j["startedAt"])
            self.assertGreaterEqual(second["startedAt"], first["finishedAt"])
            self.assertEqual([k for k in self.client.limits_list() if k["key"] == key][0]["limit"]["concurrency"], 1)
        finally:
            self.assertTrue(self.client.limits_remove(key)["removed"])
        with self.assertRaises(BadRequestError) as caught:
            self.client.submit_dag("flow", [TitanJob(self.jid("c"), step, concurrency={"key": "tenant-{tags.customer}"})])
        self.assertIn("{tags.customer} needs a tag", str(caught.exception))
        with self.assertRaises(BadRequestError) as caught:
            self.client.limits_set(key, rate=5, per="fortnight")
        self.assertIn("rate.per", str(caught.exception))

    def test_a_singleton_submission_answers_with_the_run_holding_its_key(self) -> None:
        slow = self.script("slow.py", "import time\ntime.sleep(30)\n")
        key = "once-{name}-" + self.tag
        first = self.client.submit_dag("nightly", [TitanJob(self.jid("slow"), slow)], singleton=key)
        try:
            self.assertIsNone(first.singleton)
            again = self.client.submit_dag("nightly", [TitanJob(self.jid("slow2"), slow)], singleton=key)
            self.assertEqual(again.run_id, first.run_id)
            self.assertEqual(again.singleton, {"key": "once-nightly-" + self.tag, "heldBy": first.run_id})
        finally:
            self.client.cancel_run(first.run_id)
