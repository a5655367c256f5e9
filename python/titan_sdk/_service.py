"""``client.service``: long-running service jobs."""

from typing import Any, Dict, List

from ._core import SubClient


class ServiceClient(SubClient):
    def list(self) -> List[Dict[str, Any]]:
        return self._call("services.list", {})["services"]

    def stop(self, service_id: str) -> str:
        """Stops a service for good (it is not restarted): ``"STOPPED: <id>"`` as Titan. The id
        may carry Titan's ``DAG-`` prefix, or be ``runId/jobId``. NotFoundError if unknown."""
        if not service_id:
            raise ValueError("Service ID cannot be empty")
        self._call("service.stop", {"ref": service_id})
        return "STOPPED: {}".format(service_id)
