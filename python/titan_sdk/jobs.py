"""``TitanJob``: Titan's job description, turned into the v2 ``JobSpec`` the master takes.

The parameters and their defaults are Titan's (``job_id``, ``filename``, ``job_type``, ``args``,
``parents``, ``port``, ``is_archive``, ``priority``, ``delay`` in milliseconds, ``affinity``,
``requirement``, ``hitl_message``, ``max_wait_seconds``), plus ``retries``, ``timeout`` (seconds),
``env`` and flow control: ``concurrency`` and ``rate_limit``. See docs/sdk-python.md for how each becomes a JobSpec field.
"""

import hashlib
import os
import posixpath
import re
import shlex
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Union

from .errors import BadRequestError, TitanFileNotFoundError

__all__ = [
    "TitanJob",
    "DEFAULT_CAPABILITY",
    "DEFAULT_GATE_WAIT_SECONDS",
    "DEFAULT_PRIORITY",
    "DEFAULT_RETRIES",
    "GATE_PREFIX",
    "gate_id_for",
    "split_args",
    "strip_dag_prefix",
    "split_archive_pointer",
    "jobs_to_specs",
]

# A job's defaults, the master's own (src/core/defaults.ts), so that a job is the same whichever
# door it came through; test/integration/defaults.test.ts keeps the two equal.
#: Retries after a failed attempt.
DEFAULT_RETRIES = 3
#: Higher runs first.
DEFAULT_PRIORITY = 1
#: The capability a job needs when it names none.
DEFAULT_CAPABILITY = "GENERAL"
#: How long a gate waits for a decision: Titan's 48 hours.
DEFAULT_GATE_WAIT_SECONDS = 172800
#: Titan's gate ids: ``hitl-gate-<job id>``.
GATE_PREFIX = "hitl-gate-"
#: Titan's prefix of DAG job ids on its wire (``DAG-<id>``); ids here are bare.
DAG_PREFIX = "DAG-"

_SERVICE_TYPES = ("SERVICE", "DEPLOY_PAYLOAD")
_APPROVAL_TYPES = ("APPROVAL",)
_AFFINITIES = ("none", "soft", "required")
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

ArgsInput = Union[None, str, Sequence[Any]]


def gate_id_for(job_id: str) -> str:
    """The id of the gate injected after ``job_id`` (Titan's ``hitl-gate-<id>``)."""
    return GATE_PREFIX + job_id


def strip_dag_prefix(job_id: str) -> str:
    """``DAG-x`` -> ``x``: Titan's wire id of a DAG job, as the bare id the job has here."""
    return job_id[len(DAG_PREFIX):] if job_id.startswith(DAG_PREFIX) and len(job_id) > len(DAG_PREFIX) else job_id


def split_args(args: ArgsInput) -> List[str]:
    """A job's arguments as a list.

    A string is split the way a POSIX shell splits words (``shlex``: quotes group, nothing is
    expanded); an unquoted ``|`` separates arguments too, as Titan turned ``|`` into a space. A
    list or tuple is taken item by item (each converted with ``str``), never split. ``None`` is no
    arguments.
    """
    if args is None:
        return []
    if isinstance(args, (bytes, bytearray)):
        args = args.decode("utf-8")
    if isinstance(args, str):
        lexer = shlex.shlex(args, posix=True)
        lexer.whitespace_split = True
        lexer.whitespace += "|"
        lexer.commenters = ""
        try:
            return list(lexer)
        except ValueError as err:
            raise BadRequestError("cannot split the arguments {!r}: {}".format(args, err))
    if isinstance(args, Mapping):
        raise BadRequestError("args must be a string or a list, not a mapping")
    if isinstance(args, Iterable):
        return [_arg_text(a) for a in args]
    return [_arg_text(args)]


def _arg_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def split_archive_pointer(pointer: str) -> "tuple[str, str]":
    """Titan's archive pointer ``proj.zip/src/main.py`` as ``("proj.zip", "src/main.py")``."""
    text = pointer.replace("\\", "/")
    marker = text.lower().find(".zip/")
    if marker <= 0:
        raise BadRequestError("an archive job's filename is \"<archive>.zip/<entry>\" (e.g. \"proj.zip/src/main.py\"), got {!r}".format(pointer))
    name = text[: marker + 4]
    entry = posixpath.normpath(text[marker + 5:])
    if "/" in name or not entry or entry in (".", "..") or entry.startswith("../") or entry.startswith("/"):
        raise BadRequestError("the archive pointer {!r} must name a zip uploaded to the master and a file inside it".format(pointer))
    return name, entry


class TitanJob(object):
    """One job of a DAG, with Titan's parameters and defaults.

    ``filename`` is a local script (read now, uploaded at submission if the master lacks it), or
    with ``is_archive=True`` a pointer ``<zip>/<entry>`` into a zip uploaded beforehand with
    ``upload_file`` or ``upload_project_folder``. A missing local file raises
    :class:`TitanFileNotFoundError` (a ``FileNotFoundError``) naming it, as Titan did.
    """

    def __init__(
        self,
        job_id: str,
        filename: Optional[str] = None,
        job_type: str = "RUN_PAYLOAD",
        args: ArgsInput = None,
        parents: Optional[Iterable[str]] = None,
        port: int = 0,
        is_archive: bool = False,
        priority: int = DEFAULT_PRIORITY,
        delay: int = 0,
        affinity: Union[bool, str] = False,
        requirement: Optional[str] = DEFAULT_CAPABILITY,
        hitl_message: Optional[str] = None,
        max_wait_seconds: float = DEFAULT_GATE_WAIT_SECONDS,
        retries: Optional[int] = None,
        timeout: Optional[float] = None,
        env: Optional[Mapping[str, Any]] = None,
        concurrency: Optional[Mapping[str, Any]] = None,
        rate_limit: Optional[Mapping[str, Any]] = None,
        secrets: Optional[Iterable[str]] = None,
    ) -> None:
        if job_id is None or str(job_id) == "":
            raise BadRequestError("a job needs an id")
        self.id = str(job_id)
        if not _ID.match(self.id):
            raise BadRequestError("job id {!r}: an id has at most 128 letters, digits, \"_\", \"-\" and \".\", and does not start with \".\" or \"-\"".format(self.id))
        self.job_type = str(job_type or "RUN_PAYLOAD").upper()
        self.filename = filename
        self.args = args
        self.arg_list = split_args(args)
        self.parents = [str(p) for p in (parents or [])]
        self.port = int(port or 0)
        self.is_archive = bool(is_archive)
        self.priority = _integer("priority", priority)
        self.delay = _integer("delay", delay)
        if self.delay < 0:
            raise BadRequestError("job {!r}: delay is milliseconds from 0, got {}".format(self.id, delay))
        self.affinity = _affinity(affinity)
        self.requirement = (requirement or "").replace("|", "").strip() or DEFAULT_CAPABILITY
        self.hitl_message = hitl_message
        self.max_wait_seconds = max_wait_seconds
        self.retries = DEFAULT_RETRIES if retries is None else _integer("retries", retries)
        self.timeout = timeout
        self.env = {str(k): _arg_text(v) for k, v in (env or {}).items()}
        self.concurrency = flow_field("job {!r}: concurrency".format(self.id), concurrency)
        self.rate_limit = flow_field("job {!r}: rate_limit".format(self.id), rate_limit)
        # Names of the cluster's secrets (``titan secrets set NAME``) the job receives as environment variables.
        self.secrets = list(dict.fromkeys(str(n) for n in (secrets or [])))
        self.content = None  # type: Optional[bytes]
        self._sha256 = None  # type: Optional[str]
        self._hashed = None  # type: Optional[bytes]
        self.archive_name = None  # type: Optional[str]
        self.archive_entry = None  # type: Optional[str]

        if self.kind == "approval":
            if filename:
                raise BadRequestError("job {!r}: an approval gate runs no file".format(self.id))
            return
        if self.kind == "service" and timeout is not None:
            raise BadRequestError("job {!r}: a service runs until it is stopped; timeout does not apply to it".format(self.id))
        if self.port < 0 or self.port > 65535:
            raise BadRequestError("job {!r}: port must be from 0 to 65535, got {}".format(self.id, port))
        if not filename:
            raise BadRequestError("job {!r}: a {} job needs a filename".format(self.id, self.kind))
        if self.is_archive:
            self.archive_name, self.archive_entry = split_archive_pointer(str(filename))
        else:
            path = os.fspath(filename)
            try:
                with open(path, "rb") as f:
                    self.content = f.read()
            except FileNotFoundError:
                raise TitanFileNotFoundError("Job file not found: {}".format(path), path)
            except IsADirectoryError:
                raise BadRequestError("job {!r}: {} is a folder, not a script".format(self.id, path))

    # ---- what the job is ------------------------------------------------------------------------

    @property
    def job_id(self) -> str:
        return self.id

    @property
    def kind(self) -> str:
        """``run``, ``service`` (``SERVICE`` / ``DEPLOY_PAYLOAD``) or ``approval`` (``APPROVAL``)."""
        if self.job_type in _SERVICE_TYPES:
            return "service"
        if self.job_type in _APPROVAL_TYPES:
            return "approval"
        return "run"

    @property
    def script_name(self) -> Optional[str]:
        """The name the script is stored and run under: the file's base name."""
        if self.content is None or self.filename is None:
            return None
        return os.path.basename(os.fspath(self.filename))

    @property
    def sha256(self) -> Optional[str]:
        """The content hash of an inline script (what the master stores it under)."""
        if self.content is None:
            return None
        if self._sha256 is None or self._hashed is not self.content:
            self._sha256, self._hashed = hashlib.sha256(self.content).hexdigest(), self.content
        return self._sha256

    def gate_spec(self) -> Optional[Dict[str, Any]]:
        """The approval gate Titan injects after this job when it has a ``hitl_message``."""
        if self.hitl_message is None or self.kind == "approval":
            return None
        return {
            "id": gate_id_for(self.id),
            "kind": "approval",
            "message": str(self.hitl_message),
            "dependsOn": [self.id],
            "timeoutMs": _ms("max_wait_seconds", self.max_wait_seconds),
        }

    def to_spec(self, archive_sha256: Optional[str] = None, known_ids: Optional[Set[str]] = None) -> Dict[str, Any]:
        """This job as a JobSpec (a dict ready for JSON), without gate injection.

        ``archive_sha256`` is the content hash of the zip an archive job runs from (the client
        asks the master for it). A parent written ``DAG-<id>`` becomes ``<id>``, unless
        ``known_ids`` holds the prefixed name itself.
        """
        spec = {"id": self.id, "kind": self.kind}  # type: Dict[str, Any]
        spec["dependsOn"] = [_parent(p, known_ids) for p in self.parents]
        spec["priority"] = self.priority
        spec["delayMs"] = self.delay
        # A gate's are sent too: the master's one rule about them refuses them with its message.
        if self.concurrency is not None:
            spec["concurrency"] = dict(self.concurrency)
        if self.rate_limit is not None:
            spec["rateLimit"] = dict(self.rate_limit)
        if self.kind == "approval":
            if self.hitl_message is not None:
                spec["message"] = str(self.hitl_message)
            spec["timeoutMs"] = _ms("timeout", self.timeout) if self.timeout is not None else _ms("max_wait_seconds", self.max_wait_seconds)
            return spec
        if self.is_archive:
            if archive_sha256 is None:
                raise BadRequestError("job {!r}: the archive {} has not been resolved on the master".format(self.id, self.archive_name))
            spec["archive"] = {"name": self.archive_name, "sha256": archive_sha256, "entry": self.archive_entry}
        else:
            spec["script"] = {"name": self.script_name, "sha256": self.sha256}
        if self.kind == "service":
            service = {"readiness": "tcp" if self.port else "none"}  # type: Dict[str, Any]
            if self.port:
                service["port"] = self.port
            spec["service"] = service
        spec["args"] = list(self.arg_list)
        spec["requirement"] = self.requirement
        spec["affinity"] = self.affinity
        spec["env"] = dict(self.env)
        if self.secrets:
            spec["secrets"] = list(self.secrets)
        spec["retries"] = self.retries
        if self.timeout is not None:
            spec["timeoutMs"] = _ms("timeout", self.timeout)
        return spec

    def to_dict(self) -> Dict[str, Any]:
        """The job's parameters (Titan's names), for printing and tests."""
        return {
            "job_id": self.id,
            "filename": self.filename,
            "job_type": self.job_type,
            "args": self.arg_list,
            "parents": list(self.parents),
            "port": self.port,
            "is_archive": self.is_archive,
            "priority": self.priority,
            "delay": self.delay,
            "affinity": self.affinity,
            "requirement": self.requirement,
            "hitl_message": self.hitl_message,
            "max_wait_seconds": self.max_wait_seconds,
            "retries": self.retries,
            "timeout": self.timeout,
            "env": dict(self.env),
            **({"secrets": list(self.secrets)} if self.secrets else {}),
        }

    def __repr__(self) -> str:
        return "TitanJob({!r}, {!r}, job_type={!r})".format(self.id, self.filename, self.job_type)


def jobs_to_specs(jobs: Sequence[TitanJob], archive_sha256: Optional[Callable[[str], str]] = None) -> List[Dict[str, Any]]:
    """The JobSpecs of a DAG, with Titan's gate injection: a job with a ``hitl_message`` is
    followed by an approval gate ``hitl-gate-<id>``, and the jobs that depended on it depend on
    the gate instead. ``archive_sha256(name)`` resolves the zip of archive jobs. The jobs
    themselves are not changed."""
    ids = {j.id for j in jobs}
    gates = {}  # type: Dict[str, Dict[str, Any]]
    for job in jobs:
        gate = job.gate_spec()
        if gate is not None:
            gates[job.id] = gate
    shas = {}  # type: Dict[str, str]
    specs = []  # type: List[Dict[str, Any]]
    for job in jobs:
        sha = None
        if job.is_archive and job.kind != "approval":
            name = job.archive_name or ""
            if name not in shas:
                if archive_sha256 is None:
                    raise BadRequestError("job {!r}: the archive {} has not been resolved on the master".format(job.id, name))
                shas[name] = archive_sha256(name)
            sha = shas[name]
        spec = job.to_spec(archive_sha256=sha, known_ids=ids)
        spec["dependsOn"] = [gates[p]["id"] if p in gates else p for p in spec["dependsOn"]]
        specs.append(spec)
        if job.id in gates:
            specs.append(gates[job.id])
    return specs


def flow_field(name: str, value: Optional[Mapping[str, Any]]) -> Optional[Dict[str, Any]]:
    """A flow-control setting (``{"key": ..., "limit": ...}``) as the JobSpec or RunSpec takes it.
    Only its shape is checked here; its fields and their defaults are the master's (a bad value is
    a BadRequestError naming the field at submission)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadRequestError("{} is a mapping such as {{\"key\": \"openai\", \"limit\": 4}}, got {!r}".format(name, value))
    return {str(k): v for k, v in value.items()}


def _parent(parent: str, known_ids: Optional[Set[str]]) -> str:
    if known_ids is not None and parent in known_ids:
        return parent
    return strip_dag_prefix(parent)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise BadRequestError("{} must be a whole number, got {!r}".format(name, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequestError("{} must be a whole number, got {!r}".format(name, value))
    if number != value and not isinstance(value, str):
        raise BadRequestError("{} must be a whole number, got {!r}".format(name, value))
    return number


def _ms(name: str, seconds: Any) -> int:
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise BadRequestError("{} is a number of seconds, got {!r}".format(name, seconds))
    if value <= 0:
        raise BadRequestError("{} must be more than 0 seconds, got {!r}".format(name, seconds))
    return max(1, int(round(value * 1000)))


def _affinity(value: Union[bool, str, None]) -> str:
    if value is True:
        return "soft"
    if value is False or value is None:
        return "none"
    text = str(value).strip().lower()
    if text in _AFFINITIES:
        return text
    if text in ("true", "1", "yes", "affinity", "sticky"):
        return "soft"
    if text in ("false", "0", "no", ""):
        return "none"
    raise BadRequestError("affinity is True, False, \"soft\" or \"required\", got {!r}".format(value))
