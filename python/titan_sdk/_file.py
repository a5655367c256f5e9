"""``client.file``: files kept on the master, in ``uploads`` (assets, project archives) or
``scripts`` (the script library)."""

import base64
import hashlib
import os
from typing import Any, Dict, List, Optional

from ._core import SubClient, read_local, upload_blobs
from ._project import build_project_zip, zip_base_name


class FileClient(SubClient):
    def put(self, area: str, filepath: str, name: Optional[str] = None) -> Dict[str, Any]:
        """Stores a local file in ``uploads`` or ``scripts`` (under ``name``, default its base
        name); returns ``{name, size}``. Only content the master lacks is sent."""
        content = read_local(filepath)
        sha = hashlib.sha256(content).hexdigest()
        upload_blobs(self._client, {sha: content})
        return self._call("files.put", {"area": area, "name": name or os.path.basename(filepath), "sha256": sha})

    def put_project(self, folder_path: str, project_name: Optional[str] = None) -> Dict[str, Any]:
        """Zips a folder (paths relative to it; ``.git``, ``.env``, ``node_modules``,
        ``__pycache__`` and ``.titanignore`` matches left out; nothing written locally) and
        stores it in ``uploads`` as ``<project_name or folder name>.zip``; returns ``{name, size}``.
        Jobs then run entries of it: ``TitanJob(id, "<name>.zip/src/main.py", is_archive=True)``."""
        folder = os.path.abspath(folder_path)
        name = project_name or os.path.basename(folder.rstrip(os.sep)) or "project"
        if name.endswith(".zip"):
            name = name[:-4]
        zipped = build_project_zip(folder)
        upload_blobs(self._client, {zipped.sha256: zipped.content})
        return self._call("files.put", {"area": "uploads", "name": zip_base_name(name) + ".zip", "sha256": zipped.sha256})

    def list(self, area: str = "uploads") -> List[Dict[str, Any]]:
        """``[{name, size, modifiedAt}]`` of ``uploads`` or ``scripts``."""
        return self._call("files.list", {"area": area})["files"]

    def get(self, area: str, name: str) -> bytes:
        """A whole file of ``uploads`` or ``scripts``."""
        parts = []  # type: List[bytes]
        offset = 0
        while True:
            chunk = self._call("files.get", {"area": area, "name": name, "offset": offset})
            data = base64.b64decode(chunk["data"])
            parts.append(data)
            offset += len(data)
            if offset >= chunk["size"] or not data:
                return b"".join(parts)
