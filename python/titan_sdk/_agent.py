"""``client.agent``: agent runs, the runs an agent submitted grouped as its stages."""

from typing import Any, Dict, List

from ._core import SubClient


class AgentRunClient(SubClient):
    def list(self, limit: int = 20) -> List[Dict[str, Any]]:
        return self._call("agentRuns.list", {"limit": limit})["agentRuns"]

    def get(self, agent_run_id: str) -> Dict[str, Any]:
        return self._call("agentRun.get", {"agentRunId": agent_run_id})
