"""What the client returns beyond the master's JSON: Titan's submission reply string carrying the
run, a followed job's output stream, and Titan's status words."""

from typing import Any, Dict, Iterator, List, Optional, Sequence

from . import _wire


def titan_status(status: str) -> str:
    """A job status in Titan's vocabulary: ``PENDING``, ``RUNNING``, ``COMPLETED``, ``DEAD`` or
    ``CANCELLED`` (SKIPPED reads CANCELLED; QUEUED, FAILED-with-a-retry-pending and
    WAITING_APPROVAL read PENDING), as the master's v1 compatibility answers."""
    if status in ("RUNNING", "COMPLETED", "DEAD", "CANCELLED"):
        return status
    if status == "SKIPPED":
        return "CANCELLED"
    return "PENDING"


class SubmitResult(str):
    """What ``submit_dag``, ``submit_job`` and ``submit_yaml`` return: Titan's reply string
    (``"DAG_ACCEPTED"``, so ``resp == "DAG_ACCEPTED"`` and ``"ERROR" in resp`` work as with
    Titan) that also carries the run: ``run_id``, ``jobs`` (the job ids) and, after a wait,
    ``status`` (the run's status, or ``RUNNING`` when the wait ended with its services up) and
    ``view`` (the run and its jobs)."""

    run_id = ""  # type: str
    jobs = []  # type: List[str]
    status = None  # type: Optional[str]
    view = None  # type: Optional[Dict[str, Any]]
    # Set when a singleton key was held: {"key", "heldBy"} (run_id is then the holder's run).
    singleton = None  # type: Optional[Dict[str, Any]]
    # The runs a debounced submission replaced.
    replaced = []  # type: List[str]

    def __new__(cls, text: str, run_id: str = "", jobs: Sequence[str] = ()) -> "SubmitResult":
        self = str.__new__(cls, text)
        self.run_id = run_id
        self.jobs = list(jobs)
        return self

    @property
    def ok(self) -> bool:
        """Accepted, and after a wait, finished well (COMPLETED, or services up)."""
        return self.status in (None, "COMPLETED", "RUNNING")


class LogStream(object):
    """The output of a followed job, chunk by chunk, until it reaches a terminal status; then
    ``status`` holds that status. Iterate it, or call ``close()`` to stop early."""

    def __init__(self, sub: "_wire.Subscription", timeout: Optional[float]) -> None:
        self._sub = sub
        self._timeout = timeout
        self.status = None  # type: Optional[str]
        self.attempt = None  # type: Optional[int]

    def __iter__(self) -> Iterator[str]:
        try:
            while True:
                event, data = self._sub.next(self._timeout)
                if event == "log.end":
                    self.status = data.get("status")
                    return
                if event == "log":
                    self.attempt = data.get("attempt")
                    yield data.get("data", "")
        finally:
            self._sub.close()

    def close(self) -> None:
        self._sub.close()

    def __enter__(self) -> "LogStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
