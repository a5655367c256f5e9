"""``client.gate``: approval gates waiting for a human decision."""

from typing import Any, Dict, Optional

from ._core import SubClient


class GateClient(SubClient):
    def list(self, history: int = 0) -> Dict[str, Any]:
        """``{pending, history}``: gates waiting for a decision (oldest first), and the latest
        ``history`` decisions."""
        return self._call("gates.list", {"history": history})

    def approve(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """Approves a gate: ``runId/gateId``, a gate id (``hitl-gate-<job>``; its latest run), or
        a Titan-style gate. ConflictError unless it is waiting. Returns ``{ref, approved, job}``.
        The master records the decision under the name of this client's token."""
        return self._call("gate.decide", {"ref": ref, "approved": True, "comment": comment})

    def reject(self, ref: str, comment: Optional[str] = None) -> Dict[str, Any]:
        """Rejects a gate: it fails and the jobs after it are skipped."""
        return self._call("gate.decide", {"ref": ref, "approved": False, "comment": comment})
