"""Durable steps from inside a job: a step's JSON result is recorded on the master, so a later
attempt of the same job in the same run gets it back instead of doing the work again.

    from titan_sdk import step

    papers = step("fetch-papers", lambda: fetch(), timeout=60, retries=2)

    @step("summarise")
    def summarise():
        return llm(papers)

    with step("embed") as s:              # a body cannot be skipped: test s.cached
        if s.cached:
            vectors = s.result
        else:
            vectors = s.record(embed(papers))

The job's token (TITAN_TOKEN) names the run and job; TITAN_ATTEMPT the attempt. Each step opens
its own connection (TITAN_HOST, TITAN_PORT) and closes it, unless a ``client`` is given.
"""

import functools
import json
import os
import threading
import time
from typing import Any, Callable, Dict, Optional, TypeVar

from .errors import BadRequestError, TitanError

__all__ = ["step", "Step", "StepFailedError"]

T = TypeVar("T")

#: The master keeps a failed step's message to this many characters.
MAX_STEP_ERROR_CHARS = 4096


class StepFailedError(TitanError):
    """The step ran and failed (every try raised or timed out); it is recorded FAILED, and the job's
    next attempt runs it again."""

    code = "INTERNAL"

    def __init__(self, step_name: str, message: str) -> None:
        super().__init__("INTERNAL", 'step "{}" failed: {}'.format(step_name, message))
        self.step = step_name


def _now_ms() -> int:
    return int(time.time() * 1000)


def _attempt() -> int:
    raw = os.environ.get("TITAN_ATTEMPT", "")
    if not os.environ.get("TITAN_TOKEN") or not raw.isdigit() or int(raw) < 1:
        raise BadRequestError("step() runs inside a Titan job: TITAN_TOKEN and TITAN_ATTEMPT must be set (the worker sets them)")
    return int(raw)


def _call_in_thread(fn: Callable[[], T], timeout: float) -> T:
    """Runs fn with a deadline. A thread cannot be stopped: one that overruns is left to finish on its
    own (a daemon, so it does not hold the job open) and the try counts as failed."""
    box: Dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: B902 (handed to the caller's thread)
            box["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError("timed out after {} s".format(timeout))
    if "error" in box:
        raise box["error"]
    return box["value"]


class Step(object):
    """One step by name: what ``step(name)`` returns without a function. Call it on a function
    (``@step("name")``) or enter it (``with step("name") as s``)."""

    def __init__(self, name: str, timeout: Optional[float] = None, retries: int = 0, client: Any = None) -> None:
        if not isinstance(retries, int) or retries < 0:
            raise BadRequestError('step "{}": retries must be a whole number >= 0, got {!r}'.format(name, retries))
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self._client = client
        self._own: Any = None
        self._attempt = 0
        self._started = 0
        self._recorded = False
        #: In the ``with`` form: whether an earlier attempt completed the step (then ``result`` is its result).
        self.cached = False
        self.result: Any = None

    # ---- the client ----

    def _caller(self) -> Any:
        if self._client is not None:
            return self._client
        if self._own is None:
            from .client import TitanClient  # the client imports the package's modules; late to keep this one light

            self._own = TitanClient()
        return self._own

    def _close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None

    def _recorded_result(self) -> Optional[Dict[str, Any]]:
        got = self._caller().call("step.get", {"name": self.name})
        return got if got.get("result") is not None else None

    def _record_completed(self, value: Any) -> Any:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        reply = self._caller().call("step.record", {"name": self.name, "attempt": self._attempt, "status": "COMPLETED", "result": text, "startedAt": self._started, "finishedAt": _now_ms()})
        self._recorded = True
        # Another attempt completed it first: its result stands.
        return json.loads(reply["result"]) if reply.get("kept") and reply.get("result") is not None else value

    def _record_failed(self, message: str) -> None:
        self._caller().call("step.record", {"name": self.name, "attempt": self._attempt, "status": "FAILED", "error": message[:MAX_STEP_ERROR_CHARS], "startedAt": self._started, "finishedAt": _now_ms()})
        self._recorded = True

    # ---- step(name, fn) ----

    def run(self, fn: Callable[[], T]) -> T:
        """Returns the recorded result, else runs fn (its retries, its timeout), records and returns it."""
        self._attempt = _attempt()
        try:
            got = self._recorded_result()
            if got is not None:
                return json.loads(got["result"])
            self._started = _now_ms()
            failure: Optional[BaseException] = None
            for _ in range(self.retries + 1):
                try:
                    value = fn() if self.timeout is None else _call_in_thread(fn, self.timeout)
                except Exception as err:
                    failure = err
                    continue
                return self._record_completed(value)
            message = str(failure) or type(failure).__name__
            self._record_failed(message)
            raise StepFailedError(self.name, message) from failure
        finally:
            self._close()

    # ---- @step("name") ----

    def __call__(self, fn: Callable[..., T]) -> Callable[..., T]:
        """The decorated function runs as this step: once per run and job, whatever its arguments."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return Step(self.name, self.timeout, self.retries, self._client).run(lambda: fn(*args, **kwargs))

        return wrapper

    # ---- with step("name") as s ----

    def __enter__(self) -> "Step":
        if self.timeout is not None or self.retries:
            raise BadRequestError('step "{}": the with form runs its body once, as written: it takes no timeout or retries (use step(name, fn, ...))'.format(self.name))
        self._attempt = _attempt()
        try:
            got = self._recorded_result()
        except BaseException:
            self._close()
            raise
        self.cached = got is not None
        self.result = json.loads(got["result"]) if got is not None else None
        self._started = _now_ms()
        return self

    def record(self, value: Any) -> Any:
        """Records the body's result (COMPLETED) and returns what is recorded."""
        if self.cached:
            raise BadRequestError('step "{}" completed in an earlier attempt: use s.result instead of recording again'.format(self.name))
        self.result = self._record_completed(value)
        return self.result

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        try:
            if self.cached or self._recorded:
                return False
            if err is not None:
                self._record_failed(str(err) or kind.__name__)
                return False
            self._record_failed("the body ended without s.record(value)")
            raise BadRequestError('step "{}": the body of `with step(...) as s` must call s.record(value) when s.cached is false'.format(self.name))
        finally:
            self._close()


def step(name: str, fn: Optional[Callable[[], T]] = None, timeout: Optional[float] = None, retries: int = 0, client: Any = None) -> Any:
    """``step(name, fn)`` runs fn once per run and job and returns its (recorded) result;
    ``step(name)`` is a decorator and a context manager (see the module's docstring).

    ``timeout`` (seconds) abandons a try that runs longer; ``retries`` more tries follow a failed
    one within the attempt. A result must be JSON (``json.dumps``) and at most 1 MiB."""
    s = Step(name, timeout, retries, client)
    return s if fn is None else s.run(fn)
