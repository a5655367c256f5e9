"""A pipeline as the master parsed it, made into JobSpecs: each job's ``file`` read from the YAML's
folder, or in project mode the folder zipped once and each file an entry of it."""

import hashlib
import os
import posixpath
from typing import Any, Dict, List, Tuple

from ._project import build_project_zip, zip_base_name
from .errors import BadRequestError, ProtocolError, TitanFileNotFoundError


def pipeline_specs(pipeline: Dict[str, Any], folder: str) -> Tuple[List[Dict[str, Any]], Dict[str, bytes]]:
    """The JobSpecs of a parsed pipeline and the blobs they need: each ``file`` read relative to
    the YAML's folder, or in project mode the folder zipped once and each file an entry of it."""
    jobs = pipeline.get("jobs") or []
    blobs = {}  # type: Dict[str, bytes]
    zipped = None
    zip_name = zip_base_name(str(pipeline.get("name") or os.path.basename(folder) or "project")) + ".zip"
    if pipeline.get("project"):
        zipped = build_project_zip(folder)
        blobs[zipped.sha256] = zipped.content
        in_zip = set(zipped.files)
    specs = []  # type: List[Dict[str, Any]]
    for raw in jobs:
        if not isinstance(raw, dict):
            raise ProtocolError("BAD_JSON", "the master's pipeline.parse answered a job that is not an object: {!r}".format(raw))
        spec = {k: v for k, v in raw.items() if k not in ("file", "fileAt")}
        where = raw.get("fileAt") or "job {!r}".format(raw.get("id"))
        file = raw.get("file")
        if file is not None and spec.get("kind", "run") != "approval":
            if zipped is not None:
                entry = posixpath.normpath(str(file).replace("\\", "/"))
                if entry.startswith("/") or entry in (".", "..") or entry.startswith("../") or (len(entry) > 1 and entry[1] == ":"):
                    raise BadRequestError("{}: job {!r}: {} must be a file inside the project folder {}".format(where, raw.get("id"), file, folder))
                if entry not in in_zip:
                    why = "is left out of the project zip (by .titanignore, or as .git, .env, node_modules or __pycache__)" if os.path.exists(os.path.join(folder, entry)) else "names no file in the project folder"
                    raise BadRequestError("{}: job {!r}: {} {}".format(where, raw.get("id"), entry, why))
                spec["archive"] = {"name": zip_name, "sha256": zipped.sha256, "entry": entry}
            else:
                path = os.path.join(folder, str(file))
                try:
                    with open(path, "rb") as f:
                        content = f.read()
                except FileNotFoundError:
                    raise TitanFileNotFoundError("{}: job {!r}: cannot read {}: no such file".format(where, raw.get("id"), path), path)
                except OSError as err:
                    raise BadRequestError("{}: job {!r}: cannot read {}: {}".format(where, raw.get("id"), path, err))
                sha = hashlib.sha256(content).hexdigest()
                blobs[sha] = content
                spec["script"] = {"name": os.path.basename(path), "sha256": sha}
        specs.append(spec)
    return specs, blobs
