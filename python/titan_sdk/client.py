"""``TitanClient``: the Python SDK over the v2 protocol (docs/protocol.md).

One persistent connection per client, opened on first use and reopened by the next call after it
drops. Host, port and token come from the constructor or, when the connection opens, from
``TITAN_HOST`` (default ``127.0.0.1``), ``TITAN_PORT`` (default ``9090``) and ``TITAN_TOKEN``, so
``TitanClient()`` needs no configuration inside a job. Every failure raises a
:class:`~titan_sdk.errors.TitanError` subclass carrying the master's message.

Titan's methods keep Titan's names, arguments and the results a Titan script compares
(``"UPLOAD_SUCCESS"``, ``"DEPLOY_SUCCESS"``, ``"OK"``, ``"NULL"``, ``"DAG_ACCEPTED"``, Titan's job
statuses); the other methods return the master's JSON as dicts and lists.
"""

import base64
import hashlib
import os
import posixpath
import re
import ssl
import tempfile
import threading
import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _wire
from ._project import build_project_zip, zip_base_name
from .errors import (
    BadRequestError,
    NotFoundError,
    ProtocolError,
    TitanConnectionError,
    TitanError,
    TitanFileNotFoundError,
    TitanTimeoutError,
)
from .jobs import TitanJob, jobs_to_specs

__all__ = ["TitanClient", "SubmitResult", "LogStream", "resolve_address", "titan_status"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090
#: Largest raw chunk of a blob, file or artifact transfer (1 MiB, as the protocol allows).
CHUNK_BYTES = 1024 * 1024
#: Artifact chunks kept in flight during an upload.
_UPLOAD_WINDOW = 4
_TERMINAL = ("COMPLETED", "DEAD", "CANCELLED", "SKIPPED")
#: Titan's "absent" values of an artifact pointer key.
_ABSENT = ("NULL", "CLEARED", "")
_KV_KEY = re.compile(r"^[A-Za-z0-9_.:/@+=,-]+$")
_ARTIFACT_SEGMENT = re.compile(r"^[\w .,+=@~()\[\]!#%&'-]+$")


def titan_status(status: str) -> str:
    """A job status in Titan's vocabulary: ``PENDING``, ``RUNNING``, ``COMPLETED``, ``DEAD`` or
    ``CANCELLED`` (SKIPPED reads CANCELLED; QUEUED, FAILED-with-a-retry-pending and
    WAITING_APPROVAL read PENDING), as the master's v1 compatibility answers."""
    if status in ("RUNNING", "COMPLETED", "DEAD", "CANCELLED"):
        return status
    if status == "SKIPPED":
        return "CANCELLED"
    return "PENDING"


def _settled(job: Dict[str, Any]) -> bool:
    """A job that has ended, or a service that is up."""
    if job.get("status") in _TERMINAL:
        return True
    service = job.get("service")
    return bool(service) and job.get("status") == "RUNNING" and service.get("readyAt") is not None


def resolve_address(host: Optional[str] = None, port: Optional[int] = None, token: Optional[str] = None) -> Tuple[str, int, Optional[str]]:
    """The master's address and token: the arguments, else Titan's module globals if a script
    assigned them (``titan_sdk.titan_sdk.TITAN_HOST = ...``), else the environment, else
    ``127.0.0.1:9090`` without a token. Read at each call, so a changed environment counts."""
    from . import titan_sdk as _compat  # Titan's module path; imported late (it imports this module)

    overrides = vars(_compat)
    if host is None:
        host = overrides.get("TITAN_HOST") or os.environ.get("TITAN_HOST") or DEFAULT_HOST
    if port is None:
        raw = overrides.get("TITAN_PORT")
        if raw is None:
            raw = os.environ.get("TITAN_PORT") or DEFAULT_PORT
        try:
            port = int(raw)
        except (TypeError, ValueError):
            raise BadRequestError("TITAN_PORT must be a port number from 1 to 65535, got {!r}".format(raw))
        if not 1 <= port <= 65535:
            raise BadRequestError("TITAN_PORT must be a port number from 1 to 65535, got {!r}".format(raw))
    else:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise BadRequestError("port must be a number from 1 to 65535, got {!r}".format(port))
    if token is None:
        token = os.environ.get("TITAN_TOKEN") or None
    return str(host), port, token


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


class TitanClient(object):
    """A client of the Titan master (v2 protocol).

    ``TitanClient()`` reads ``TITAN_HOST``, ``TITAN_PORT`` and ``TITAN_TOKEN`` when it connects;
    ``TitanClient(host, port, token)`` fixes them. TLS likewise: ``TITAN_TLS=1`` (system CAs),
    ``TITAN_CA`` (a CA file), ``TITAN_CERT`` and ``TITAN_KEY`` (a client certificate for mutual
    TLS), or ``tls=`` an ``ssl.SSLContext``. ``connect_timeout`` bounds the TCP connect and
    the greeting (seconds). Use it as a context manager, or call ``close()``, to close the
    connection; a process may also just exit.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, token: Optional[str] = None, connect_timeout: float = 10.0, tls: Optional[ssl.SSLContext] = None) -> None:
        self.host = host
        #: An ``ssl.SSLContext`` for TLS to the master; None: ``TITAN_TLS``/``TITAN_CA``/``TITAN_CERT``/``TITAN_KEY`` decide at connect time.
        self.tls = tls
        self.port = port
        self.token = token
        self.connect_timeout = connect_timeout
        #: The run id of the latest submission made by this client.
        self.last_run_id = None  # type: Optional[str]
        self._conn = None  # type: Optional[_wire.Connection]
        self._lock = threading.Lock()

    # ---- connection -----------------------------------------------------------------------------

    def _connection(self) -> _wire.Connection:
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed:
                host, port, token = resolve_address(self.host, self.port, self.token)
                tls = self.tls if self.tls is not None else _wire.tls_context_from_env()
                conn = _wire.Connection(host, port, token, self.connect_timeout, tls)
                self._conn = conn
            return conn

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        """Sends one v2 request and returns its result (any method of docs/protocol.md)."""
        return self._connection().request(method, params if params is not None else {}, timeout)

    def ping(self) -> str:
        """Connects (if not connected) and returns the master's version."""
        return self._connection().server_version

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "TitanClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ---- submission (Titan) ---------------------------------------------------------------------

    def submit_job(self, job: TitanJob, agent_run_id: Optional[str] = None) -> SubmitResult:
        """Submits one job as a run of its own (Titan: ``submit_dag(job.id, [job])``)."""
        return self.submit_dag(job.id, [job], agent_run_id=agent_run_id)

    def submit_dag(self, name: str, jobs: Sequence[TitanJob], agent_run_id: Optional[str] = None, tags: Optional[Sequence[str]] = None) -> SubmitResult:
        """Submits jobs as one run named ``name``, once durable; returns ``"DAG_ACCEPTED"`` with
        ``.run_id`` (also ``client.last_run_id``). Scripts the master lacks are uploaded first;
        a job's ``hitl_message`` injects the gate ``hitl-gate-<id>`` after it (the jobs passed
        are not changed). A rejected DAG (cycle, unknown parent, bad field) raises
        InvalidDagError / BadRequestError with the master's message."""
        jobs = list(jobs)
        if not jobs:
            raise BadRequestError("a DAG needs at least one job")
        specs, blobs = self._specs(jobs)
        reply = self._submit_specs(name, specs, blobs, agent_run_id, tags)
        return SubmitResult("DAG_ACCEPTED", reply["runId"], reply.get("jobs", []))

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
        specs, blobs = _pipeline_specs(pipeline, folder)
        schedule = pipeline.get("schedule")
        run = {"name": pipeline.get("name") or "pipeline", "tags": list(pipeline.get("tags") or []), "jobs": specs}
        if agent_run_id is not None:
            run["agentRunId"] = agent_run_id
        if schedule:
            if wait:
                raise BadRequestError("{}: a pipeline with a schedule is registered, not run, so there is nothing to wait for; use run_schedule_now(name) to also run it".format(yaml_path))
            self._upload_blobs(blobs)
            reply = self.call("schedule.put", {"name": run["name"], "schedule": schedule, "run": run})
            result = SubmitResult("SCHEDULED", "", [s["id"] for s in specs])
            result.view = reply
            return result
        reply = self._submit_specs(run["name"], specs, blobs, agent_run_id, run["tags"])
        result = SubmitResult("DAG_ACCEPTED", reply["runId"], reply.get("jobs", []))
        if not wait:
            return result
        try:
            view = self.wait_for_run(result.run_id, timeout=timeout, until_services_up=True)
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
            reply = self.call("pipeline.parse", {"text": text, "path": yaml_path})
        except ProtocolError as err:
            if err.code == "UNKNOWN_METHOD":
                raise ProtocolError("UNKNOWN_METHOD", "the master does not parse pipeline files (pipeline.parse); upgrade it ({})".format(err.message))
            raise
        return reply.get("pipeline", reply) if isinstance(reply, dict) else reply

    def submit_run(self, jobs: Sequence[TitanJob], name: str = "run", agent_run_id: Optional[str] = None, tags: Optional[Sequence[str]] = None) -> str:
        """Submits jobs as one run and returns its run id."""
        return self.submit_dag(name, jobs, agent_run_id=agent_run_id, tags=tags).run_id

    def _submit_specs(self, name: str, specs: List[Dict[str, Any]], blobs: Dict[str, bytes], agent_run_id: Optional[str], tags: Optional[Sequence[str]]) -> Dict[str, Any]:
        self._upload_blobs(blobs)
        run = {"name": (str(name) or "run")[:200], "jobs": specs}  # type: Dict[str, Any]
        if agent_run_id is not None:
            run["agentRunId"] = agent_run_id
        if tags:
            run["tags"] = list(tags)
        reply = self._submit_idempotent({"run": run, "requestId": uuid.uuid4().hex})
        self.last_run_id = reply["runId"]
        return reply

    def _submit_idempotent(self, params: Dict[str, Any]) -> Dict[str, Any]:
        # A connection that breaks after the request went out leaves its fate unknown: send it
        # again under the same request id, which the master answers with the run the first one
        # created. A master that cannot be reached before anything was sent is an error at once.
        sent = False
        wait = 0.25
        while True:
            conn = None
            try:
                conn = self._connection()
                return conn.request("submit", params, None)
            except TitanConnectionError:
                if not (sent or conn is not None) or wait > 4.0:
                    raise
                sent = True
            time.sleep(wait)
            wait *= 2

    def extend_run(self, jobs: Sequence[TitanJob], run_id: Optional[str] = None) -> Dict[str, Any]:
        """Adds jobs to a run (parents may be any job of it; a finished run reopens). Inside a
        job the run defaults to the job's own (``TITAN_RUN_ID``). Returns ``{runId, jobs}``."""
        run_id = run_id or os.environ.get("TITAN_RUN_ID")
        if not run_id:
            raise BadRequestError("extend_run needs a run id (outside a job, pass run_id)")
        specs, blobs = self._specs(list(jobs))
        self._upload_blobs(blobs)
        return self.call("run.extend", {"runId": run_id, "jobs": specs})

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
            return self.call("files.blob", {"area": "uploads", "name": name})["sha256"]
        except NotFoundError as err:
            raise NotFoundError("the archive {} is not on the master: upload it first with upload_file or upload_project_folder ({})".format(name, err.message))

    def _upload_blobs(self, blobs: Mapping[str, bytes]) -> None:
        """Uploads the blobs the master lacks (by sha256), in chunks of at most 1 MiB."""
        if not blobs:
            return
        missing = self.call("blob.missing", {"hashes": list(blobs)})["missing"]
        for sha in missing:
            content = blobs[sha]
            offset = 0
            while True:
                part = content[offset:offset + CHUNK_BYTES]
                final = offset + len(part) >= len(content)
                self.call("blob.put", {"sha256": sha, "offset": offset, "data": base64.b64encode(part).decode("ascii"), "final": final})
                offset += len(part)
                if final:
                    break

    # ---- status and logs (Titan) ----------------------------------------------------------------

    def get_job_status(self, job_id: str) -> str:
        """Titan's status of a job (``DAG-<id>`` or ``<id>``, or ``runId/jobId``): ``PENDING``,
        ``RUNNING``, ``COMPLETED``, ``DEAD``, ``CANCELLED``, or ``"NULL"`` for an unknown job as
        Titan answered. ``status()`` gives the full status and raises for unknown jobs."""
        try:
            return titan_status(self.status(job_id))
        except NotFoundError:
            return "NULL"

    def fetch_logs(self, job_id: str) -> str:
        """The whole output of the job's latest attempt (``DAG-<id>`` accepted)."""
        return self.logs(job_id)

    # ---- files (Titan) --------------------------------------------------------------------------

    def upload_file(self, filepath: str) -> str:
        """Stores a local file in the master's ``uploads`` under its base name (assets, zips for
        archive jobs); ``"UPLOAD_SUCCESS"``."""
        self.put_file("uploads", filepath)
        return "UPLOAD_SUCCESS"

    def deploy_script(self, filepath: str) -> str:
        """Stores a local file in the master's script library; ``"DEPLOY_SUCCESS"``."""
        self.put_file("scripts", filepath)
        return "DEPLOY_SUCCESS"

    def upload_project_folder(self, folder_path: str, project_name: Optional[str] = None) -> str:
        """Zips a folder (paths relative to it; ``.git``, ``.env``, ``node_modules``,
        ``__pycache__`` and ``.titanignore`` matches left out; nothing written locally) and
        uploads it as ``<project_name or folder name>.zip``; ``"UPLOAD_SUCCESS"``. Jobs then run
        entries of it: ``TitanJob(id, "<name>.zip/src/main.py", is_archive=True)``."""
        folder = os.path.abspath(folder_path)
        name = project_name or os.path.basename(folder.rstrip(os.sep)) or "project"
        if name.endswith(".zip"):
            name = name[:-4]
        zipped = build_project_zip(folder)
        self._upload_blobs({zipped.sha256: zipped.content})
        self.call("files.put", {"area": "uploads", "name": zip_base_name(name) + ".zip", "sha256": zipped.sha256})
        return "UPLOAD_SUCCESS"

    def put_file(self, area: str, filepath: str, name: Optional[str] = None) -> Dict[str, Any]:
        """Stores a local file in ``uploads`` or ``scripts`` (under ``name``, default its base
        name); returns ``{name, size}``. Only content the master lacks is sent."""
        content = _read_local(filepath)
        sha = hashlib.sha256(content).hexdigest()
        self._upload_blobs({sha: content})
        return self.call("files.put", {"area": area, "name": name or os.path.basename(filepath), "sha256": sha})

    def list_files(self, area: str = "uploads") -> List[Dict[str, Any]]:
        """``[{name, size, modifiedAt}]`` of ``uploads`` or ``scripts``."""
        return self.call("files.list", {"area": area})["files"]

    def get_file(self, area: str, name: str) -> bytes:
        """A whole file of ``uploads`` or ``scripts``."""
        parts = []  # type: List[bytes]
        offset = 0
        while True:
            chunk = self.call("files.get", {"area": area, "name": name, "offset": offset})
            data = base64.b64decode(chunk["data"])
            parts.append(data)
            offset += len(data)
            if offset >= chunk["size"] or not data:
                return b"".join(parts)

    # ---- artifacts (Titan names) ----------------------------------------------------------------

    def publish_artifact(self, key: str, filename: str) -> bool:
        """Uploads a local file as the artifact ``key`` (checked by sha256); inside a job it is
        recorded as the attempt's. ``True``; failures raise."""
        self.put_artifact(key, filename)
        return True

    def get_artifact(self, key: str, save_path: Optional[str] = None) -> bool:
        """Downloads the artifact ``key`` to ``save_path`` (default: the temp folder, under the
        key's last segment). ``True``; ``False`` when there is no such artifact. A key written by
        Titan's own SDK (a KV key naming an uploaded file) is followed too."""
        if _artifact_key_ok(key):
            try:
                self.download_artifact(key, save_path or os.path.join(tempfile.gettempdir(), posixpath.basename(key)))
                return True
            except NotFoundError:
                pass
        pointer = self.get(key) if _kv_key_ok(key) else None
        if pointer is None or pointer in _ABSENT:
            return False
        try:
            content = self.get_file("uploads", os.path.basename(pointer))
        except NotFoundError:
            return False
        _write_atomic(save_path or os.path.join(tempfile.gettempdir(), os.path.basename(pointer)), content)
        return True

    def fetch_artifact(self, filename: str, save_path: Optional[str] = None) -> bool:
        """Downloads ``filename`` to ``save_path`` (default: its base name in the current
        folder): the artifact of that key, else the file of that name in ``uploads`` (Titan's
        meaning). ``True``; ``False`` when neither exists."""
        dest = save_path or os.path.basename(filename)
        if _artifact_key_ok(filename):
            try:
                self.download_artifact(filename, dest)
                return True
            except NotFoundError:
                pass
        try:
            content = self.get_file("uploads", os.path.basename(filename))
        except NotFoundError:
            return False
        _write_atomic(dest, content)
        return True

    # ---- artifacts ------------------------------------------------------------------------------

    def put_artifact(self, key: str, source: Union[str, bytes, bytearray], run_id: Optional[str] = None, job_id: Optional[str] = None, attempt: Optional[int] = None) -> Dict[str, Any]:
        """Uploads a file (by path) or bytes as the artifact ``key``; returns its description
        ``{key, sha256, size, runId, jobId, attempt, createdAt}``. The provenance defaults to
        the job's own (``TITAN_RUN_ID``, ``TITAN_JOB_ID``, ``TITAN_ATTEMPT``)."""
        if isinstance(source, (bytes, bytearray)):
            content = bytes(source)
        else:
            content = _read_local(source)
        params = {"key": key, "size": len(content)}  # type: Dict[str, Any]
        params.update(_provenance(run_id, job_id, attempt))
        conn = self._connection()
        begun = conn.request("artifact.put.begin", params)
        upload_id = begun["uploadId"]
        chunk_bytes = int(begun.get("chunkBytes") or CHUNK_BYTES)
        in_flight = []  # type: List[Tuple[int, Any]]
        offset = 0
        while offset < len(content):
            part = content[offset:offset + chunk_bytes]
            in_flight.append(conn.begin("artifact.put.part", {"uploadId": upload_id, "offset": offset, "data": base64.b64encode(part).decode("ascii")}))
            offset += len(part)
            if len(in_flight) >= _UPLOAD_WINDOW:
                conn.wait(*in_flight.pop(0))
        for rid, pending in in_flight:
            conn.wait(rid, pending)
        committed = conn.request("artifact.put.commit", {"uploadId": upload_id, "sha256": hashlib.sha256(content).hexdigest()})
        return committed["artifact"]

    def read_artifact(self, key: str) -> bytes:
        """The artifact's whole content, checked against its sha256."""
        parts = []  # type: List[bytes]
        self._download(key, parts.append)
        return b"".join(parts)

    def download_artifact(self, key: str, dest: str) -> Dict[str, Any]:
        """Streams the artifact to ``dest``, which appears only once the sha256 matched; returns
        its description."""
        part_path = dest + ".part"
        try:
            out = open(part_path, "wb")
        except OSError as err:
            raise BadRequestError("cannot write {}: {}".format(dest, err))
        try:
            with out:
                info = self._download(key, out.write)
            os.replace(part_path, dest)
            return info
        except BaseException:
            try:
                os.unlink(part_path)
            except OSError:
                pass
            raise

    def _download(self, key: str, sink: Callable[[bytes], Any]) -> Dict[str, Any]:
        digest = hashlib.sha256()
        pinned = None  # type: Optional[str]
        offset = 0
        while True:
            params = {"key": key, "offset": offset}  # type: Dict[str, Any]
            if pinned is not None:
                params["sha256"] = pinned
            reply = self.call("artifact.get", params)
            artifact = reply["artifact"]
            pinned = artifact["sha256"]
            data = base64.b64decode(reply["data"])
            if not data and offset < artifact["size"]:
                raise TitanError("INTERNAL", "the master sent no data for {!r} at offset {}".format(key, offset))
            digest.update(data)
            sink(data)
            offset = reply["nextOffset"]
            if offset < artifact["size"]:
                continue
            actual = digest.hexdigest()
            if actual != artifact["sha256"]:
                raise TitanError("INTERNAL", "download of {!r} does not match its sha256: expected {}, got {}".format(key, artifact["sha256"], actual))
            return artifact

    def list_artifacts(self, prefix: str = "", run_id: Optional[str] = None, limit: int = 1000) -> List[Dict[str, Any]]:
        params = {"prefix": prefix, "limit": limit}  # type: Dict[str, Any]
        if run_id is not None:
            params["runId"] = run_id
        return self.call("artifact.list", params)["artifacts"]

    def delete_artifact(self, key: str) -> bool:
        return bool(self.call("artifact.delete", {"key": key})["deleted"])

    # ---- the data bus (Titan names) -------------------------------------------------------------

    def store_put(self, key: str, value: Any) -> str:
        """Sets a string value (durable when this returns); ``"OK"``."""
        self.set(key, value)
        return "OK"

    def store_get(self, key: str, default: Optional[str] = "NULL") -> Optional[str]:
        """The value of ``key``, or ``"NULL"`` when it is absent, as Titan answered, so
        ``if v != "NULL"`` keeps working. Pass ``default=None`` (or use ``get``) for None."""
        value = self.get(key)
        return default if value is None else value

    def store_sadd(self, key: str, member: Any) -> int:
        """Adds one member to a set; 1 if it was added, 0 if it was there."""
        return self.sadd(key, member)

    def store_smembers(self, key: str) -> List[str]:
        """The members of a set (``[]`` when absent)."""
        return self.smembers(key)

    # ---- the data bus ---------------------------------------------------------------------------

    def get(self, key: str) -> Optional[str]:
        """A string key's value, or None when it is absent."""
        return self.call("kv.get", {"key": key})["value"]

    def get_versioned(self, key: str) -> Dict[str, Any]:
        """``{value, version, expiresAt}``; version 0 when absent."""
        return self.call("kv.get", {"key": key})

    def set(self, key: str, value: Any, ttl: Optional[float] = None) -> int:
        """Sets a string value (``ttl`` in seconds); returns its new version once durable."""
        params = {"key": key, "value": value if isinstance(value, str) else str(value)}  # type: Dict[str, Any]
        if ttl is not None:
            params["ttlMs"] = max(1, int(round(ttl * 1000)))
        return self.call("kv.set", params)["version"]

    def delete(self, key: str) -> bool:
        """True when the key existed."""
        return self.call("kv.del", {"key": key})["deleted"] == 1

    def incr(self, key: str, by: int = 1) -> int:
        return self.call("kv.incr", {"key": key, "by": by})["value"]

    def cas(self, key: str, expected: Optional[str], value: Optional[str], ttl: Optional[float] = None) -> bool:
        """Sets ``value`` (None deletes) only if the key holds ``expected`` (None: is absent)."""
        params = {"key": key, "expected": expected, "value": value}  # type: Dict[str, Any]
        if ttl is not None:
            params["ttlMs"] = max(1, int(round(ttl * 1000)))
        return bool(self.call("kv.cas", params)["swapped"])

    def sadd(self, key: str, *members: Any) -> int:
        """How many of the members were not in the set yet."""
        return self.call("kv.sadd", {"key": key, "members": [str(m) for m in members]})["added"]

    def srem(self, key: str, *members: Any) -> int:
        return self.call("kv.srem", {"key": key, "members": [str(m) for m in members]})["removed"]

    def smembers(self, key: str) -> List[str]:
        return self.call("kv.smembers", {"key": key})["members"]

    def keys(self, prefix: str = "", limit: int = 1000) -> List[Dict[str, Any]]:
        return self.call("kv.keys", {"prefix": prefix, "limit": limit})["keys"]

    def wait_for_key(self, key: str, since_version: Optional[int] = None, timeout: float = 60) -> Dict[str, Any]:
        """``{changed, value, version}`` at the key's next change (or at once when its version is
        no longer ``since_version``); ``changed: False`` after ``timeout`` seconds (at most 1 h)."""
        params = {"key": key, "timeoutMs": max(1, int(round(timeout * 1000)))}  # type: Dict[str, Any]
        if since_version is not None:
            params["sinceVersion"] = since_version
        return self.call("kv.wait", params, timeout=timeout + 30)

    def wait_for_value(self, key: str, timeout: Optional[float] = None) -> str:
        """Blocks until ``key`` holds a value and returns it (the master wakes the waiter; nothing
        polls). Raises TitanTimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        entry = self.get_versioned(key)
        while entry.get("value") is None:
            left = 3600.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TitanTimeoutError("no value for {!r} within {:g} s".format(key, timeout))
            entry = self.wait_for_key(key, since_version=entry["version"], timeout=min(left, 3600.0))
        return entry["value"]

    # ---- runs, jobs and control -----------------------------------------------------------------

    def get_run(self, run_id: str) -> Dict[str, Any]:
        """``{run, jobs}``."""
        return self.call("run.get", {"runId": run_id})

    def runs(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None) -> List[Dict[str, Any]]:
        """The newest runs (one page; ``runs_page`` gives the pages after it)."""
        return self.runs_page(limit, status, tag)["runs"]

    def runs_page(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None, after: Optional[str] = None) -> Dict[str, Any]:
        """``{runs, next}``: one page of runs, newest first; pass ``next`` as ``after`` for the
        following page (None: no more)."""
        params = {"limit": limit}  # type: Dict[str, Any]
        if status is not None:
            params["status"] = status
        if tag is not None:
            params["tag"] = tag
        if after is not None:
            params["after"] = after
        return self.call("runs.list", params)

    def get_job(self, ref: str) -> Dict[str, Any]:
        """``{job, attempts}`` of ``runId/jobId`` or a bare job id (its latest run)."""
        return self.call("job.get", {"ref": ref})

    def status(self, ref: str) -> str:
        """The job's status here: PENDING, QUEUED, RUNNING, COMPLETED, FAILED (a retry is
        pending), DEAD, CANCELLED, SKIPPED or WAITING_APPROVAL. NotFoundError if unknown."""
        return self.get_job(ref)["job"]["status"]

    def logs(self, ref: str, attempt: Optional[int] = None) -> str:
        """The whole output of one attempt (the latest by default)."""
        text = []  # type: List[str]
        offset = 0
        while True:
            params = {"ref": ref, "offset": offset}  # type: Dict[str, Any]
            if attempt is not None:
                params["attempt"] = attempt
            chunk = self.call("logs.get", params)
            text.append(chunk.get("data", ""))
            if chunk["nextOffset"] == offset:
                return "".join(text)
            offset = chunk["nextOffset"]
            attempt = chunk["attempt"]

    def follow_logs(self, ref: str, timeout: Optional[float] = None) -> LogStream:
        """Output as it is produced, across retries, until the job reaches a terminal status:
        ``for text in client.follow_logs(ref): print(text, end="")``; then ``.status``.
        ``timeout`` bounds the wait for each chunk (TitanTimeoutError)."""
        sub = self._connection().subscribe("logs.follow", {"ref": ref})
        return LogStream(sub, timeout)

    def cancel(self, ref: str) -> Dict[str, Any]:
        """Cancels a job (and what waits on it); returns the job."""
        return self.call("job.cancel", {"ref": ref})["job"]

    def cancel_run(self, run_id: str) -> int:
        """Cancels every job of the run not yet ended; returns how many."""
        return self.call("run.cancel", {"runId": run_id})["cancelled"]

    def delete_run(self, run_id: str) -> bool:
        """Deletes a finished run with its jobs, attempts, gate decisions, logs and artifacts;
        False when there is no such run, ConflictError while it runs."""
        return bool(self.call("run.delete", {"runId": run_id})["deleted"])

    def retry(self, ref: str) -> Dict[str, Any]:
        """Runs a DEAD or CANCELLED job again in its run with a fresh retry budget; the jobs it
        skipped wait for it again. ConflictError for a job in another status."""
        return self.call("job.retry", {"ref": ref})["job"]

    def rerun(self, run_id: str) -> Dict[str, Any]:
        """Submits a run's jobs again as a new run: ``{runId, jobs}``."""
        return self.call("run.rerun", {"runId": run_id})

    def wait_for_run(self, run_id: Optional[str] = None, timeout: Optional[float] = None, until_services_up: bool = False, on_event: Optional[Callable[[str, Any], None]] = None) -> Dict[str, Any]:
        """Waits for the run (default: this client's latest submission) to finish and returns
        ``{run, jobs}``; ``run.status`` is COMPLETED, FAILED or CANCELLED. A run with services
        finishes only when they are stopped; with ``until_services_up`` the wait ends once every
        other job has ended and every service is up. TitanTimeoutError after ``timeout`` s.
        ``on_event(kind, value)`` sees ``("job", job)`` and ``("run", run)`` changes."""
        run_id = run_id or self.last_run_id
        if not run_id:
            raise BadRequestError("wait_for_run needs a run id")
        deadline = None if timeout is None else time.monotonic() + timeout
        sub = self._connection().subscribe("run.watch", {"runId": run_id, "jobs": True}, timeout=timeout)
        try:
            snapshot = sub.reply["snapshot"]
            run = snapshot["run"]
            jobs = {j["spec"]["id"]: j for j in snapshot["jobs"]}  # type: Dict[str, Dict[str, Any]]
            while run["status"] == "RUNNING":
                if until_services_up and jobs and all(_settled(j) for j in jobs.values()) and any(j["status"] not in _TERMINAL for j in jobs.values()):
                    break
                left = None
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TitanTimeoutError("run {} did not finish within {:g} s".format(run_id, timeout))
                try:
                    event, data = sub.next(left)
                except TitanTimeoutError:
                    raise TitanTimeoutError("run {} did not finish within {:g} s".format(run_id, timeout))
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

    def wait_for_job(self, ref: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Waits for one job to reach a terminal status and returns it."""
        job = self.get_job(ref)["job"]
        if job["status"] in _TERMINAL:
            return job
        deadline = None if timeout is None else time.monotonic() + timeout
        job_id = job["spec"]["id"]
        sub = self._connection().subscribe("run.watch", {"runId": job["runId"], "jobs": True}, timeout=timeout)
        try:
            for seen in sub.reply["snapshot"]["jobs"]:
                if seen["spec"]["id"] == job_id and seen["status"] in _TERMINAL:
                    return seen
            while True:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TitanTimeoutError("job {} did not finish within {:g} s".format(ref, timeout))
                try:
                    event, data = sub.next(left)
                except TitanTimeoutError:
                    raise TitanTimeoutError("job {} did not finish within {:g} s".format(ref, timeout))
                if event == "run.jobs":
                    for seen in data.get("jobs", []):
                        if seen["spec"]["id"] == job_id and seen["status"] in _TERMINAL:
                            return seen
                elif event == "run.update" and data["run"]["status"] != "RUNNING":
                    return self.get_job(job["ref"])["job"]
        finally:
            sub.close()

    # ---- gates ----------------------------------------------------------------------------------

    def list_gates(self, history: int = 0) -> Dict[str, Any]:
        """``{pending, history}``: gates waiting for a decision (oldest first), and the latest
        ``history`` decisions."""
        return self.call("gates.list", {"history": history})

    gates = list_gates

    def approve(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """Approves a gate: ``runId/gateId``, a gate id (``hitl-gate-<job>``; its latest run), or
        a Titan-style gate. ConflictError unless it is waiting. Returns ``{ref, approved, job}``.
        The master records the decision under the name of this client's token."""
        return self.call("gate.decide", {"ref": ref, "approved": True, "comment": comment})

    def reject(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """Rejects a gate: it fails and the jobs after it are skipped."""
        return self.call("gate.decide", {"ref": ref, "approved": False, "comment": comment})

    # ---- cluster --------------------------------------------------------------------------------

    def stats(self) -> Dict[str, Any]:
        return self.call("stats", {})

    def workers(self) -> List[Dict[str, Any]]:
        return self.call("workers.list", {})["workers"]

    def services(self) -> List[Dict[str, Any]]:
        return self.call("services.list", {})["services"]

    def stop_service(self, service_id: str) -> str:
        """Stops a service for good (it is not restarted): ``"STOPPED: <id>"`` as Titan. The id
        may carry Titan's ``DAG-`` prefix, or be ``runId/jobId``. NotFoundError if unknown."""
        if not service_id:
            raise ValueError("Service ID cannot be empty")
        self.call("service.stop", {"ref": service_id})
        return "STOPPED: {}".format(service_id)

    def drain_worker(self, worker_id: str) -> Dict[str, Any]:
        """The worker finishes what it runs and takes no new work."""
        return self.call("worker.drain", {"id": worker_id})["worker"]

    def undrain_worker(self, worker_id: str) -> Dict[str, Any]:
        """A drained worker takes work again; ConflictError for one that is shutting down."""
        return self.call("worker.undrain", {"id": worker_id})["worker"]

    def shutdown_worker(self, worker_id: str, force: bool = False, drain_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Drains the worker, then its process exits (a permanent one needs ``force``). What still
        runs after ``drain_timeout`` seconds (default: the worker's ``--drain-timeout``) is handed
        back and runs elsewhere without spending a retry."""
        params: Dict[str, Any] = {"id": worker_id, "force": force}
        if drain_timeout is not None:
            params["drainTimeoutMs"] = int(round(drain_timeout * 1000))
        return self.call("worker.shutdown", params)["worker"]

    # ---- schedules and agent runs ---------------------------------------------------------------

    def schedules(self) -> List[Dict[str, Any]]:
        return self.call("schedules.list", {})["schedules"]

    def pause_schedule(self, name: str) -> Dict[str, Any]:
        return self.call("schedule.pause", {"name": name})["schedule"]

    def resume_schedule(self, name: str) -> Dict[str, Any]:
        return self.call("schedule.resume", {"name": name})["schedule"]

    def delete_schedule(self, name: str) -> Dict[str, Any]:
        return self.call("schedule.delete", {"name": name})["schedule"]

    def run_schedule_now(self, name: str) -> str:
        """Submits the schedule's run now; returns the run id."""
        run_id = self.call("schedule.runNow", {"name": name})["runId"]
        self.last_run_id = run_id
        return run_id

    def agent_runs(self, limit: int = 20) -> List[Dict[str, Any]]:
        return self.call("agentRuns.list", {"limit": limit})["agentRuns"]

    def agent_run(self, agent_run_id: str) -> Dict[str, Any]:
        return self.call("agentRun.get", {"agentRunId": agent_run_id})


# ---- helpers ----------------------------------------------------------------------------------------


def _pipeline_specs(pipeline: Dict[str, Any], folder: str) -> Tuple[List[Dict[str, Any]], Dict[str, bytes]]:
    """The JobSpecs of a parsed pipeline and the blobs they need: each ``file`` read relative to
    the YAML's folder, or in project mode the folder zipped once and each file an entry of it."""
    jobs = pipeline.get("jobs") or []
    blobs = {}  # type: Dict[str, bytes]
    zipped = None
    zip_name = zip_base_name(str(pipeline.get("name") or os.path.basename(folder) or "project")) + ".zip"
    if pipeline.get("project"):
        zipped = build_project_zip(folder)
        blobs[zipped.sha256] = zipped.content
        in_zip = set(zipped.files)
    specs = []  # type: List[Dict[str, Any]]
    for raw in jobs:
        if not isinstance(raw, dict):
            raise ProtocolError("BAD_JSON", "the master's pipeline.parse answered a job that is not an object: {!r}".format(raw))
        spec = {k: v for k, v in raw.items() if k not in ("file", "fileAt")}
        where = raw.get("fileAt") or "job {!r}".format(raw.get("id"))
        file = raw.get("file")
        if file is not None and spec.get("kind", "run") != "approval":
            if zipped is not None:
                entry = posixpath.normpath(str(file).replace("\\", "/"))
                if entry.startswith("/") or entry in (".", "..") or entry.startswith("../") or (len(entry) > 1 and entry[1] == ":"):
                    raise BadRequestError("{}: job {!r}: {} must be a file inside the project folder {}".format(where, raw.get("id"), file, folder))
                if entry not in in_zip:
                    why = "is left out of the project zip (by .titanignore, or as .git, .env, node_modules or __pycache__)" if os.path.exists(os.path.join(folder, entry)) else "names no file in the project folder"
                    raise BadRequestError("{}: job {!r}: {} {}".format(where, raw.get("id"), entry, why))
                spec["archive"] = {"name": zip_name, "sha256": zipped.sha256, "entry": entry}
            else:
                path = os.path.join(folder, str(file))
                try:
                    with open(path, "rb") as f:
                        content = f.read()
                except FileNotFoundError:
                    raise TitanFileNotFoundError("{}: job {!r}: cannot read {}: no such file".format(where, raw.get("id"), path), path)
                except OSError as err:
                    raise BadRequestError("{}: job {!r}: cannot read {}: {}".format(where, raw.get("id"), path, err))
                sha = hashlib.sha256(content).hexdigest()
                blobs[sha] = content
                spec["script"] = {"name": os.path.basename(path), "sha256": sha}
        specs.append(spec)
    return specs, blobs


def _read_local(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise TitanFileNotFoundError("File not found at: {}".format(path), path)
    except IsADirectoryError:
        raise BadRequestError("{} is a folder, not a file".format(path))
    except OSError as err:
        raise BadRequestError("cannot read {}: {}".format(path, err))


def _write_atomic(dest: str, data: bytes) -> None:
    part = dest + ".part"
    try:
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, dest)
    except OSError as err:
        raise BadRequestError("cannot write {}: {}".format(dest, err))


def _provenance(run_id: Optional[str], job_id: Optional[str], attempt: Optional[int]) -> Dict[str, Any]:
    """Inside a job, what it publishes is recorded as the attempt's (the worker's environment)."""
    run_id = run_id or os.environ.get("TITAN_RUN_ID")
    job_id = job_id or os.environ.get("TITAN_JOB_ID")
    if attempt is None:
        try:
            attempt = int(os.environ.get("TITAN_ATTEMPT", ""))
        except ValueError:
            attempt = None
    if not run_id or not job_id or attempt is None or attempt < 1:
        return {}
    return {"runId": run_id, "jobId": job_id, "attempt": attempt}


def _kv_key_ok(key: str) -> bool:
    """A key the data bus accepts: 1-512 of letters, digits and ``_ . : / @ + = , -``."""
    return _KV_KEY.match(key) is not None and len(key) <= 512


def _artifact_key_ok(key: str) -> bool:
    """A key the artifact store accepts: relative path segments of letters, digits, spaces and
    ``_ . , + = @ ~ ( ) [ ] ! # % & ' -``."""
    if not key or len(key) > 1024 or key.startswith("/"):
        return False
    return all(seg not in ("", ".", "..") and _ARTIFACT_SEGMENT.match(seg) is not None for seg in key.split("/"))
