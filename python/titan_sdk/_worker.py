"""``client.worker``: the workers connected to the master, and taking one out of service."""

from typing import Any, Dict, List, Optional

from ._core import SubClient


class WorkerClient(SubClient):
    def list(self) -> List[Dict[str, Any]]:
        return self._call("workers.list", {})["workers"]

    def drain(self, worker_id: str) -> Dict[str, Any]:
        """The worker finishes what it runs and takes no new work."""
        return self._call("worker.drain", {"id": worker_id})["worker"]

    def undrain(self, worker_id: str) -> Dict[str, Any]:
        """A drained worker takes work again; ConflictError for one that is shutting down."""
        return self._call("worker.undrain", {"id": worker_id})["worker"]

    def shutdown(self, worker_id: str, force: bool = False, drain_timeout: Optional[float] = None) -> Dict[str, Any]:
        """Drains the worker, then its process exits (a permanent one needs ``force``). What still
        runs after ``drain_timeout`` seconds (default: the worker's ``--drain-timeout``) is handed
        back and runs elsewhere without spending a retry."""
        params: Dict[str, Any] = {"id": worker_id, "force": force}
        if drain_timeout is not None:
            params["drainTimeoutMs"] = int(round(drain_timeout * 1000))
        return self._call("worker.shutdown", params)["worker"]
