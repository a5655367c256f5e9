"""``client.artifact``: files kept on the master by key, checked by sha256 both ways."""

import base64
import hashlib
import os
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ._core import CHUNK_BYTES, SubClient, read_local
from .errors import BadRequestError, TitanError

#: Artifact chunks kept in flight during an upload.
_UPLOAD_WINDOW = 4


class ArtifactClient(SubClient):
    def put(self, key: str, source: Union[str, bytes, bytearray], run_id: Optional[str] = None, job_id: Optional[str] = None, attempt: Optional[int] = None) -> Dict[str, Any]:
        """Uploads a file (by path) or bytes as the artifact ``key``; returns its description
        ``{key, sha256, size, runId, jobId, attempt, createdAt}``. The provenance defaults to
        the job's own (``TITAN_RUN_ID``, ``TITAN_JOB_ID``, ``TITAN_ATTEMPT``)."""
        if isinstance(source, (bytes, bytearray)):
            content = bytes(source)
        else:
            content = read_local(source)
        params = {"key": key, "size": len(content)}  # type: Dict[str, Any]
        params.update(_provenance(run_id, job_id, attempt))
        conn = self._client._connection()
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

    def read(self, key: str) -> bytes:
        """The artifact's whole content, checked against its sha256."""
        parts = []  # type: List[bytes]
        self._download(key, parts.append)
        return b"".join(parts)

    def download(self, key: str, dest: str) -> Dict[str, Any]:
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
        offset = 0
        for reply in self._pages("artifact.get", {"key": key}, "sha256", lambda reply: reply["artifact"]["sha256"]):
            artifact = reply["artifact"]
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
        raise TitanError("INTERNAL", "the master sent no more data for {!r} at offset {}".format(key, offset))

    def list(self, prefix: str = "", run_id: Optional[str] = None, limit: int = 1000) -> List[Dict[str, Any]]:
        params = {"prefix": prefix, "limit": limit}  # type: Dict[str, Any]
        if run_id is not None:
            params["runId"] = run_id
        return self._call("artifact.list", params)["artifacts"]

    def delete(self, key: str) -> bool:
        return bool(self._call("artifact.delete", {"key": key})["deleted"])


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
