"""Project folders as one deterministic zip (the same rules as ``titan submit``'s project mode).

Entries are sorted and carry a fixed timestamp and mode, so the same files always give the same
bytes and the same sha256, and a folder submitted twice is uploaded once. ``.titanignore`` in the
folder leaves files out (gitignore-style lines: ``#`` comments, ``dir/``, globs, ``/rooted``,
``!negation``, ``**``); ``.git``, ``.env``, ``node_modules`` and ``__pycache__`` are always left
out, wherever they are. Links to files are stored as the file; links to folders are skipped.
"""

import hashlib
import io
import os
import re
import stat
import zipfile
from typing import List, NamedTuple, Optional, Tuple

from .errors import BadRequestError, TitanFileNotFoundError

IGNORE_FILE = ".titanignore"
#: Names never put in a project zip, at any depth: secrets, version control, caches.
ALWAYS_EXCLUDED = (".git", ".env", "node_modules", "__pycache__")
#: What a worker unpacks at most, and the master's blob limit.
MAX_FILES = 10000
MAX_BYTES = 256 * 1024 * 1024
#: Noon on 1 January 1980, the zip format's epoch (local time, as zip stores it).
_FIXED_TIME = (1980, 1, 1, 12, 0, 0)
_FILE_ATTRS = (0o100644 << 16) & 0xFFFFFFFF


class ProjectZip(NamedTuple):
    content: bytes
    sha256: str
    #: The files inside, sorted, with ``/`` separators.
    files: List[str]


class _Rule(NamedTuple):
    negate: bool
    dir_only: bool
    regex: "re.Pattern[str]"


class IgnoreMatcher(object):
    """Which relative paths (``/``-separated) a ``.titanignore`` leaves out."""

    def __init__(self, rules: List[_Rule]) -> None:
        self._rules = rules

    @classmethod
    def parse(cls, text: str) -> "IgnoreMatcher":
        rules = []  # type: List[_Rule]
        for raw in text.splitlines():
            line = re.sub(r"(?<!\\)\s+$", "", raw)
            if not line or line.startswith("#"):
                continue
            negate = False
            if line.startswith("!"):
                negate, line = True, line[1:]
            elif line.startswith("\\!") or line.startswith("\\#"):
                line = line[1:]
            dir_only = False
            if line.endswith("/") and not line.endswith("\\/"):
                dir_only, line = True, line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            if line.startswith("/"):
                line = line[1:]
            pattern = "^" + ("" if anchored else "(?:.*/)?") + _glob_to_regex(line) + "$"
            rules.append(_Rule(negate, dir_only, re.compile(pattern, re.S)))
        return cls(rules)

    @classmethod
    def for_folder(cls, folder: str) -> "IgnoreMatcher":
        path = os.path.join(folder, IGNORE_FILE)
        try:
            with open(path, "r", encoding="utf-8") as f:
                return cls.parse(f.read())
        except FileNotFoundError:
            return cls([])
        except (OSError, UnicodeDecodeError) as err:
            raise BadRequestError("cannot read {}: {}".format(path, err))

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether this entry itself matches (the last matching line decides)."""
        ignored = False
        for rule in self._rules:
            if rule.negate != ignored:
                continue
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(path):
                ignored = not rule.negate
        return ignored

    def ignores(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` is left out, its parent folders included."""
        segments = path.split("/")
        for i in range(1, len(segments) + 1):
            last = i == len(segments)
            if segments[i - 1] in ALWAYS_EXCLUDED:
                return True
            if self.matches("/".join(segments[:i]), is_dir if last else True):
                return True
        return False


def _glob_to_regex(glob: str) -> str:
    out = []
    i = 0
    n = len(glob)
    while i < n:
        c = glob[i]
        if c == "*" and i + 1 < n and glob[i + 1] == "*" and (i == 0 or glob[i - 1] == "/") and (i + 2 == n or glob[i + 2] == "/"):
            out.append(".*" if i + 2 == n else "(?:.*/)?")
            i += 3
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                out.append("\\[")
            else:
                body = glob[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 1
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def list_project_files(folder: str) -> List[Tuple[str, str]]:
    """``(relative path, absolute path)`` of the files that go into ``folder``'s zip, sorted."""
    if not os.path.isdir(folder):
        raise TitanFileNotFoundError("Folder not found at: {}".format(folder), folder)
    matcher = IgnoreMatcher.for_folder(folder)
    files = []  # type: List[Tuple[str, str]]
    total = [0]

    def walk(directory: str, prefix: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError as err:
            raise BadRequestError("cannot read the folder {}: {}".format(directory, err))
        for name in names:
            if name in ALWAYS_EXCLUDED:
                continue
            absolute = os.path.join(directory, name)
            rel = prefix + name
            try:
                info = os.lstat(absolute)
                if stat.S_ISLNK(info.st_mode):
                    target = os.stat(absolute)
                    if not stat.S_ISREG(target.st_mode):
                        continue
                    info = target
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if not matcher.matches(rel, True):
                    walk(absolute, rel + "/")
                continue
            if not stat.S_ISREG(info.st_mode) or matcher.matches(rel, False):
                continue
            files.append((rel, absolute))
            total[0] += info.st_size
            if len(files) > MAX_FILES:
                raise BadRequestError("the project folder {} has more than {} files; leave out what the jobs do not need with {}".format(folder, MAX_FILES, IGNORE_FILE))
            if total[0] > MAX_BYTES:
                raise BadRequestError("the project folder {} holds more than {} bytes (reached at {}); leave out large files with {}".format(folder, MAX_BYTES, rel, IGNORE_FILE))

    walk(folder, "")
    # Code-point order of the relative paths, the same on every machine.
    files.sort(key=lambda f: f[0])
    return files


def build_project_zip(folder: str, root_name: Optional[str] = None) -> ProjectZip:
    """Zips ``folder`` deterministically. With ``root_name`` every entry is put under that folder
    (Titan's ``upload_project_folder`` stored paths relative to the folder itself: no root)."""
    files = list_project_files(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, absolute in files:
            try:
                with open(absolute, "rb") as f:
                    data = f.read()
            except OSError as err:
                raise BadRequestError("cannot read {}: {}".format(absolute, err))
            info = zipfile.ZipInfo((root_name + "/" + rel) if root_name else rel, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = _FILE_ATTRS
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    content = buf.getvalue()
    if len(content) > MAX_BYTES:
        raise BadRequestError("the project zip of {} is {} bytes; the master takes at most {}".format(folder, len(content), MAX_BYTES))
    return ProjectZip(content, hashlib.sha256(content).hexdigest(), [f[0] for f in files])


def zip_base_name(name: str) -> str:
    """A pipeline (or folder) name as a bare zip file name: letters, digits, ``_``, ``-``, ``.``."""
    text = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    text = re.sub(r"^[.-]+", "", text)[:200]
    return text or "project"
