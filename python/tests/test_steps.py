"""Unit tests of durable steps' logic (titan_sdk.steps) against a fake master that keeps step
records as the real one does: a completed step is never overwritten. No master needed."""

import json
import os
import time
import unittest
from typing import Any, Dict
from unittest import mock

from titan_sdk import BadRequestError, StepFailedError, step


class FakeMaster(object):
    def __init__(self) -> None:
        self.records: Dict[str, Dict[str, Any]] = {}

    def call(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        stored = self.records.get(params["name"])
        if method == "step.get":
            done = stored is not None and stored["status"] == "COMPLETED"
            return {"step": stored, "result": stored["result"] if done else None}
        assert method == "step.record"
        if stored is not None and stored["status"] == "COMPLETED":
            return {"step": stored, "result": stored["result"], "kept": True}
        self.records[params["name"]] = dict(params, result=params.get("result"))
        return {"step": params, "result": params.get("result"), "kept": False}

    def close(self) -> None:
        pass


def attempt(n: int) -> Any:
    return mock.patch.dict(os.environ, {"TITAN_TOKEN": "job.x", "TITAN_ATTEMPT": str(n)})


class TestSteps(unittest.TestCase):
    def setUp(self) -> None:
        self.master = FakeMaster()
        self.runs = 0

    def work(self) -> Dict[str, int]:
        self.runs += 1
        return {"papers": self.runs}

    def test_runs_once_and_a_later_attempt_gets_the_recorded_result(self) -> None:
        with attempt(1):
            self.assertEqual(step("fetch", self.work, client=self.master), {"papers": 1})
        with attempt(2):
            self.assertEqual(step("fetch", self.work, client=self.master), {"papers": 1})
        self.assertEqual(self.runs, 1)
        self.assertEqual(json.loads(self.master.records["fetch"]["result"]), {"papers": 1})
        self.assertEqual(self.master.records["fetch"]["attempt"], 1)

    def test_retries_then_records_failed_and_the_next_attempt_runs_again(self) -> None:
        tries = []

        def flaky() -> str:
            tries.append(1)
            raise ValueError("flaky {}".format(len(tries)))

        with attempt(1), self.assertRaises(StepFailedError) as caught:
            step("s", flaky, retries=2, client=self.master)
        self.assertEqual(str(caught.exception), 'step "s" failed: flaky 3')
        self.assertEqual(self.master.records["s"]["status"], "FAILED")
        with attempt(2):
            self.assertEqual(step("s", lambda: "ok", client=self.master), "ok")
        self.assertEqual(self.master.records["s"]["status"], "COMPLETED")

    def test_a_try_past_its_timeout_fails(self) -> None:
        with attempt(1), self.assertRaises(StepFailedError) as caught:
            step("slow", lambda: time.sleep(2), timeout=0.05, client=self.master)
        self.assertIn("timed out after 0.05 s", str(caught.exception))

    def test_decorator_runs_the_function_as_the_step(self) -> None:
        @step("summarise", client=self.master)
        def summarise(x: int) -> int:
            self.runs += 1
            return x * 2

        with attempt(1):
            self.assertEqual(summarise(4), 8)
        with attempt(2):
            self.assertEqual(summarise(5), 8)
        self.assertEqual(self.runs, 1)
        self.assertEqual(summarise.__name__, "summarise")

    def test_with_form_records_the_body_and_reports_cached_later(self) -> None:
        with attempt(1):
            with step("embed", client=self.master) as s:
                self.assertFalse(s.cached)
                self.assertEqual(s.record([1, 2]), [1, 2])
        with attempt(2):
            with step("embed", client=self.master) as s:
                self.assertTrue(s.cached)
                self.assertEqual(s.result, [1, 2])
                with self.assertRaises(BadRequestError):
                    s.record([3])

    def test_with_form_records_a_failure_and_a_body_that_forgot_to_record(self) -> None:
        with attempt(1), self.assertRaises(KeyError):
            with step("a", client=self.master):
                raise KeyError("gone")
        self.assertEqual(self.master.records["a"]["status"], "FAILED")
        with attempt(1), self.assertRaises(BadRequestError):
            with step("b", client=self.master):
                pass
        self.assertEqual(self.master.records["b"]["status"], "FAILED")

    def test_outside_a_job_it_says_so(self) -> None:
        with mock.patch.dict(os.environ, {"TITAN_TOKEN": "", "TITAN_ATTEMPT": ""}), self.assertRaises(BadRequestError):
            step("x", lambda: 1, client=self.master)


if __name__ == "__main__":
    unittest.main()
