"""Titan's own names, arguments and reply strings, kept so Titan's scripts run unchanged: the
results a Titan script compares (``"UPLOAD_SUCCESS"``, ``"DEPLOY_SUCCESS"``, ``"OK"``,
``"NULL"``, Titan's job statuses) over the sub-clients of :class:`~titan_sdk.TitanClient`."""

import os
import posixpath
import re
import tempfile
from typing import TYPE_CHECKING, Any, List, Optional

from ._core import write_atomic
from .errors import NotFoundError

if TYPE_CHECKING:
    from ._artifact import ArtifactClient
    from ._file import FileClient
    from ._job import JobClient
    from ._store import StoreClient

#: Titan's "absent" values of an artifact pointer key.
_ABSENT = ("NULL", "CLEARED", "")
_KV_KEY = re.compile(r"^[A-Za-z0-9_.:/@+=,-]+$")
_ARTIFACT_SEGMENT = re.compile(r"^[\w .,+=@~()\[\]!#%&'-]+$")


class TitanNames(object):
    """The methods of Titan's client that have no plain sub-client equivalent."""

    # The sub-clients these build on, set by TitanClient.
    job: "JobClient"
    store: "StoreClient"
    artifact: "ArtifactClient"
    file: "FileClient"

    # ---- status and logs ------------------------------------------------------------------------

    def get_job_status(self, job_id: str) -> str:
        """Titan's status of a job (``DAG-<id>`` or ``<id>``, or ``runId/jobId``): ``PENDING``,
        ``RUNNING``, ``COMPLETED``, ``DEAD``, ``CANCELLED``, or ``"NULL"`` for an unknown job as
        Titan answered. ``status()`` gives the full status and raises for unknown jobs."""
        return self.job.titan_status(job_id)

    def fetch_logs(self, job_id: str) -> str:
        """The whole output of the job's latest attempt (``DAG-<id>`` accepted)."""
        return self.job.logs(job_id)

    # ---- files ----------------------------------------------------------------------------------

    def upload_file(self, filepath: str) -> str:
        """Stores a local file in the master's ``uploads`` under its base name (assets, zips for
        archive jobs); ``"UPLOAD_SUCCESS"``."""
        self.file.put("uploads", filepath)
        return "UPLOAD_SUCCESS"

    def deploy_script(self, filepath: str) -> str:
        """Stores a local file in the master's script library; ``"DEPLOY_SUCCESS"``."""
        self.file.put("scripts", filepath)
        return "DEPLOY_SUCCESS"

    def upload_project_folder(self, folder_path: str, project_name: Optional[str] = None) -> str:
        """Zips a folder (paths relative to it; ``.git``, ``.env``, ``node_modules``,
        ``__pycache__`` and ``.titanignore`` matches left out; nothing written locally) and
        uploads it as ``<project_name or folder name>.zip``; ``"UPLOAD_SUCCESS"``. Jobs then run
        entries of it: ``TitanJob(id, "<name>.zip/src/main.py", is_archive=True)``."""
        self.file.put_project(folder_path, project_name)
        return "UPLOAD_SUCCESS"

    # ---- artifacts ------------------------------------------------------------------------------

    def publish_artifact(self, key: str, filename: str) -> bool:
        """Uploads a local file as the artifact ``key`` (checked by sha256); inside a job it is
        recorded as the attempt's. ``True``; failures raise."""
        self.artifact.put(key, filename)
        return True

    def get_artifact(self, key: str, save_path: Optional[str] = None) -> bool:
        """Downloads the artifact ``key`` to ``save_path`` (default: the temp folder, under the
        key's last segment). ``True``; ``False`` when there is no such artifact. A key written by
        Titan's own SDK (a KV key naming an uploaded file) is followed too."""
        if _artifact_key_ok(key):
            try:
                self.artifact.download(key, save_path or os.path.join(tempfile.gettempdir(), posixpath.basename(key)))
                return True
            except NotFoundError:
                pass
        pointer = self.store.get(key) if _kv_key_ok(key) else None
        if pointer is None or pointer in _ABSENT:
            return False
        try:
            content = self.file.get("uploads", os.path.basename(pointer))
        except NotFoundError:
            return False
        write_atomic(save_path or os.path.join(tempfile.gettempdir(), os.path.basename(pointer)), content)
        return True

    def fetch_artifact(self, filename: str, save_path: Optional[str] = None) -> bool:
        """Downloads ``filename`` to ``save_path`` (default: its base name in the current
        folder): the artifact of that key, else the file of that name in ``uploads`` (Titan's
        meaning). ``True``; ``False`` when neither exists."""
        dest = save_path or os.path.basename(filename)
        if _artifact_key_ok(filename):
            try:
                self.artifact.download(filename, dest)
                return True
            except NotFoundError:
                pass
        try:
            content = self.file.get("uploads", os.path.basename(filename))
        except NotFoundError:
            return False
        write_atomic(dest, content)
        return True

    # ---- the data bus ---------------------------------------------------------------------------

    def store_put(self, key: str, value: Any) -> str:
        """Sets a string value (durable when this returns); ``"OK"``."""
        self.store.set(key, value)
        return "OK"

    def store_get(self, key: str, default: Optional[str] = "NULL") -> Optional[str]:
        """The value of ``key``, or ``"NULL"`` when it is absent, as Titan answered, so
        ``if v != "NULL"`` keeps working. Pass ``default=None`` (or use ``get``) for None."""
        value = self.store.get(key)
        return default if value is None else value

    def store_sadd(self, key: str, member: Any) -> int:
        """Adds one member to a set; 1 if it was added, 0 if it was there."""
        return self.store.sadd(key, member)

    def store_smembers(self, key: str) -> List[str]:
        """The members of a set (``[]`` when absent)."""
        return self.store.smembers(key)


def _kv_key_ok(key: str) -> bool:
    """A key the data bus accepts: 1-512 of letters, digits and ``_ . : / @ + = , -``."""
    return _KV_KEY.match(key) is not None and len(key) <= 512


def _artifact_key_ok(key: str) -> bool:
    """A key the artifact store accepts: relative path segments of letters, digits, spaces and
    ``_ . , + = @ ~ ( ) [ ] ! # % & ' -``."""
    if not key or len(key) > 1024 or key.startswith("/"):
        return False
    return all(seg not in ("", ".", "..") and _ARTIFACT_SEGMENT.match(seg) is not None for seg in key.split("/"))
