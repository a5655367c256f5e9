"""Unit tests: TitanJob's parameters and defaults, its JobSpec, argument handling, DAG- ids and
Titan's gate injection. No master needed."""

import hashlib
import os
import shutil
import tempfile
import unittest

from titan_sdk import (
    BadRequestError,
    TitanError,
    TitanFileNotFoundError,
    TitanJob,
    split_args,
    strip_dag_prefix,
    titan_status,
)
from titan_sdk.jobs import DEFAULT_GATE_WAIT_SECONDS, jobs_to_specs, split_archive_pointer

SHA = "a" * 64


class JobTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="titan-sdk-unit-")
        self.script = self.write("step.py", b"print('hi')\n")

    def tearDown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name: str, content: bytes) -> str:
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(content)
        return path


class TestFlowControl(JobTestCase):
    def test_concurrency_and_rate_limit_become_the_job_specs_fields(self) -> None:
        job = TitanJob("a", self.script, concurrency={"key": "openai", "limit": 4}, rate_limit={"key": "openai", "limit": 60, "per": "minute", "burst": 10})
        spec = job.to_spec()
        self.assertEqual(spec["concurrency"], {"key": "openai", "limit": 4})
        self.assertEqual(spec["rateLimit"], {"key": "openai", "limit": 60, "per": "minute", "burst": 10})
        # Defaults are the master's: nothing is added here.
        self.assertEqual(TitanJob("b", self.script, rate_limit={"key": "db", "limit": 5}).to_spec()["rateLimit"], {"key": "db", "limit": 5})
        self.assertNotIn("concurrency", TitanJob("c", self.script).to_spec())

    def test_a_flow_setting_that_is_not_a_mapping_is_refused_by_name(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            TitanJob("a", self.script, concurrency="openai")
        self.assertIn("job 'a': concurrency is a mapping", str(caught.exception))


class TestDefaults(JobTestCase):
    def test_titan_defaults_give_a_plain_run_job(self) -> None:
        job = TitanJob("a", self.script)
        self.assertEqual(job.to_dict(), {
            "job_id": "a", "filename": self.script, "job_type": "RUN_PAYLOAD", "args": [], "parents": [], "port": 0,
            "is_archive": False, "priority": 1, "delay": 0, "affinity": "none", "requirement": "GENERAL",
            "hitl_message": None, "max_wait_seconds": 172800, "retries": 3, "timeout": None, "env": {},
        })
        self.assertEqual(job.to_spec(), {
            "id": "a", "kind": "run", "dependsOn": [], "priority": 1, "delayMs": 0,
            "script": {"name": "step.py", "sha256": hashlib.sha256(b"print('hi')\n").hexdigest()},
            "args": [], "requirement": "GENERAL", "affinity": "none", "env": {}, "retries": 3,
        })
        self.assertEqual(DEFAULT_GATE_WAIT_SECONDS, 172800)

    def test_positional_parameters_follow_titans_order(self) -> None:
        job = TitanJob("a", self.script, "RUN_PAYLOAD", "x y", ["p"], 0, False, 7, 250, True, "GPU")
        spec = job.to_spec()
        self.assertEqual((spec["args"], spec["dependsOn"], spec["priority"], spec["delayMs"], spec["affinity"], spec["requirement"]), (["x", "y"], ["p"], 7, 250, "soft", "GPU"))

    def test_secrets_are_declared_by_name_once_each(self) -> None:
        job = TitanJob("a", self.script, secrets=["OPENAI_API_KEY", "DB_PASSWORD", "OPENAI_API_KEY"])
        self.assertEqual(job.to_spec()["secrets"], ["OPENAI_API_KEY", "DB_PASSWORD"])
        self.assertEqual(job.to_dict()["secrets"], ["OPENAI_API_KEY", "DB_PASSWORD"])
        self.assertNotIn("secrets", TitanJob("b", self.script).to_spec())

    def test_job_id_attribute_and_alias(self) -> None:
        job = TitanJob(42, self.script)
        self.assertEqual((job.id, job.job_id), ("42", "42"))

    def test_the_script_is_read_at_construction(self) -> None:
        job = TitanJob("a", self.script)
        with open(self.script, "wb") as f:
            f.write(b"changed")
        self.assertEqual(job.content, b"print('hi')\n")

    def test_a_missing_script_raises_file_not_found_naming_it(self) -> None:
        missing = os.path.join(self.dir, "nope.py")
        with self.assertRaises(FileNotFoundError) as caught:
            TitanJob("a", missing)
        self.assertIsInstance(caught.exception, TitanFileNotFoundError)
        self.assertIsInstance(caught.exception, TitanError)
        self.assertIn(missing, str(caught.exception))

    def test_retries_timeout_and_env(self) -> None:
        spec = TitanJob("a", self.script, retries=0, timeout=1.5, env={"MODE": "fast", "N": 3, "ON": True}).to_spec()
        self.assertEqual((spec["retries"], spec["timeoutMs"], spec["env"]), (0, 1500, {"MODE": "fast", "N": "3", "ON": "true"}))

    def test_requirement_is_cleaned_like_titan(self) -> None:
        self.assertEqual(TitanJob("a", self.script, requirement="GP|U").requirement, "GPU")
        self.assertEqual(TitanJob("a", self.script, requirement="").requirement, "GENERAL")
        self.assertEqual(TitanJob("a", self.script, requirement=None).requirement, "GENERAL")

    def test_affinity_values(self) -> None:
        self.assertEqual(TitanJob("a", self.script, affinity=False).affinity, "none")
        self.assertEqual(TitanJob("a", self.script, affinity=True).affinity, "soft")
        self.assertEqual(TitanJob("a", self.script, affinity="required").affinity, "required")
        with self.assertRaises(BadRequestError):
            TitanJob("a", self.script, affinity="sometimes")

    def test_bad_numbers_are_rejected_with_the_field_name(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "delay"):
            TitanJob("a", self.script, delay=-1)
        with self.assertRaisesRegex(BadRequestError, "priority"):
            TitanJob("a", self.script, priority="high")
        with self.assertRaisesRegex(BadRequestError, "priority"):
            TitanJob("a", self.script, priority=1.5)
        with self.assertRaisesRegex(BadRequestError, "id"):
            TitanJob("", self.script)

    def test_ids_are_checked_before_anything_is_sent(self) -> None:
        for bad in ("has space", "a|b", ".hidden", "-x", "x" * 129, "a/b"):
            with self.assertRaisesRegex(BadRequestError, "job id", msg=bad):
                TitanJob(bad, self.script)
        self.assertEqual(TitanJob("DAG-a.b_c-1", self.script).id, "DAG-a.b_c-1")


class TestArgs(JobTestCase):
    def test_a_string_is_split_like_a_shell(self) -> None:
        self.assertEqual(split_args('--name "Ada Lovelace" --n 3'), ["--name", "Ada Lovelace", "--n", "3"])
        self.assertEqual(split_args("--msg 'a b' c"), ["--msg", "a b", "c"])
        self.assertEqual(split_args("  "), [])
        self.assertEqual(split_args(""), [])

    def test_an_unquoted_pipe_separates_arguments_as_in_titan(self) -> None:
        self.assertEqual(split_args("a|b c"), ["a", "b", "c"])
        self.assertEqual(split_args("--sep '|' x"), ["--sep", "|", "x"])

    def test_a_list_is_taken_as_is(self) -> None:
        self.assertEqual(split_args(["a b", 3, True, "x|y"]), ["a b", "3", "true", "x|y"])
        self.assertEqual(split_args(("--k", "v")), ["--k", "v"])
        self.assertEqual(split_args(None), [])

    def test_unclosed_quotes_are_a_bad_request(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "cannot split"):
            split_args('--name "Ada')

    def test_a_hash_is_an_ordinary_character(self) -> None:
        self.assertEqual(split_args("#tag x"), ["#tag", "x"])

    def test_args_reach_the_spec(self) -> None:
        self.assertEqual(TitanJob("a", self.script, args="--n 3").to_spec()["args"], ["--n", "3"])
        self.assertEqual(TitanJob("a", self.script, args=["--n", 3]).to_spec()["args"], ["--n", "3"])


class TestDagIds(JobTestCase):
    def test_strip_dag_prefix(self) -> None:
        self.assertEqual(strip_dag_prefix("DAG-fetch"), "fetch")
        self.assertEqual(strip_dag_prefix("fetch"), "fetch")
        self.assertEqual(strip_dag_prefix("DAG-"), "DAG-")

    def test_parents_with_titans_prefix_name_the_bare_jobs(self) -> None:
        a = TitanJob("a", self.script)
        b = TitanJob("b", self.script, parents=["DAG-a"])
        specs = jobs_to_specs([a, b])
        self.assertEqual(specs[1]["dependsOn"], ["a"])

    def test_a_job_really_named_with_the_prefix_is_kept(self) -> None:
        a = TitanJob("DAG-a", self.script)
        b = TitanJob("b", self.script, parents=["DAG-a"])
        self.assertEqual(jobs_to_specs([a, b])[1]["dependsOn"], ["DAG-a"])

    def test_the_callers_parents_are_not_changed(self) -> None:
        parents = ["DAG-a"]
        b = TitanJob("b", self.script, parents=parents)
        jobs_to_specs([TitanJob("a", self.script, hitl_message="ok?"), b])
        self.assertEqual((parents, b.parents), (["DAG-a"], ["DAG-a"]))


class TestGates(JobTestCase):
    def test_a_hitl_message_injects_a_gate_and_rewires_the_children(self) -> None:
        a = TitanJob("a", self.script, hitl_message="Looks good?", max_wait_seconds=60)
        b = TitanJob("b", self.script, parents=["a"])
        c = TitanJob("c", self.script, parents=["DAG-a", "b"])
        specs = jobs_to_specs([a, b, c])
        self.assertEqual([s["id"] for s in specs], ["a", "hitl-gate-a", "b", "c"])
        self.assertEqual(specs[1], {"id": "hitl-gate-a", "kind": "approval", "message": "Looks good?", "dependsOn": ["a"], "timeoutMs": 60000})
        self.assertEqual(specs[2]["dependsOn"], ["hitl-gate-a"])
        self.assertEqual(specs[3]["dependsOn"], ["hitl-gate-a", "b"])

    def test_the_default_gate_wait_is_48_hours(self) -> None:
        gate = TitanJob("a", self.script, hitl_message="ok?").gate_spec()
        self.assertEqual(gate["timeoutMs"], 172800 * 1000)

    def test_no_message_no_gate(self) -> None:
        self.assertIsNone(TitanJob("a", self.script).gate_spec())
        self.assertEqual(len(jobs_to_specs([TitanJob("a", self.script)])), 1)

    def test_a_native_approval_job(self) -> None:
        gate = TitanJob("ship", job_type="APPROVAL", hitl_message="Ship it?", parents=["a"], max_wait_seconds=30)
        self.assertEqual(gate.to_spec(), {"id": "ship", "kind": "approval", "dependsOn": ["a"], "priority": 1, "delayMs": 0, "message": "Ship it?", "timeoutMs": 30000})
        self.assertIsNone(gate.gate_spec())


class TestServicesAndArchives(JobTestCase):
    def test_service_types_become_services(self) -> None:
        for job_type in ("SERVICE", "DEPLOY_PAYLOAD", "service"):
            self.assertEqual(TitanJob("s", self.script, job_type=job_type, port=8080).kind, "service")
        self.assertEqual(TitanJob("t", self.script, job_type="TASK").kind, "run")

    def test_a_fixed_port_is_probed_over_tcp(self) -> None:
        spec = TitanJob("s", self.script, job_type="SERVICE", port=8080).to_spec()
        self.assertEqual(spec["service"], {"readiness": "tcp", "port": 8080})
        self.assertNotIn("timeoutMs", spec)

    def test_port_zero_is_assigned_and_not_probed(self) -> None:
        spec = TitanJob("s", self.script, job_type="SERVICE").to_spec()
        self.assertEqual(spec["service"], {"readiness": "none"})

    def test_a_run_job_ignores_the_port(self) -> None:
        self.assertNotIn("service", TitanJob("a", self.script, port=8080).to_spec())

    def test_a_service_takes_no_timeout(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "timeout"):
            TitanJob("s", self.script, job_type="SERVICE", timeout=5)

    def test_archive_pointers(self) -> None:
        self.assertEqual(split_archive_pointer("proj.zip/src/main.py"), ("proj.zip", "src/main.py"))
        self.assertEqual(split_archive_pointer("proj.zip\\src\\main.py"), ("proj.zip", "src/main.py"))
        for bad in ("main.py", "proj.zip/", "proj.zip/../x.py", "a/proj.zip/x.py"):
            with self.assertRaises(BadRequestError, msg=bad):
                split_archive_pointer(bad)

    def test_an_archive_job_reads_nothing_locally(self) -> None:
        job = TitanJob("a", "proj.zip/src/main.py", is_archive=True, args="--x 1")
        self.assertIsNone(job.content)
        spec = job.to_spec(archive_sha256=SHA)
        self.assertEqual(spec["archive"], {"name": "proj.zip", "sha256": SHA, "entry": "src/main.py"})
        self.assertEqual(spec["args"], ["--x", "1"])
        self.assertNotIn("script", spec)

    def test_archives_are_resolved_once_per_zip(self) -> None:
        asked = []

        def resolve(name: str) -> str:
            asked.append(name)
            return SHA

        jobs = [TitanJob("a", "p.zip/a.py", is_archive=True), TitanJob("b", "p.zip/b.py", is_archive=True, parents=["a"])]
        specs = jobs_to_specs(jobs, resolve)
        self.assertEqual(asked, ["p.zip"])
        self.assertEqual([s["archive"]["entry"] for s in specs], ["a.py", "b.py"])

    def test_an_unresolved_archive_is_refused(self) -> None:
        with self.assertRaisesRegex(BadRequestError, "p.zip"):
            jobs_to_specs([TitanJob("a", "p.zip/a.py", is_archive=True)])


class TestStatuses(unittest.TestCase):
    def test_titan_vocabulary(self) -> None:
        expected = {
            "PENDING": "PENDING", "QUEUED": "PENDING", "FAILED": "PENDING", "WAITING_APPROVAL": "PENDING",
            "RUNNING": "RUNNING", "COMPLETED": "COMPLETED", "DEAD": "DEAD", "CANCELLED": "CANCELLED", "SKIPPED": "CANCELLED",
        }
        for status, titan in expected.items():
            self.assertEqual(titan_status(status), titan, status)


if __name__ == "__main__":
    unittest.main()
