"""``client.schedule``: runs the master submits on a cron schedule (registered by ``submit_yaml``
from a pipeline with a ``schedule``)."""

from typing import Any, Dict, List

from ._core import SubClient


class ScheduleClient(SubClient):
    def list(self) -> List[Dict[str, Any]]:
        return self._call("schedules.list", {})["schedules"]

    def pause(self, name: str) -> Dict[str, Any]:
        return self._call("schedule.pause", {"name": name})["schedule"]

    def resume(self, name: str) -> Dict[str, Any]:
        return self._call("schedule.resume", {"name": name})["schedule"]

    def delete(self, name: str) -> Dict[str, Any]:
        return self._call("schedule.delete", {"name": name})["schedule"]

    def run_now(self, name: str) -> str:
        """Submits the schedule's run now; returns the run id."""
        run_id = self._call("schedule.runNow", {"name": name})["runId"]
        self._client.last_run_id = run_id
        return run_id
