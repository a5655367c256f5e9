"""Integration tests against a real master and worker (see _integration.py): DAGs with fan-out and
fan-in, a job that uses the SDK from inside itself, submit_yaml with a wait, artifacts, gates, files
and archives, and connection failures."""

import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import unittest
from typing import Any, Dict, Optional

from titan_sdk import (
    InvalidDagError,
    NotFoundError,
    SubmitResult,
    TitanClient,
    TitanConnectionError,
    TitanJob,
    TitanTimeoutError,
    UnauthorizedError,
)

from ._cluster import PYTHON_DIR
from ._integration import IntegrationTestCase, eventually, setUpModule, tearDownModule  # noqa: F401 (the module's cluster)


class TestDag(IntegrationTestCase):
    def test_fan_out_and_fan_in(self) -> None:
        step = self.script("step.py", """
            import sys, time
            time.sleep(0.2)
            print("step", " ".join(sys.argv[1:]))
        """)
        root, join = self.jid("root"), self.jid("join")
        parts = [self.jid("part{}".format(i)) for i in range(3)]
        jobs = [TitanJob(root, step, args="root")]
        jobs += [TitanJob(p, step, args=["part", str(i)], parents=["DAG-" + root]) for i, p in enumerate(parts)]
        jobs.append(TitanJob(join, step, args="join|all", parents=parts, priority=5))
        result = self.client.submit_dag("fan", jobs)
        self.assertIsInstance(result, SubmitResult)
        self.assertEqual(result, "DAG_ACCEPTED")
        self.assertNotIn("ERROR", result)
        self.assertEqual(self.client.last_run_id, result.run_id)
        self.assertEqual(sorted(result.jobs), sorted([root, join] + parts))
        view = self.client.wait_for_run(result.run_id, timeout=30)
        jobs_by_id = self.assert_completed(view)
        # Fan-out: every part started after the root ended; fan-in: the join after every part.
        for p in parts:
            self.assertGreaterEqual(jobs_by_id[p]["startedAt"], jobs_by_id[root]["finishedAt"])
            self.assertGreaterEqual(jobs_by_id[join]["startedAt"], jobs_by_id[p]["finishedAt"])
        self.assertEqual(self.client.get_job_status("DAG-" + join), "COMPLETED")
        self.assertEqual(self.client.get_job_status(join), "COMPLETED")
        self.assertIn("step part 1", self.client.fetch_logs("DAG-" + parts[1]))
        self.assertIn("step join all", self.client.fetch_logs(join))

    def test_a_cycle_is_refused_with_the_masters_message(self) -> None:
        step = self.script("step.py", "print('x')\n")
        a, b = self.jid("a"), self.jid("b")
        with self.assertRaises(InvalidDagError) as caught:
            self.client.submit_dag("cycle", [TitanJob(a, step, parents=[b]), TitanJob(b, step, parents=[a])])
        self.assertIn("cycle", str(caught.exception))

    def test_unknown_jobs_and_keys_read_like_titan(self) -> None:
        self.assertEqual(self.client.get_job_status("DAG-nothing-" + self.tag), "NULL")
        with self.assertRaises(NotFoundError):
            self.client.status("nothing-" + self.tag)
        self.assertEqual(self.client.store_get("absent:" + self.tag), "NULL")
        self.assertIsNone(self.client.store_get("absent:" + self.tag, default=None))
        self.assertIsNone(self.client.get("absent:" + self.tag))
        self.assertEqual(self.client.store_put("present:" + self.tag, "v"), "OK")
        self.assertEqual(self.client.store_get("present:" + self.tag), "v")
        self.assertEqual(self.client.store_sadd("set:" + self.tag, "m1"), 1)
        self.assertEqual(self.client.store_sadd("set:" + self.tag, "m1"), 0)
        self.assertEqual(self.client.store_smembers("set:" + self.tag), ["m1"])
        self.assertEqual(self.client.store_smembers("noset:" + self.tag), [])


class TestDataBus(IntegrationTestCase):
    def test_native_kv_calls_and_waiting_for_a_value(self) -> None:
        key = "bus:" + self.tag
        self.assertEqual(self.client.incr(key + ":n", 5), 5)
        self.assertTrue(self.client.cas(key + ":c", None, "first"))
        self.assertFalse(self.client.cas(key + ":c", "other", "second"))
        self.assertEqual(self.client.get(key + ":c"), "first")
        self.assertEqual(sorted(k["key"] for k in self.client.keys("bus:" + self.tag)), [key + ":c", key + ":n"])
        self.assertTrue(self.client.delete(key + ":c"))
        self.assertFalse(self.client.delete(key + ":c"))
        writer = TitanClient()
        self.addCleanup(writer.close)
        timer = threading.Timer(0.3, lambda: writer.set(key, "ready"))
        timer.start()
        self.addCleanup(timer.cancel)
        started = time.monotonic()
        self.assertEqual(self.client.wait_for_value(key, timeout=10), "ready")
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        with self.assertRaises(TitanTimeoutError):
            self.client.wait_for_value(key + ":never", timeout=0.3)


class TestInsideAJob(IntegrationTestCase):
    def test_kv_handoff_extend_run_and_publish_artifact_from_inside_jobs(self) -> None:
        producer, consumer, extra = self.jid("producer"), self.jid("consumer"), self.jid("extra")
        producer_py = self.script("producer.py", """
            import os, sys
            from titan_sdk import TitanClient, TitanJob
            from titan_sdk.titan_sdk import TITAN_HOST, TITAN_PORT
            run = os.environ["TITAN_RUN_ID"]
            client = TitanClient()
            print("talking to", TITAN_HOST, TITAN_PORT)
            assert client.store_put("handoff:" + run, "42") == "OK"
            with open("result.txt", "w") as f:
                f.write("payload from " + os.environ["TITAN_JOB_ID"])
            assert client.publish_artifact("py-sdk/" + run + "/result.txt", "result.txt") is True
            with open("extra.py", "w") as f:
                f.write("print('extra ran after', %r)\\n" % os.environ["TITAN_JOB_ID"])
            added = client.extend_run([TitanJob(sys.argv[1], "extra.py", parents=[os.environ["TITAN_JOB_ID"]])])
            print("extended", added["runId"] == run, added["jobs"])
        """)
        consumer_py = self.script("consumer.py", """
            import os
            from titan_sdk import TitanClient
            client = TitanClient()
            value = client.store_get("handoff:" + os.environ["TITAN_RUN_ID"])
            if value != "NULL":
                print("got", value)
            print("missing reads", client.store_get("never-set:" + os.environ["TITAN_RUN_ID"]))
        """)
        result = self.client.submit_dag("inside", [
            TitanJob(producer, producer_py, args=[extra]),
            TitanJob(consumer, consumer_py, parents=[producer]),
        ])
        view = self.client.wait_for_run(result.run_id, timeout=30)
        jobs = self.assert_completed(view)
        self.assertIn(extra, jobs)
        self.assertEqual(jobs[extra]["spec"]["dependsOn"], [producer])
        run = result.run_id
        self.assertIn("extended True", self.client.logs("{}/{}".format(run, producer)))
        self.assertIn("extra ran after", self.client.logs("{}/{}".format(run, extra)))
        consumer_log = self.client.logs("{}/{}".format(run, consumer))
        self.assertIn("got 42", consumer_log)
        self.assertIn("missing reads NULL", consumer_log)
        key = "py-sdk/{}/result.txt".format(run)
        self.assertEqual(self.client.read_artifact(key), ("payload from " + producer).encode())
        [info] = self.client.list_artifacts(prefix="py-sdk/{}/".format(run))
        self.assertEqual((info["runId"], info["jobId"], info["attempt"]), (run, producer, 1))
        dest = os.path.join(self.dir, "fetched.txt")
        self.assertTrue(self.client.get_artifact(key, dest))
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), ("payload from " + producer).encode())


class TestYaml(IntegrationTestCase):
    def write_pipeline(self, folder: str, text: str) -> str:
        path = os.path.join(folder, "pipeline.yaml")
        os.makedirs(folder, exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip())
        return path

    def test_submit_yaml_waits_for_the_run(self) -> None:
        self.script("flow/scripts/greet.py", "import sys\nprint('hello', *sys.argv[1:])\n")
        self.script("flow/scripts/done.py", "import time\ntime.sleep(0.3)\nprint('done')\n")
        path = self.write_pipeline(os.path.join(self.dir, "flow"), """
            name: yaml-{tag}
            jobs:
              - id: greet-{tag}
                file: scripts/greet.py
                args: "--name 'Ada Lovelace'"
              - id: done-{tag}
                file: scripts/done.py
                depends_on: [greet-{tag}]
        """.format(tag=self.tag))
        result = self.client.submit_yaml(path, wait=True, timeout=30)
        self.assertEqual(result, "DAG_ACCEPTED")
        assert isinstance(result, SubmitResult)
        self.assertEqual(result.status, "COMPLETED")
        self.assertTrue(result.ok)
        self.assertEqual(self.client.get_job_status("DAG-done-" + self.tag), "COMPLETED")
        self.assertIn("hello --name Ada Lovelace", self.client.logs("{}/greet-{}".format(result.run_id, self.tag)))

    def test_submit_yaml_project_mode_and_the_deploy_command(self) -> None:
        folder = os.path.join(self.dir, "proj")
        self.script("proj/src/main.py", """
            import os, sys
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            print("args", sys.argv[1:], "env-file", os.path.exists(os.path.join(root, ".env")), "helper", os.path.exists(os.path.join(root, "lib", "helper.txt")))
        """)
        self.script("proj/lib/helper.txt", "help\n")
        self.script("proj/.env", "SECRET=1\n")
        self.script("proj/big.log", "x\n")
        self.script("proj/.titanignore", "*.log\n")
        path = self.write_pipeline(folder, """
            name: proj-{tag}
            project: true
            jobs:
              - id: main-{tag}
                file: src/main.py
                args: [one, "two words"]
              - id: gate-{tag}
                type: approval
                message: never asked
                depends_on: [missing-on-purpose]
        """.format(tag=self.tag))
        # The master validates the pipeline: an unknown parent is refused with its message.
        with self.assertRaises(InvalidDagError):
            self.client.submit_yaml(path)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.split("  - id: gate-")[0])
        env = dict(os.environ)
        env["PYTHONPATH"] = PYTHON_DIR
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        done = subprocess.run([sys.executable, "-m", "titan_sdk", "deploy", path, "--wait", "--timeout", "30"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = done.stdout.decode()
        self.assertEqual(done.returncode, 0, out)
        self.assertIn("Deploy Response: DAG_ACCEPTED", out)
        self.assertIn("COMPLETED", out)
        log = self.client.fetch_logs("main-" + self.tag)
        self.assertIn("args ['one', 'two words'] env-file False helper True", log)

    def test_a_pipeline_with_a_schedule_is_registered(self) -> None:
        self.script("cron/job.py", "print('tick')\n")
        name = "cron-" + self.tag
        path = self.write_pipeline(os.path.join(self.dir, "cron"), """
            name: {name}
            schedule: "0 0 1 1 *"
            jobs:
              - id: tick
                file: job.py
        """.format(name=name))
        result = self.client.submit_yaml(path)
        self.assertEqual(result, "SCHEDULED")
        self.assertIn(name, [s["name"] for s in self.client.schedules()])
        run_id = self.client.run_schedule_now(name)
        self.assert_completed(self.client.wait_for_run(run_id, timeout=30))
        self.assertEqual(self.client.delete_schedule(name)["name"], name)

    def test_a_yaml_error_names_the_line(self) -> None:
        path = self.write_pipeline(os.path.join(self.dir, "bad"), "name: bad\njobs:\n  - id: x\n    fiel: a.py\n")
        with self.assertRaises(Exception) as caught:
            self.client.submit_yaml(path)
        self.assertIn("pipeline.yaml:4", str(caught.exception))
        self.assertIn("fiel", str(caught.exception))


class TestArtifactsAndFiles(IntegrationTestCase):
    def test_artifacts_up_and_down_in_chunks(self) -> None:
        content = os.urandom(2 * 1024 * 1024 + 12345)
        key = "py-sdk/{}/blob.bin".format(self.tag)
        info = self.client.put_artifact(key, content)
        self.assertEqual(info["size"], len(content))
        self.assertEqual(self.client.read_artifact(key), content)
        dest = os.path.join(self.dir, "blob.bin")
        self.assertEqual(self.client.download_artifact(key, dest)["sha256"], info["sha256"])
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertFalse(os.path.exists(dest + ".part"))
        path = os.path.join(self.dir, "report.txt")
        with open(path, "w") as f:
            f.write("report")
        self.assertTrue(self.client.publish_artifact("py-sdk/{}/report.txt".format(self.tag), path))
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.dir)
        self.assertTrue(self.client.fetch_artifact("py-sdk/{}/report.txt".format(self.tag)))
        with open(os.path.join(self.dir, "report.txt")) as f:
            self.assertEqual(f.read(), "report")
        self.assertFalse(self.client.get_artifact("py-sdk/{}/nothing".format(self.tag), os.path.join(self.dir, "x")))
        self.assertFalse(self.client.fetch_artifact("nothing-{}.bin".format(self.tag), os.path.join(self.dir, "y")))
        self.assertTrue(self.client.delete_artifact(key))
        with self.assertRaises(NotFoundError):
            self.client.read_artifact(key)

    def test_titan_style_pointer_artifacts_and_uploads(self) -> None:
        path = self.script("model-{}.bin".format(self.tag), "weights")
        self.assertEqual(self.client.upload_file(path), "UPLOAD_SUCCESS")
        self.client.store_put("model:" + self.tag, os.path.basename(path))
        dest = os.path.join(self.dir, "model.out")
        self.assertTrue(self.client.get_artifact("model:" + self.tag, dest))
        with open(dest) as f:
            self.assertEqual(f.read(), "weights")
        self.assertIn(os.path.basename(path), [f["name"] for f in self.client.list_files("uploads")])
        self.assertEqual(self.client.deploy_script(path), "DEPLOY_SUCCESS")
        self.assertEqual(self.client.get_file("scripts", os.path.basename(path)), b"weights")
        with self.assertRaises(FileNotFoundError):
            self.client.upload_file(os.path.join(self.dir, "missing.bin"))

    def test_archive_jobs_from_an_uploaded_project_folder(self) -> None:
        self.script("app/src/main.py", "import sys, os\nprint('archive', sys.argv[1:], os.path.basename(os.getcwd()))\n")
        self.script("app/.git/config", "secret")
        self.assertEqual(self.client.upload_project_folder(os.path.join(self.dir, "app"), "app-" + self.tag), "UPLOAD_SUCCESS")
        job = TitanJob(self.jid("arch"), "app-{}.zip/src/main.py".format(self.tag), is_archive=True, args="--x 1")
        result = self.client.submit_job(job)
        self.assertEqual(result, "DAG_ACCEPTED")
        self.assert_completed(self.client.wait_for_run(result.run_id, timeout=30))
        self.assertIn("archive ['--x', '1'] src", self.client.fetch_logs(job.id))
        with self.assertRaisesRegex(NotFoundError, "upload it first"):
            self.client.submit_job(TitanJob(self.jid("none"), "nope-{}.zip/a.py".format(self.tag), is_archive=True))


class TestGates(IntegrationTestCase):
    def gated_run(self) -> SubmitResult:
        step = self.script("step.py", "print('ran')\n")
        self.src, self.child = self.jid("src"), self.jid("child")
        return self.client.submit_dag("gated", [
            TitanJob(self.src, step, hitl_message="Ship it?", max_wait_seconds=600),
            TitanJob(self.child, step, parents=["DAG-" + self.src]),
        ])

    def wait_for_gate(self, run_id: str) -> Dict[str, Any]:
        def pending() -> Optional[Dict[str, Any]]:
            for gate in self.client.list_gates()["pending"]:
                if gate["runId"] == run_id:
                    return gate
            return None

        return eventually(pending, what="the gate to open")

    def test_a_gate_approved_through_approve(self) -> None:
        result = self.gated_run()
        gate = self.wait_for_gate(result.run_id)
        self.assertEqual((gate["jobId"], gate["message"]), ("hitl-gate-" + self.src, "Ship it?"))
        self.assertEqual(self.client.get_job_status(self.child), "PENDING")
        self.assertEqual(self.client.get_job_status("hitl-gate-" + self.src), "PENDING")
        # The decision is recorded under the name of the token that made it, never a name the client types.
        created = self.client.call("token.create", {"name": "tester-" + self.tag, "roles": ["approver"], "expiresAt": None})
        tester = TitanClient(token=created["token"])
        decision = tester.approve(gate["ref"], comment="looks right")
        tester.close()
        self.assertTrue(decision["approved"])
        self.assert_completed(self.client.wait_for_run(result.run_id, timeout=30))
        history = self.client.list_gates(history=5)["history"]
        self.assertTrue(any(d["runId"] == result.run_id and d["by"] == "tester-" + self.tag and d["comment"] == "looks right" for d in history))

    def test_a_rejected_gate_skips_what_follows(self) -> None:
        result = self.gated_run()
        self.wait_for_gate(result.run_id)
        self.client.reject("hitl-gate-" + self.src)
        view = self.client.wait_for_run(result.run_id, timeout=30)
        self.assertNotEqual(view["run"]["status"], "COMPLETED")
        self.assertEqual(self.client.status(self.child), "SKIPPED")
        self.assertEqual(self.client.get_job_status("DAG-" + self.child), "CANCELLED")


class TestConnection(IntegrationTestCase):
    def test_a_master_that_cannot_be_reached_raises_a_clear_error(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with self.assertRaises(TitanConnectionError) as caught:
            TitanClient("127.0.0.1", port, self.cluster.token, connect_timeout=2).submit_job(TitanJob("x", self.script("x.py", "print(1)\n")))
        self.assertTrue(str(caught.exception).startswith("cannot reach the master at 127.0.0.1:{}: ".format(port)), str(caught.exception))
        self.assertTrue(re.search(r"refused", str(caught.exception), re.I), str(caught.exception))

    def test_a_wrong_token_is_refused(self) -> None:
        with self.assertRaises(UnauthorizedError):
            TitanClient("127.0.0.1", self.cluster.port, "not-the-token").stats()

    def test_the_connection_is_reopened_after_it_drops(self) -> None:
        self.assertIn("workers", self.client.stats())
        conn = self.client._connection()
        conn.close()
        self.assertIn("workers", self.client.stats())
        self.assertIsNot(self.client._connection(), conn)


if __name__ == "__main__":
    unittest.main()
