"""``client.limits``: the cluster's flow limits on keys (concurrency, rate, fairness weight), set
live and kept by the master across restarts, and what each key holds and keeps waiting."""

from typing import Any, Dict, List, Optional

from ._core import SubClient


class LimitClient(SubClient):
    def list(self) -> List[Dict[str, Any]]:
        """Every key with a cluster limit, holders or waiters: ``{key, limit, holders, waiters,
        nextTokenAt}`` (``limit`` None when the cluster sets none; ``nextTokenAt`` epoch ms)."""
        return self._call("limits.list", {})["keys"]

    def set(self, key: str, concurrency: Optional[int] = None, rate: Optional[int] = None, per: Optional[str] = None, burst: Optional[int] = None, weight: Optional[int] = None) -> List[Dict[str, Any]]:
        """Sets the limit on ``key``, replacing the one it had; it applies at once and wins over
        what jobs declare: at most ``concurrency`` jobs holding it at once, ``rate`` starts per
        ``per`` (``second``, ``minute``, ``hour`` or ``day``; the master's default is second) up
        to ``burst`` at once, ``weight`` the share of the fairness group it names. Returns every
        limit after the change; a bad value raises BadRequestError naming the field."""
        limit = {"key": key}  # type: Dict[str, Any]
        if concurrency is not None:
            limit["concurrency"] = concurrency
        if rate is not None or per is not None or burst is not None:
            bucket = {"limit": rate}  # type: Dict[str, Any]
            if per is not None:
                bucket["per"] = per
            if burst is not None:
                bucket["burst"] = burst
            limit["rate"] = bucket
        if weight is not None:
            limit["weight"] = weight
        return self._call("limits.set", limit)["limits"]

    def remove(self, key: str) -> Dict[str, Any]:
        """Removes the limit on ``key`` (what jobs declare applies again): ``{removed, limits}``."""
        return self._call("limits.remove", {"key": key})
