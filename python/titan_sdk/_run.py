"""``client.run``: submitting runs (jobs, a DAG, a pipeline file), reading and controlling them,
and waiting for one to finish."""

import os
import time
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._core import TERMINAL, SubClient, upload_blobs
from ._deadline import Deadline
from ._pipeline import pipeline_specs
from ._results import SubmitResult
from .errors import BadRequestError, NotFoundError, NotLeaderError, ProtocolError, TitanConnectionError, TitanFileNotFoundError, TitanTimeoutError
from .jobs import TitanJob, flow_field, jobs_to_specs


# A run's own settings, passed as given: flow (fairness group, singleton key, debounce window) and
# the URLs its notifications are POSTed to (on).
RUN_FLOW_FIELDS = ("fairness", "singleton", "debounce", "on")


class RunClient(SubClient):
    """Runs: ``client.run.submit(name, jobs)``, ``client.run.wait(run_id)``, ..."""

    # ---- submission -----------------------------------------------------------------------------

    def submit(
        self,
        name: str,
        jobs: Sequence[TitanJob],
        agent_run_id: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        fairness: Optional[Mapping[str, Any]] = None,
        singleton: Optional[str] = None,
        debounce: Optional[Mapping[str, Any]] = None,
        on: Optional[Mapping[str, str]] = None,
    ) -> SubmitResult:
        """Submits jobs as one run named ``name``, once durable; returns ``"DAG_ACCEPTED"`` with
        ``.run_id`` (also ``client.last_run_id``). Scripts the master lacks are uploaded first;
        a job's ``hitl_message`` injects the gate ``hitl-gate-<id>`` after it (the jobs passed
        are not changed). A rejected DAG (cycle, unknown parent, bad field) raises
        InvalidDagError / BadRequestError with the master's message. ``fairness``
        (``{"key": ..., "weight": ...}``) names the group the run's jobs take turns in;
        ``singleton`` (a key) starts no second run while one holding the key is unfinished (the
        result then names that run: ``.run_id`` is the holder's, ``.singleton`` says so);
        ``debounce`` (``{"key": ..., "waitMs": ...}``) holds the run for ``waitMs`` and lets a newer
        submission of the key replace it. ``on`` (``{"failure": url, "success": url, "gate": url}``,
        each optional) names http(s) URLs the master POSTs a signed JSON notification to when the
        run fails, completes or a gate opens (a Slack incoming-webhook URL works as it is)."""
        jobs = list(jobs)
        if not jobs:
            raise BadRequestError("a DAG needs at least one job")
        specs, blobs = self._specs(jobs)
        flow = {"fairness": flow_field("fairness", fairness), "singleton": singleton, "debounce": flow_field("debounce", debounce), "on": flow_field("on", on)}
        return self._accepted(self._submit_specs(name, specs, blobs, agent_run_id, tags, flow))

    def submit_job(self, job: TitanJob, agent_run_id: Optional[str] = None) -> SubmitResult:
        """Submits one job as a run of its own (Titan: ``submit_dag(job.id, [job])``)."""
        return self.submit(job.id, [job], agent_run_id=agent_run_id)

    def submit_yaml(
        self,
        yaml_path: str,
        agent_run_id: Optional[str] = None,
        wait: bool = False,
        poll_interval: float = 2,
        timeout: Optional[float] = 300,
    ) -> Union[SubmitResult, bool]:
        """Submits a pipeline file (Titan's YAML; parsed and validated by the master).

        Each job's ``file`` is read relative to the YAML's folder; with ``project: true`` the
        folder is zipped once (leaving out ``.git``, ``.env``, ``node_modules``, ``__pycache__``
        and what ``.titanignore`` names) and every job runs its file from the zip. Returns
        ``"DAG_ACCEPTED"`` with ``.run_id``. With ``wait=True`` it follows the run until it ends
        (or its services are up) and sets ``.status``; ``False`` if ``timeout`` seconds pass
        first, as Titan. ``poll_interval`` is accepted for Titan's callers: nothing polls. A
        pipeline with a ``schedule`` is registered under its name instead (``"SCHEDULED"``)."""
        pipeline = self.parse_pipeline(yaml_path)
        folder = os.path.dirname(os.path.abspath(yaml_path))
        specs, blobs = pipeline_specs(pipeline, folder)
        schedule = pipeline.get("schedule")
        run = {"name": pipeline.get("name") or "pipeline", "tags": list(pipeline.get("tags") or []), "jobs": specs}
        flow = {field: pipeline.get(field) for field in RUN_FLOW_FIELDS}
        run.update({field: value for field, value in flow.items() if value is not None})
        if agent_run_id is not None:
            run["agentRunId"] = agent_run_id
        if schedule:
            if wait:
                raise BadRequestError("{}: a pipeline with a schedule is registered, not run, so there is nothing to wait for; use run_schedule_now(name) to also run it".format(yaml_path))
            upload_blobs(self._client, blobs)
            reply = self._call("schedule.put", {"name": run["name"], "schedule": schedule, "run": run})
            result = SubmitResult("SCHEDULED", "", [s["id"] for s in specs])
            result.view = reply
            return result
        result = self._accepted(self._submit_specs(run["name"], specs, blobs, agent_run_id, run["tags"], flow))
        if not wait:
            return result
        try:
            view = self.wait(result.run_id, timeout=timeout, until_services_up=True)
        except TitanTimeoutError:
            return False
        result.view = view
        result.status = view["run"]["status"]
        return result

    def parse_pipeline(self, yaml_path: str) -> Dict[str, Any]:
        """The master's reading of a pipeline file (``pipeline.parse``): name, tags, schedule,
        project and the jobs with their ``file`` as written. Errors name the file, line and column."""
        try:
            with open(yaml_path, "r", encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise TitanFileNotFoundError("cannot read {}: no such file".format(yaml_path), yaml_path)
        except (OSError, UnicodeDecodeError) as err:
            raise BadRequestError("cannot read {}: {}".format(yaml_path, err))
        try:
            reply = self._call("pipeline.parse", {"text": text, "path": yaml_path})
        except ProtocolError as err:
            if err.code == "UNKNOWN_METHOD":
                raise ProtocolError("UNKNOWN_METHOD", "the master does not parse pipeline files (pipeline.parse); upgrade it ({})".format(err.message))
            raise
        return reply.get("pipeline", reply) if isinstance(reply, dict) else reply

    def extend(self, jobs: Sequence[TitanJob], run_id: Optional[str] = None) -> Dict[str, Any]:
        """Adds jobs to a run (parents may be any job of it; a finished run reopens). Inside a
        job the run defaults to the job's own (``TITAN_RUN_ID``). Returns ``{runId, jobs}``."""
        run_id = run_id or os.environ.get("TITAN_RUN_ID")
        if not run_id:
            raise BadRequestError("extend_run needs a run id (outside a job, pass run_id)")
        specs, blobs = self._specs(list(jobs))
        upload_blobs(self._client, blobs)
        return self._call("run.extend", {"runId": run_id, "jobs": specs})

    @staticmethod
    def _accepted(reply: Dict[str, Any]) -> SubmitResult:
        result = SubmitResult("DAG_ACCEPTED", reply["runId"], reply.get("jobs", []))
        result.singleton = reply.get("singleton")
        result.replaced = list(reply.get("replaced") or [])
        return result

    def _submit_specs(self, name: str, specs: List[Dict[str, Any]], blobs: Dict[str, bytes], agent_run_id: Optional[str], tags: Optional[Sequence[str]], flow: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        upload_blobs(self._client, blobs)
        run = {"name": (str(name) or "run")[:200], "jobs": specs}  # type: Dict[str, Any]
        if agent_run_id is not None:
            run["agentRunId"] = agent_run_id
        if tags:
            run["tags"] = list(tags)
        run.update({field: value for field, value in (flow or {}).items() if value is not None})
        reply = self._submit_idempotent({"run": run, "requestId": uuid.uuid4().hex})
        self._client.last_run_id = reply["runId"]
        return reply

    def _submit_idempotent(self, params: Dict[str, Any]) -> Dict[str, Any]:
        # A connection that breaks after the request went out leaves its fate unknown, as does a
        # leader deposed while it handled it: send it again under the same request id, which the
        # master (or the one that took over) answers with the run the first one created. A master
        # that cannot be reached before anything was sent is an error at once.
        sent = False
        wait = 0.25
        while True:
            conn = None
            try:
                conn = self._client._connection()
                return conn.request("submit", params, None)
            except NotLeaderError as err:
                if wait > 4.0:
                    raise
                self._client._deposed(conn, err)
                sent = True
            except TitanConnectionError:
                if not (sent or conn is not None) or wait > 4.0:
                    raise
                sent = True
            time.sleep(wait)
            wait *= 2

    def _specs(self, jobs: List[TitanJob]) -> Tuple[List[Dict[str, Any]], Dict[str, bytes]]:
        """The JobSpecs of ``jobs`` (gates injected, archives resolved on the master) and the
        scripts they need, by sha256."""
        blobs = {}  # type: Dict[str, bytes]
        for job in jobs:
            if job.content is not None and job.sha256 is not None:
                blobs[job.sha256] = job.content
        return jobs_to_specs(jobs, self._uploaded_blob), blobs

    def _uploaded_blob(self, name: str) -> str:
        """The sha256 of a file uploaded to ``uploads`` (it is made a blob for archive jobs)."""
        try:
            return self._call("files.blob", {"area": "uploads", "name": name})["sha256"]
        except NotFoundError as err:
            raise NotFoundError("the archive {} is not on the master: upload it first with upload_file or upload_project_folder ({})".format(name, err.message))

    # ---- reading and control --------------------------------------------------------------------

    def get(self, run_id: str) -> Dict[str, Any]:
        """``{run, jobs}``."""
        return self._call("run.get", {"runId": run_id})

    def list(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None) -> List[Dict[str, Any]]:
        """The newest runs (one page; ``page`` gives the pages after it)."""
        return self.page(limit, status, tag)["runs"]

    def page(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None, after: Optional[str] = None) -> Dict[str, Any]:
        """``{runs, next}``: one page of runs, newest first; pass ``next`` as ``after`` for the
        following page (None: no more)."""
        params = {"limit": limit}  # type: Dict[str, Any]
        if status is not None:
            params["status"] = status
        if tag is not None:
            params["tag"] = tag
        if after is not None:
            params["after"] = after
        return self._call("runs.list", params)

    def cancel(self, run_id: str) -> int:
        """Cancels every job of the run not yet ended; returns how many."""
        return self._call("run.cancel", {"runId": run_id})["cancelled"]

    def delete(self, run_id: str) -> bool:
        """Deletes a finished run with its jobs, attempts, gate decisions, logs and artifacts;
        False when there is no such run, ConflictError while it runs."""
        return bool(self._call("run.delete", {"runId": run_id})["deleted"])

    def rerun(self, run_id: str) -> Dict[str, Any]:
        """Submits a run's jobs again as a new run: ``{runId, jobs}``."""
        return self._call("run.rerun", {"runId": run_id})

    def wait(self, run_id: Optional[str] = None, timeout: Optional[float] = None, until_services_up: bool = False, on_event: Optional[Callable[[str, Any], None]] = None) -> Dict[str, Any]:
        """Waits for the run (default: this client's latest submission) to finish and returns
        ``{run, jobs}``; ``run.status`` is COMPLETED, FAILED or CANCELLED. A run with services
        finishes only when they are stopped; with ``until_services_up`` the wait ends once every
        other job has ended and every service is up. TitanTimeoutError after ``timeout`` s.
        ``on_event(kind, value)`` sees ``("job", job)`` and ``("run", run)`` changes."""
        run_id = run_id or self._client.last_run_id
        if not run_id:
            raise BadRequestError("wait_for_run needs a run id")
        deadline = Deadline(timeout)
        sub = self._client._connection().subscribe("run.watch", {"runId": run_id, "jobs": True}, timeout=timeout)
        try:
            snapshot = sub.reply["snapshot"]
            run = snapshot["run"]
            jobs = {j["spec"]["id"]: j for j in snapshot["jobs"]}  # type: Dict[str, Dict[str, Any]]
            while run["status"] == "RUNNING":
                if until_services_up and jobs and all(_settled(j) for j in jobs.values()) and any(j["status"] not in TERMINAL for j in jobs.values()):
                    break
                try:
                    event, data = deadline.next_event(sub, "run {}".format(run_id))
                except TitanConnectionError:
                    # The master restarted, or another one leads now: watch again there, and pass
                    # on what changed in between.
                    sub.close()
                    sub = self._resubscribe(run_id, timeout)
                    snapshot = sub.reply["snapshot"]
                    for job in snapshot["jobs"]:
                        if jobs.get(job["spec"]["id"]) != job:
                            jobs[job["spec"]["id"]] = job
                            if on_event is not None:
                                on_event("job", job)
                    if snapshot["run"] != run:
                        run = snapshot["run"]
                        if on_event is not None:
                            on_event("run", run)
                    continue
                if event == "run.jobs":
                    for job in data.get("jobs", []):
                        jobs[job["spec"]["id"]] = job
                        if on_event is not None:
                            on_event("job", job)
                elif event == "run.update":
                    run = data["run"]
                    if on_event is not None:
                        on_event("run", run)
            return {"run": run, "jobs": list(jobs.values())}
        finally:
            sub.close()

    def _resubscribe(self, run_id: str, timeout: Optional[float]) -> Any:
        """``run.watch`` again after its connection was lost, waiting as a resent submission does
        (0.25 s doubling, about 8 s in all) for a master to lead."""
        wait = 0.25
        while True:
            try:
                return self._client._connection().subscribe("run.watch", {"runId": run_id, "jobs": True}, timeout=timeout)
            except (TitanConnectionError, NotLeaderError):
                if wait > 4.0:
                    raise
            time.sleep(wait)
            wait *= 2


def _settled(job: Dict[str, Any]) -> bool:
    """A job that has ended, or a service that is up."""
    if job.get("status") in TERMINAL:
        return True
    service = job.get("service")
    return bool(service) and job.get("status") == "RUNNING" and service.get("readyAt") is not None
