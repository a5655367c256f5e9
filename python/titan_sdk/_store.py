"""``client.store``: the data bus: durable keys, sets, and waiting for a change (docs/protocol.md)."""

import time
from typing import Any, Dict, List, Optional

from ._core import SubClient
from .errors import TitanTimeoutError


class StoreClient(SubClient):
    def get(self, key: str) -> Optional[str]:
        """A string key's value, or None when it is absent."""
        return self._call("kv.get", {"key": key})["value"]

    def get_versioned(self, key: str) -> Dict[str, Any]:
        """``{value, version, expiresAt}``; version 0 when absent."""
        return self._call("kv.get", {"key": key})

    def set(self, key: str, value: Any, ttl: Optional[float] = None) -> int:
        """Sets a string value (``ttl`` in seconds); returns its new version once durable."""
        params = {"key": key, "value": value if isinstance(value, str) else str(value)}  # type: Dict[str, Any]
        if ttl is not None:
            params["ttlMs"] = max(1, int(round(ttl * 1000)))
        return self._call("kv.set", params)["version"]

    def delete(self, key: str) -> bool:
        """True when the key existed."""
        return self._call("kv.del", {"key": key})["deleted"] == 1

    def incr(self, key: str, by: int = 1) -> int:
        return self._call("kv.incr", {"key": key, "by": by})["value"]

    def cas(self, key: str, expected: Optional[str], value: Optional[str], ttl: Optional[float] = None) -> bool:
        """Sets ``value`` (None deletes) only if the key holds ``expected`` (None: is absent)."""
        params = {"key": key, "expected": expected, "value": value}  # type: Dict[str, Any]
        if ttl is not None:
            params["ttlMs"] = max(1, int(round(ttl * 1000)))
        return bool(self._call("kv.cas", params)["swapped"])

    def sadd(self, key: str, *members: Any) -> int:
        """How many of the members were not in the set yet."""
        return self._call("kv.sadd", {"key": key, "members": [str(m) for m in members]})["added"]

    def srem(self, key: str, *members: Any) -> int:
        return self._call("kv.srem", {"key": key, "members": [str(m) for m in members]})["removed"]

    def smembers(self, key: str) -> List[str]:
        return self._call("kv.smembers", {"key": key})["members"]

    def keys(self, prefix: str = "", limit: int = 1000) -> List[Dict[str, Any]]:
        return self._call("kv.keys", {"prefix": prefix, "limit": limit})["keys"]

    def wait(self, key: str, since_version: Optional[int] = None, timeout: float = 60) -> Dict[str, Any]:
        """``{changed, value, version}`` at the key's next change (or at once when its version is
        no longer ``since_version``); ``changed: False`` after ``timeout`` seconds (at most 1 h)."""
        params = {"key": key, "timeoutMs": max(1, int(round(timeout * 1000)))}  # type: Dict[str, Any]
        if since_version is not None:
            params["sinceVersion"] = since_version
        return self._call("kv.wait", params, timeout + 30)

    def wait_for_value(self, key: str, timeout: Optional[float] = None) -> str:
        """Blocks until ``key`` holds a value and returns it (the master wakes the waiter; nothing
        polls). Raises TitanTimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        entry = self.get_versioned(key)
        while entry.get("value") is None:
            left = 3600.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TitanTimeoutError("no value for {!r} within {:g} s".format(key, timeout))
            entry = self.wait(key, since_version=entry["version"], timeout=min(left, 3600.0))
        return entry["value"]
