"""``TitanClient``: the Python SDK over the v2 protocol (docs/protocol.md).

One persistent connection per client, opened on first use and reopened by the next call after it
drops. The master and token come from the constructor or, when the connection opens, from
``TITAN_MASTERS`` (several masters sharing a store, comma-separated) or ``TITAN_HOST`` (default
``127.0.0.1``) and ``TITAN_PORT`` (default ``9090``), and ``TITAN_TOKEN``, so ``TitanClient()``
needs no configuration inside a job. With several masters the client finds the one that leads
(a standby answers ``NOT_LEADER``) and follows it through a failover. Every failure raises a
:class:`~titan_sdk.errors.TitanError` subclass carrying the master's message.

The methods live in sub-clients by concept (``client.run``, ``client.store``, ...; the modules
beside this one). The flat methods are kept for compatibility, each one delegating to its
sub-client with the same signature; Titan's methods keep Titan's names, arguments and the results
a Titan script compares (``_titan.py``); the other methods return the master's JSON as dicts and lists.
"""

import os
import ssl
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from . import _wire
from ._agent import AgentRunClient
from ._artifact import ArtifactClient
from ._core import CHUNK_BYTES, DEFAULT_HOST, DEFAULT_PORT, resolve_address
from ._file import FileClient
from ._gate import GateClient
from ._job import JobClient
from ._limits import LimitClient
from ._masters import LeaderSearch, Master, parse_masters
from ._results import LogStream, SubmitResult, titan_status
from ._run import RunClient
from ._schedule import ScheduleClient
from ._service import ServiceClient
from ._store import StoreClient
from ._titan import TitanNames
from ._worker import WorkerClient
from .errors import BadRequestError, NotLeaderError, TitanConnectionError, TitanError
from .jobs import TitanJob

#: Requests refused with NOT_LEADER (nothing was done) are sent again to the leader this many times at most.
NOT_LEADER_TRIES = 4

__all__ = ["TitanClient", "SubmitResult", "LogStream", "resolve_address", "titan_status", "CHUNK_BYTES", "DEFAULT_HOST", "DEFAULT_PORT"]


class TitanClient(TitanNames):
    """A client of the Titan master (v2 protocol).

    ``TitanClient()`` reads ``TITAN_MASTERS`` (or ``TITAN_HOST`` and ``TITAN_PORT``) and
    ``TITAN_TOKEN`` when it connects; ``TitanClient(host, port, token)`` fixes them, and
    ``TitanClient(masters=["a:9090", "b:9090"])`` names several masters sharing a store, of
    which the client finds and follows the leader. TLS likewise: ``TITAN_TLS=1`` (system CAs),
    ``TITAN_CA`` (a CA file), ``TITAN_CERT`` and ``TITAN_KEY`` (a client certificate for mutual
    TLS), or ``tls=`` an ``ssl.SSLContext``. ``connect_timeout`` bounds the TCP connect and
    the greeting (seconds); with several masters, how long to look for the leader. Use it as a context manager, or call ``close()``, to close the
    connection; a process may also just exit.

    Its methods are grouped by concept in sub-clients, all sending over the client's one
    connection: ``client.run`` (submit, wait, ...), ``client.job``, ``client.gate``,
    ``client.worker``, ``client.service``, ``client.schedule``, ``client.agent``,
    ``client.store`` (the data bus), ``client.artifact``, ``client.file`` and ``client.limits``. The flat methods
    (``submit_dag``, ``wait_for_run``, ``store_put``, ...) remain, delegating to them.
    """

    def __init__(self, host: Optional[str] = None, port: Optional[int] = None, token: Optional[str] = None, connect_timeout: float = 10.0, tls: Optional[ssl.SSLContext] = None, masters: Optional[Union[str, Sequence[str]]] = None) -> None:
        self.host = host
        #: Several masters sharing a store (``["a:9090", "b:9090"]`` or ``"a:9090,b:9090"``), instead of host and port.
        self.masters = masters
        #: An ``ssl.SSLContext`` for TLS to the master; None: ``TITAN_TLS``/``TITAN_CA``/``TITAN_CERT``/``TITAN_KEY`` decide at connect time.
        self.tls = tls
        self.port = port
        self.token = token
        self.connect_timeout = connect_timeout
        #: The run id of the latest submission made by this client.
        self.last_run_id = None  # type: Optional[str]
        self._conn = None  # type: Optional[_wire.Connection]
        self._lock = threading.Lock()
        self._search = None  # type: Optional[Tuple[List[Master], LeaderSearch]]

    # ---- connection -----------------------------------------------------------------------------

    def _master_list(self) -> Tuple[List[Master], Optional[str]]:
        """The masters to try, in order, and the token: ``masters``, else host and port, else
        ``TITAN_MASTERS``, else ``TITAN_HOST`` and ``TITAN_PORT``."""
        if self.masters is not None:
            return parse_masters(self.masters), self.token or os.environ.get("TITAN_TOKEN") or None
        env = os.environ.get("TITAN_MASTERS")
        if self.host is None and self.port is None and env:
            try:
                return parse_masters(env), self.token or os.environ.get("TITAN_TOKEN") or None
            except TitanError as err:
                raise BadRequestError("TITAN_MASTERS: {}".format(err.message))
        host, port, token = resolve_address(self.host, self.port, self.token)
        return [(host, port)], token

    def _connection(self) -> _wire.Connection:
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed:
                masters, token = self._master_list()
                tls = self.tls if self.tls is not None else _wire.tls_context_from_env()
                if self._search is None or self._search[0] != masters:
                    self._search = (masters, LeaderSearch(masters))
                conn = self._dial_leader(self._search[1], token, tls)
                self._conn = conn
            return conn

    def _dial_leader(self, search: LeaderSearch, token: Optional[str], tls: Optional[ssl.SSLContext]) -> _wire.Connection:
        """Dials the masters in turn until one leads: a standby's hint is dialled next; rounds
        are repeated with backoff until ``connect_timeout``. One address that cannot be reached
        is an error at once, as it always was."""
        deadline = time.monotonic() + self.connect_timeout
        standby = False
        last = None  # type: Optional[TitanError]
        search.restart()
        while True:
            master, wait = search.next()
            if last is not None and (wait > 0 or time.monotonic() >= deadline):
                if not search.several and not standby:
                    raise last
                if time.monotonic() + wait >= deadline:
                    raise TitanConnectionError("no master answered as leader within {:g} s (tried {}); last: {}".format(self.connect_timeout, ", ".join(search.tried), last))
                time.sleep(wait)
            try:
                budget = self.connect_timeout if last is None else max(0.1, deadline - time.monotonic())
                conn = _wire.Connection(master[0], master[1], token, budget, tls)
            except NotLeaderError as err:
                standby = True
                search.refused(err.leader, master)
                last = err
                continue
            except TitanConnectionError as err:
                last = err
                continue
            search.found(master)
            return conn

    def _deposed(self, conn: _wire.Connection, err: NotLeaderError) -> None:
        """``conn``'s master no longer leads: the next connection goes to the leader it named."""
        if self._search is not None:
            self._search[1].refused(err.leader, (conn.host, conn.port))
        with self._lock:
            if self._conn is conn:
                self._conn = None
        conn.close()

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        """Sends one v2 request and returns its result (any method of docs/protocol.md). A
        master that answers NOT_LEADER did nothing with it: it is sent again to the leader."""
        tries = 1
        while True:
            conn = self._connection()
            try:
                return conn.request(method, params if params is not None else {}, timeout)
            except NotLeaderError as err:
                if tries >= NOT_LEADER_TRIES:
                    raise
                tries += 1
                self._deposed(conn, err)

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

    # ---- sub-clients: each made on access (it holds only the client), so none keeps a cycle -------

    @property
    def run(self) -> RunClient:
        """Runs: submitting, reading, controlling, waiting."""
        return RunClient(self)

    @property
    def job(self) -> JobClient:
        """One job: state, control, output."""
        return JobClient(self)

    @property
    def gate(self) -> GateClient:
        """Approval gates."""
        return GateClient(self)

    @property
    def worker(self) -> WorkerClient:
        """The connected workers."""
        return WorkerClient(self)

    @property
    def service(self) -> ServiceClient:
        """Service jobs."""
        return ServiceClient(self)

    @property
    def schedule(self) -> ScheduleClient:
        """Cron schedules."""
        return ScheduleClient(self)

    @property
    def agent(self) -> AgentRunClient:
        """Agent runs."""
        return AgentRunClient(self)

    @property
    def store(self) -> StoreClient:
        """The data bus: keys, sets, waiting for a change."""
        return StoreClient(self)

    @property
    def artifact(self) -> ArtifactClient:
        """Artifacts, kept on the master by key."""
        return ArtifactClient(self)

    @property
    def file(self) -> FileClient:
        """The master's ``uploads`` and ``scripts`` file areas."""
        return FileClient(self)

    @property
    def limits(self) -> LimitClient:
        """The cluster's flow limits on keys, and what each key holds and keeps waiting."""
        return LimitClient(self)

    def stats(self) -> Dict[str, Any]:
        """The master's counters: workers, queue, runs."""
        return self.call("stats", {})

    # ---- kept for compatibility: the flat names, each delegating to its sub-client ----------------

    def submit_job(self, job: TitanJob, agent_run_id: Optional[str] = None) -> SubmitResult:
        """``run.submit_job``."""
        return self.run.submit_job(job, agent_run_id=agent_run_id)

    def submit_dag(self, name: str, jobs: Sequence[TitanJob], agent_run_id: Optional[str] = None, tags: Optional[Sequence[str]] = None, fairness: Optional[Dict[str, Any]] = None, singleton: Optional[str] = None, debounce: Optional[Dict[str, Any]] = None, on: Optional[Dict[str, str]] = None) -> SubmitResult:
        """``run.submit``."""
        return self.run.submit(name, jobs, agent_run_id=agent_run_id, tags=tags, fairness=fairness, singleton=singleton, debounce=debounce, on=on)

    def submit_yaml(self, yaml_path: str, agent_run_id: Optional[str] = None, wait: bool = False, poll_interval: float = 2, timeout: Optional[float] = 300) -> Union[SubmitResult, bool]:
        """``run.submit_yaml``."""
        return self.run.submit_yaml(yaml_path, agent_run_id=agent_run_id, wait=wait, poll_interval=poll_interval, timeout=timeout)

    def parse_pipeline(self, yaml_path: str) -> Dict[str, Any]:
        """``run.parse_pipeline``."""
        return self.run.parse_pipeline(yaml_path)

    def submit_run(self, jobs: Sequence[TitanJob], name: str = "run", agent_run_id: Optional[str] = None, tags: Optional[Sequence[str]] = None, fairness: Optional[Dict[str, Any]] = None, singleton: Optional[str] = None, debounce: Optional[Dict[str, Any]] = None) -> str:
        """Submits jobs as one run and returns its run id (``run.submit(...).run_id``)."""
        return self.run.submit(name, jobs, agent_run_id=agent_run_id, tags=tags, fairness=fairness, singleton=singleton, debounce=debounce).run_id

    def extend_run(self, jobs: Sequence[TitanJob], run_id: Optional[str] = None) -> Dict[str, Any]:
        """``run.extend``."""
        return self.run.extend(jobs, run_id)

    def get_run(self, run_id: str) -> Dict[str, Any]:
        """``run.get``."""
        return self.run.get(run_id)

    def runs(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None) -> List[Dict[str, Any]]:
        """``run.list``."""
        return self.run.list(limit, status, tag)

    def runs_page(self, limit: int = 50, status: Optional[str] = None, tag: Optional[str] = None, after: Optional[str] = None) -> Dict[str, Any]:
        """``run.page``."""
        return self.run.page(limit, status, tag, after)

    def cancel_run(self, run_id: str) -> int:
        """``run.cancel``."""
        return self.run.cancel(run_id)

    def delete_run(self, run_id: str) -> bool:
        """``run.delete``."""
        return self.run.delete(run_id)

    def rerun(self, run_id: str) -> Dict[str, Any]:
        """``run.rerun``."""
        return self.run.rerun(run_id)

    def wait_for_run(self, run_id: Optional[str] = None, timeout: Optional[float] = None, until_services_up: bool = False, on_event: Optional[Callable[[str, Any], None]] = None) -> Dict[str, Any]:
        """``run.wait``."""
        return self.run.wait(run_id, timeout, until_services_up, on_event)

    def get_job(self, ref: str) -> Dict[str, Any]:
        """``job.get``."""
        return self.job.get(ref)

    def status(self, ref: str) -> str:
        """``job.status``."""
        return self.job.status(ref)

    def logs(self, ref: str, attempt: Optional[int] = None) -> str:
        """``job.logs``."""
        return self.job.logs(ref, attempt)

    def follow_logs(self, ref: str, timeout: Optional[float] = None) -> LogStream:
        """``job.follow``."""
        return self.job.follow(ref, timeout)

    def cancel(self, ref: str) -> Dict[str, Any]:
        """``job.cancel``."""
        return self.job.cancel(ref)

    def retry(self, ref: str) -> Dict[str, Any]:
        """``job.retry``."""
        return self.job.retry(ref)

    def wait_for_job(self, ref: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """``job.wait``."""
        return self.job.wait(ref, timeout)

    def list_gates(self, history: int = 0) -> Dict[str, Any]:
        """``gate.list``."""
        return self.gate.list(history)

    gates = list_gates

    def approve(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """``gate.approve``."""
        return self.gate.approve(ref, comment)

    def reject(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """``gate.reject``."""
        return self.gate.reject(ref, comment)

    def limits_list(self) -> List[Dict[str, Any]]:
        """``limits.list``."""
        return self.limits.list()

    def limits_set(self, key: str, concurrency: Optional[int] = None, rate: Optional[int] = None, per: Optional[str] = None, burst: Optional[int] = None, weight: Optional[int] = None) -> List[Dict[str, Any]]:
        """``limits.set``."""
        return self.limits.set(key, concurrency=concurrency, rate=rate, per=per, burst=burst, weight=weight)

    def limits_remove(self, key: str) -> Dict[str, Any]:
        """``limits.remove``."""
        return self.limits.remove(key)

    def workers(self) -> List[Dict[str, Any]]:
        """``worker.list``."""
        return self.worker.list()

    def drain_worker(self, worker_id: str) -> Dict[str, Any]:
        """``worker.drain``."""
        return self.worker.drain(worker_id)

    def undrain_worker(self, worker_id: str) -> Dict[str, Any]:
        """``worker.undrain``."""
        return self.worker.undrain(worker_id)

    def shutdown_worker(self, worker_id: str, force: bool = False, drain_timeout: Optional[float] = None) -> Dict[str, Any]:
        """``worker.shutdown``."""
        return self.worker.shutdown(worker_id, force, drain_timeout)

    def services(self) -> List[Dict[str, Any]]:
        """``service.list``."""
        return self.service.list()

    def stop_service(self, service_id: str) -> str:
        """``service.stop``."""
        return self.service.stop(service_id)

    def schedules(self) -> List[Dict[str, Any]]:
        """``schedule.list``."""
        return self.schedule.list()

    def pause_schedule(self, name: str) -> Dict[str, Any]:
        """``schedule.pause``."""
        return self.schedule.pause(name)

    def resume_schedule(self, name: str) -> Dict[str, Any]:
        """``schedule.resume``."""
        return self.schedule.resume(name)

    def delete_schedule(self, name: str) -> Dict[str, Any]:
        """``schedule.delete``."""
        return self.schedule.delete(name)

    def run_schedule_now(self, name: str) -> str:
        """``schedule.run_now``."""
        return self.schedule.run_now(name)

    def agent_runs(self, limit: int = 20) -> List[Dict[str, Any]]:
        """``agent.list``."""
        return self.agent.list(limit)

    def agent_run(self, agent_run_id: str) -> Dict[str, Any]:
        """``agent.get``."""
        return self.agent.get(agent_run_id)

    def get(self, key: str) -> Optional[str]:
        """``store.get``."""
        return self.store.get(key)

    def get_versioned(self, key: str) -> Dict[str, Any]:
        """``store.get_versioned``."""
        return self.store.get_versioned(key)

    def set(self, key: str, value: Any, ttl: Optional[float] = None) -> int:
        """``store.set``."""
        return self.store.set(key, value, ttl)

    def delete(self, key: str) -> bool:
        """``store.delete``."""
        return self.store.delete(key)

    def incr(self, key: str, by: int = 1) -> int:
        """``store.incr``."""
        return self.store.incr(key, by)

    def cas(self, key: str, expected: Optional[str], value: Optional[str], ttl: Optional[float] = None) -> bool:
        """``store.cas``."""
        return self.store.cas(key, expected, value, ttl)

    def sadd(self, key: str, *members: Any) -> int:
        """``store.sadd``."""
        return self.store.sadd(key, *members)

    def srem(self, key: str, *members: Any) -> int:
        """``store.srem``."""
        return self.store.srem(key, *members)

    def smembers(self, key: str) -> List[str]:
        """``store.smembers``."""
        return self.store.smembers(key)

    def keys(self, prefix: str = "", limit: int = 1000) -> List[Dict[str, Any]]:
        """``store.keys``."""
        return self.store.keys(prefix, limit)

    def wait_for_key(self, key: str, since_version: Optional[int] = None, timeout: float = 60) -> Dict[str, Any]:
        """``store.wait``."""
        return self.store.wait(key, since_version, timeout)

    def wait_for_value(self, key: str, timeout: Optional[float] = None) -> str:
        """``store.wait_for_value``."""
        return self.store.wait_for_value(key, timeout)

    def put_artifact(self, key: str, source: Union[str, bytes, bytearray], run_id: Optional[str] = None, job_id: Optional[str] = None, attempt: Optional[int] = None) -> Dict[str, Any]:
        """``artifact.put``."""
        return self.artifact.put(key, source, run_id, job_id, attempt)

    def read_artifact(self, key: str) -> bytes:
        """``artifact.read``."""
        return self.artifact.read(key)

    def download_artifact(self, key: str, dest: str) -> Dict[str, Any]:
        """``artifact.download``."""
        return self.artifact.download(key, dest)

    def list_artifacts(self, prefix: str = "", run_id: Optional[str] = None, limit: int = 1000) -> List[Dict[str, Any]]:
        """``artifact.list``."""
        return self.artifact.list(prefix, run_id, limit)

    def delete_artifact(self, key: str) -> bool:
        """``artifact.delete``."""
        return self.artifact.delete(key)

    def put_file(self, area: str, filepath: str, name: Optional[str] = None) -> Dict[str, Any]:
        """``file.put``."""
        return self.file.put(area, filepath, name)

    def list_files(self, area: str = "uploads") -> List[Dict[str, Any]]:
        """``file.list``."""
        return self.file.list(area)

    def get_file(self, area: str, name: str) -> bytes:
        """``file.get``."""
        return self.file.get(area, name)
