"""``client.job``: one job of a run: its state, control, output, and the wait for its end."""

from typing import Any, Dict, Optional

from ._core import TERMINAL, SubClient
from ._deadline import Deadline
from ._results import LogStream, titan_status
from .errors import NotFoundError


class JobClient(SubClient):
    """Jobs, by ``runId/jobId`` or a bare job id (its latest run): ``client.job.logs(ref)``, ..."""

    def get(self, ref: str) -> Dict[str, Any]:
        """``{job, attempts}`` of ``runId/jobId`` or a bare job id (its latest run)."""
        return self._call("job.get", {"ref": ref})

    def status(self, ref: str) -> str:
        """The job's status here: PENDING, QUEUED, RUNNING, COMPLETED, FAILED (a retry is
        pending), DEAD, CANCELLED, SKIPPED or WAITING_APPROVAL. NotFoundError if unknown."""
        return self.get(ref)["job"]["status"]

    def titan_status(self, job_id: str) -> str:
        """Titan's status of a job (``DAG-<id>`` or ``<id>``, or ``runId/jobId``): ``PENDING``,
        ``RUNNING``, ``COMPLETED``, ``DEAD``, ``CANCELLED``, or ``"NULL"`` for an unknown job as
        Titan answered. ``status()`` gives the full status and raises for unknown jobs."""
        try:
            return titan_status(self.status(job_id))
        except NotFoundError:
            return "NULL"

    def logs(self, ref: str, attempt: Optional[int] = None) -> str:
        """The whole output of one attempt (the latest by default)."""
        params = {"ref": ref}  # type: Dict[str, Any]
        if attempt is not None:
            params["attempt"] = attempt
        return "".join(chunk.get("data", "") for chunk in self._pages("logs.get", params, "attempt", lambda chunk: chunk["attempt"]))

    def follow(self, ref: str, timeout: Optional[float] = None) -> LogStream:
        """Output as it is produced, across retries, until the job reaches a terminal status:
        ``for text in client.job.follow(ref): print(text, end="")``; then ``.status``.
        ``timeout`` bounds the wait for each chunk (TitanTimeoutError)."""
        sub = self._client._connection().subscribe("logs.follow", {"ref": ref})
        return LogStream(sub, timeout)

    def cancel(self, ref: str) -> Dict[str, Any]:
        """Cancels a job (and what waits on it); returns the job."""
        return self._call("job.cancel", {"ref": ref})["job"]

    def retry(self, ref: str) -> Dict[str, Any]:
        """Runs a DEAD or CANCELLED job again in its run with a fresh retry budget; the jobs it
        skipped wait for it again. ConflictError for a job in another status."""
        return self._call("job.retry", {"ref": ref})["job"]

    def wait(self, ref: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Waits for one job to reach a terminal status and returns it."""
        job = self.get(ref)["job"]
        if job["status"] in TERMINAL:
            return job
        deadline = Deadline(timeout)
        job_id = job["spec"]["id"]
        sub = self._client._connection().subscribe("run.watch", {"runId": job["runId"], "jobs": True}, timeout=timeout)
        try:
            for seen in sub.reply["snapshot"]["jobs"]:
                if seen["spec"]["id"] == job_id and seen["status"] in TERMINAL:
                    return seen
            while True:
                event, data = deadline.next_event(sub, "job {}".format(ref))
                if event == "run.jobs":
                    for seen in data.get("jobs", []):
                        if seen["spec"]["id"] == job_id and seen["status"] in TERMINAL:
                            return seen
                elif event == "run.update" and data["run"]["status"] != "RUNNING":
                    return self.get(job["ref"])["job"]
        finally:
            sub.close()
