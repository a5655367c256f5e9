"""A PEP 517 / PEP 660 build backend for titan_sdk that needs nothing but the standard library,
so ``pip install [-e] python/`` works on a machine with no package index.

It builds a pure-Python wheel of the ``titan_sdk`` package, an sdist, and for editable installs
a wheel whose ``.pth`` hook makes ``import titan_sdk`` load the package from this source folder
(and only that package: the tests and this backend stay out of ``sys.path``).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "titan_sdk"
TAG = "py3-none-any"


def _project():
    """name, version, summary and requires-python from pyproject.toml's [project] table (simple
    ``key = "value"`` lines: tomllib is not in Python 3.9 and 3.10)."""
    with open(os.path.join(ROOT, "pyproject.toml"), "r", encoding="utf-8") as f:
        text = f.read()
    table = text.split("[project]", 1)[1].split("\n[", 1)[0]
    fields = dict(re.findall(r'^([A-Za-z-]+)\s*=\s*"([^"]*)"\s*$', table, re.M))
    return fields["name"], fields["version"], fields.get("description", ""), fields.get("requires-python", "")


def _dist_name():
    name, version, _, _ = _project()
    return re.sub(r"[-_.]+", "_", name).lower(), version


def _metadata():
    name, version, summary, requires = _project()
    lines = ["Metadata-Version: 2.1", "Name: " + name, "Version: " + version, "Summary: " + summary, "License: Apache-2.0"]
    if requires:
        lines.append("Requires-Python: " + requires)
    return "\n".join(lines) + "\n"


def _wheel_file():
    return "Wheel-Version: 1.0\nGenerator: titan_sdk_build\nRoot-Is-Purelib: true\nTag: {}\n".format(TAG)


def _package_files():
    """(path in the wheel, path on disk) of the package's sources."""
    out = []
    base = os.path.join(ROOT, PACKAGE)
    for directory, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            absolute = os.path.join(directory, name)
            out.append((os.path.relpath(absolute, ROOT).replace(os.sep, "/"), absolute))
    return out


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return "{},sha256={},{}".format(path, digest, len(data))


def _write_wheel(wheel_directory, entries):
    """Writes a wheel holding ``entries`` ([(path, bytes)]) plus its dist-info; returns its name."""
    dist, version = _dist_name()
    info = "{}-{}.dist-info".format(dist, version)
    entries = list(entries) + [(info + "/METADATA", _metadata().encode("utf-8")), (info + "/WHEEL", _wheel_file().encode("utf-8"))]
    record = [_record_line(path, data) for path, data in entries] + [info + "/RECORD,,"]
    entries.append((info + "/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    filename = "{}-{}-{}.whl".format(dist, version, TAG)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, data in entries:
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    return filename


def _read(path):
    with open(path, "rb") as f:
        return f.read()


# ---- PEP 517 ----------------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist, version = _dist_name()
    info = "{}-{}.dist-info".format(dist, version)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(metadata_directory, info, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_file())
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(path, _read(absolute)) for path, absolute in _package_files()])


_FINDER = '''"""Editable install of titan_sdk: imports the package from its source folder."""
import sys
from importlib.machinery import PathFinder

SOURCE = {source!r}


class TitanSdkEditableFinder(object):
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname != {package!r}:
            return None
        return PathFinder.find_spec(fullname, [SOURCE])

    @classmethod
    def invalidate_caches(cls):
        pass


if not any(getattr(f, "__name__", "") == "TitanSdkEditableFinder" for f in sys.meta_path):
    sys.meta_path.append(TitanSdkEditableFinder)
'''


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    finder = _FINDER.format(source=ROOT, package=PACKAGE).encode("utf-8")
    return _write_wheel(
        wheel_directory,
        [
            ("__editable___titan_sdk_finder.py", finder),
            ("__editable___titan_sdk.pth", b"import __editable___titan_sdk_finder\n"),
        ],
    )


def build_sdist(sdist_directory, config_settings=None):
    dist, version = _dist_name()
    base = "{}-{}".format(dist, version)
    filename = base + ".tar.gz"
    files = [("pyproject.toml", os.path.join(ROOT, "pyproject.toml")), ("build_backend/titan_sdk_build.py", os.path.abspath(__file__))]
    files += _package_files()
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(path, data):
            info = tarfile.TarInfo(base + "/" + path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))

        for path, absolute in files:
            add(path, _read(absolute))
        add("PKG-INFO", _metadata().encode("utf-8"))
    return filename
