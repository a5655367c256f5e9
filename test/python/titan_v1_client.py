"""A small stdlib client for Titan's v1 wire protocol, written to behave exactly like Titan's
Python SDK (``titan_sdk/titan_sdk.py``) on the wire: one TCP connection per request, the header
``struct.pack('>BBBBI', 1, op, 0, 0, len(body))``, then read the 8-byte reply header and its
payload. Helpers mirror the SDK's request building (DAG lines, HITL gate injection, artifacts).

The master's address comes from ``TITAN_HOST`` / ``TITAN_PORT`` (defaults ``127.0.0.1`` /
``9090``), as in Titan. Nothing here raises on a protocol failure: like the SDK, failures come
back as text (``ERROR...``, ``CONNECTION_ERROR: ...``).

Reference: titan-v1-protocol.md sections 1, 3, 4, 5, 8, 9 and 10.
"""

import base64
import os
import socket
import struct
import time

VERSION = 1
OP_SUBMIT_JOB = 0x03
OP_SUBMIT_DAG = 0x04
OP_DEPLOY = 0x05
OP_RUN = 0x06
OP_STOP = 0x07
OP_STATS = 0x08
OP_STATS_JSON = 0x09
OP_CLEAN_STATS = 0x0B
OP_KILL_WORKER = 0x11
OP_GET_LOGS = 0x16
OP_LOG_BATCH = 0x17
OP_ACK = 0x50
OP_ERROR = 0x51
OP_DATA = 0x52
OP_UPLOAD_ASSET = 0x53
OP_FETCH_ASSET = 0x54
OP_GET_JOB_STATUS = 0x55
OP_CANCEL_JOB = 0x56
OP_DEPLOY_SCRIPT = 0x57
OP_KV_SET = 0x60
OP_KV_GET = 0x61
OP_KV_SADD = 0x62
OP_KV_SMEMBERS = 0x63

HEADER = struct.Struct(">BBBBI")
READ_TIMEOUT = 10.0
HITL_GATE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hitl_gate.py")
DEFAULT_HITL_WAIT_SECONDS = 172800


def master_address():
    return os.environ.get("TITAN_HOST", "127.0.0.1"), int(os.environ.get("TITAN_PORT", "9090"))


def frame(op, body, version=VERSION, flags=0, reserved=0, length=None):
    """The bytes of one request frame; ``length`` overrides the announced length (for tests)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return HEADER.pack(version, op, flags, reserved, len(body) if length is None else length) + body


def _recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def exchange(raw, timeout=READ_TIMEOUT):
    """Sends ``raw`` bytes on a new connection and returns ``(header tuple or None, payload bytes,
    closed)``: the reply header (version, opcode, flags, reserved, length), its payload, and
    whether the server closed the connection after the reply."""
    host, port = master_address()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(raw)
        head = _recv_exact(sock, HEADER.size)
        if len(head) < HEADER.size:
            return None, head, True
        fields = HEADER.unpack(head)
        payload = _recv_exact(sock, fields[4])
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        return fields, payload, closed
    finally:
        sock.close()


def request(op, body=""):
    """One request, one reply: returns ``(reply opcode, reply text)``. Like the SDK, connection
    problems come back as text (opcode ``None``) rather than exceptions."""
    try:
        header, payload, _ = exchange(frame(op, body))
    except OSError as e:
        return None, "CONNECTION_ERROR: %s" % e
    if header is None:
        return None, "ERROR: No Response"
    return header[1], payload.decode("utf-8", errors="replace")


def send(op, body=""):
    """The SDK's ``_send_request``: the reply text only."""
    return request(op, body)[1]


# ---- DAG building (SDK submit_dag) ---------------------------------------------------------------


def _b64_file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode("ascii")


def _clean(text):
    return str(text if text is not None else "").replace("|", " ")


class Job:
    """One node of a DAG, as the SDK's ``TitanJob``.

    job_type: ``RUN_PAYLOAD`` (default; ``SERVICE`` and ``DEPLOY_PAYLOAD`` make an inline
    service), or an archive job with ``is_archive=True`` (``filename`` is then the pointer
    ``<zip>.zip/<entry>``; with a service job type it becomes ``START_ARCHIVE_SERVICE``).
    """

    def __init__(self, job_id, filename, job_type="RUN_PAYLOAD", args=None, requirement="GENERAL",
                 priority=1, delay=0, parents=None, port=0, affinity=False, is_archive=False,
                 hitl_message=None, max_wait_seconds=DEFAULT_HITL_WAIT_SECONDS, content=None):
        self.id = job_id
        self.filename = filename
        self.job_type = job_type
        self.args = args
        self.requirement = requirement
        self.priority = priority
        self.delay = delay  # seconds, as in the SDK; sent in milliseconds
        self.parents = list(parents or [])
        self.port = port
        self.affinity = affinity
        self.is_archive = is_archive
        self.hitl_message = hitl_message
        self.max_wait_seconds = max_wait_seconds
        self.content = content  # inline bytes instead of reading ``filename``

    @property
    def is_service(self):
        return self.job_type in ("SERVICE", "DEPLOY_PAYLOAD", "START_ARCHIVE_SERVICE")

    def _args_text(self):
        if self.args is None:
            return ""
        if isinstance(self.args, (list, tuple)):
            return " ".join(_clean(a) for a in self.args)
        return _clean(self.args)

    def _b64(self):
        if self.content is not None:
            data = self.content.encode("utf-8") if isinstance(self.content, str) else self.content
            return base64.b64encode(data).decode("ascii")
        return _b64_file(self.filename)

    def line(self):
        req = _clean(self.requirement).strip() or "GENERAL"
        delay_ms = int(float(self.delay or 0) * 1000)
        parents = "[" + ",".join(self.parents) + "]"
        if self.is_archive:
            if self.is_service:
                body = "START_ARCHIVE_SERVICE|%s|%s|%d|%s" % (self.filename, self._args_text(), int(self.port or 0), req)
            else:
                body = "RUN_ARCHIVE|%s|%s|%s" % (self.filename, self._args_text(), req)
        elif self.is_service:
            body = "DEPLOY_PAYLOAD|%s|%s|%d|%s" % (os.path.basename(self.filename), self._b64(), int(self.port or 0), req)
        else:
            body = "RUN_PAYLOAD|%s|%s|%s|%s" % (os.path.basename(self.filename), self._args_text(), self._b64(), req)
        text = "%s|%s|%d|%d|%s" % (self.id, body, int(self.priority), delay_ms, parents)
        if self.affinity:
            text += "|AFFINITY"
        return text


def gate_id(job_id):
    return "hitl-gate-%s" % job_id


def inject_gates(jobs, gate_script=HITL_GATE_SCRIPT):
    """SDK / dashboard HITL injection (reference 10.2): a gate line right after every job with a
    ``hitl_message``, and every other job's parent X rewritten to ``hitl-gate-X``. Returns the
    new job list and the gate ids."""
    gated = {j.id for j in jobs if j.hitl_message}
    out, gates = [], []
    for j in jobs:
        j.parents = [gate_id(p) if p in gated else p for p in j.parents]
        out.append(j)
        if j.id in gated:
            g = gate_id(j.id)
            gates.append(g)
            out.append(Job(g, gate_script, args="%s %d %s" % (g, int(j.max_wait_seconds), _clean(j.hitl_message)),
                           requirement="GENERAL", priority=j.priority, delay=0, parents=[j.id]))
    return out, gates


def dag_payload(jobs):
    return " ; ".join(j.line() for j in jobs)


def submit_dag(jobs, gate_script=HITL_GATE_SCRIPT):
    """``submit_dag``: inject HITL gates, clear each gate's status key (one connection each)
    before submitting, then send ``0x04``. Returns the reply text (``DAG_ACCEPTED`` or an error)."""
    jobs, gates = inject_gates(list(jobs), gate_script)
    for g in gates:
        send(OP_KV_SET, "titan:hitl:status:%s|CLEARED" % g)
    return send(OP_SUBMIT_DAG, dag_payload(jobs))


def submit_job(job):
    return submit_dag([job])


# ---- queries and control ------------------------------------------------------------------------


def get_job_status(job_id):
    """Sent as given (the SDK adds no ``DAG-``)."""
    return send(OP_GET_JOB_STATUS, job_id)


def fetch_logs(job_id):
    return send(OP_GET_LOGS, job_id)


def wait_for_status(job_id, wanted=("COMPLETED", "DEAD", "CANCELLED", "FAILED"), timeout=30.0, interval=0.2):
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        status = get_job_status(job_id)
        if status in wanted:
            return status
        time.sleep(interval)
    return status


def stop_service(service_id):
    """``stop_service`` adds ``DAG-`` when missing."""
    if not service_id.startswith("DAG-"):
        service_id = "DAG-" + service_id
    return send(OP_STOP, service_id)


def cancel_job(job_id):
    return send(OP_CANCEL_JOB, job_id)


def stats():
    return send(OP_STATS)


def stats_json():
    return send(OP_STATS_JSON)


# ---- files and artifacts ------------------------------------------------------------------------


def upload_file(path, name=None):
    """``0x53 <basename>|<b64>``; the reply text (``UPLOAD_SUCCESS`` on success)."""
    return send(OP_UPLOAD_ASSET, "%s|%s" % (name or os.path.basename(path), _b64_file(path)))


def fetch_artifact(name, dest):
    """``0x54 <name>`` and a local write of the decoded bytes. Returns True on success."""
    resp = send(OP_FETCH_ASSET, name)
    if resp.startswith("ERROR") or resp.startswith("CONNECTION_ERROR"):
        return False
    with open(dest, "wb") as f:
        f.write(base64.b64decode(resp))
    return True


def publish_artifact(key, path):
    """Upload, then, only on exactly ``UPLOAD_SUCCESS``, ``KV_SET <key>|<basename>``."""
    resp = upload_file(path)
    if resp != "UPLOAD_SUCCESS":
        return resp
    return send(OP_KV_SET, "%s|%s" % (key, os.path.basename(path)))


def get_artifact(key, dest):
    """``KV_GET <key>`` then ``FETCH_ASSET <value>``; ``NULL``, ``CLEARED`` and ``""`` are absent."""
    name = send(OP_KV_GET, key)
    if name in ("NULL", "CLEARED", "") or name.startswith("ERROR"):
        return False
    return fetch_artifact(name, dest)


def deploy_script(path, name=None):
    return send(OP_DEPLOY_SCRIPT, "%s|%s" % (name or os.path.basename(path), _b64_file(path)))


# ---- KV -----------------------------------------------------------------------------------------


def store_put(key, value):
    return send(OP_KV_SET, "%s|%s" % (key, value))


def store_get(key):
    return send(OP_KV_GET, key)


def store_sadd(key, member):
    """Redis semantics: 1 when added, 0 when already there (the SDK does ``int(resp)``)."""
    resp = send(OP_KV_SADD, "%s|%s" % (key, member))
    try:
        return int(resp)
    except ValueError:
        return resp


def store_smembers(key):
    resp = send(OP_KV_SMEMBERS, key)
    return [m for m in resp.split(",") if m] if not resp.startswith("ERROR") else resp
