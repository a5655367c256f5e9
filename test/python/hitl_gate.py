"""A HITL gate, written from Titan's ``perm_files/hitl_gate.py`` behaviour (reference 10.3).

Usage: ``hitl_gate.py <gate> [<max_wait_seconds>] [<message words>...]``

1. The second argument is the timeout only if it is an integer; the message is the remaining words
   joined with spaces (default ``Awaiting human approval``). The master is ``TITAN_HOST`` /
   ``TITAN_PORT`` (defaults ``127.0.0.1`` / ``9090``); every call uses a 5 s socket timeout.
2. ``KV_GET titan:hitl:status:<gate>``: ``APPROVED`` exits 0, ``REJECTED`` exits 1 at once.
3. Registers: ``KV_SADD titan:hitl:queue|<gate>``, status ``WAITING``, message, ts (epoch ms).
4. Polls the status every N seconds: ``APPROVED`` exits 0, ``REJECTED`` exits 1, past the deadline
   writes ``TIMEOUT`` and exits 1, otherwise prints a "still waiting" line.

N is 5 seconds as in Titan. The environment variable ``HITL_POLL_SECONDS`` overrides it (tests set
it in the worker's environment, which every job inherits: v1 job lines cannot carry environment
variables, and the gate's arguments stay exactly those Titan's SDK sends).

Self-contained (stdlib only): it is shipped inline in the DAG payload, as Titan's SDK does.
"""

import os
import socket
import struct
import sys
import time

OP_KV_SET = 0x60
OP_KV_GET = 0x61
OP_KV_SADD = 0x62
SOCKET_TIMEOUT = 5.0


def call(op, body):
    """One request on its own connection; the reply text, or None when the master is unreachable."""
    host = os.environ.get("TITAN_HOST", "127.0.0.1")
    port = int(os.environ.get("TITAN_PORT", "9090"))
    data = body.encode("utf-8")
    try:
        with socket.create_connection((host, port), timeout=SOCKET_TIMEOUT) as s:
            s.settimeout(SOCKET_TIMEOUT)
            s.sendall(struct.pack(">BBBBI", 1, op, 0, 0, len(data)) + data)
            head = b""
            while len(head) < 8:
                chunk = s.recv(8 - len(head))
                if not chunk:
                    return None
                head += chunk
            length = struct.unpack(">BBBBI", head)[4]
            payload = b""
            while len(payload) < length:
                chunk = s.recv(length - len(payload))
                if not chunk:
                    break
                payload += chunk
            return payload.decode("utf-8", errors="replace")
    except OSError as e:
        print("[HITL] master unreachable: %s" % e, flush=True)
        return None


def main(argv):
    if len(argv) < 2:
        print("usage: hitl_gate.py <gate> [<max_wait_seconds>] [<message words>...]", flush=True)
        return 2
    gate = argv[1]
    rest = argv[2:]
    max_wait = 172800
    if rest:
        try:
            max_wait = int(rest[0])
            rest = rest[1:]
        except ValueError:
            pass
    message = " ".join(rest) if rest else "Awaiting human approval"
    poll = float(os.environ.get("HITL_POLL_SECONDS", "5"))
    status_key = "titan:hitl:status:%s" % gate

    # Idempotent retries: a decision already taken ends the gate at once.
    status = call(OP_KV_GET, status_key)
    if status == "APPROVED":
        print("[HITL] %s already approved" % gate, flush=True)
        return 0
    if status == "REJECTED":
        print("[HITL] %s already rejected" % gate, flush=True)
        return 1

    call(OP_KV_SADD, "titan:hitl:queue|%s" % gate)
    call(OP_KV_SET, "%s|WAITING" % status_key)
    call(OP_KV_SET, "titan:hitl:message:%s|%s" % (gate, message))
    call(OP_KV_SET, "titan:hitl:ts:%s|%d" % (gate, int(time.time() * 1000)))
    print("[HITL] %s waiting for approval: %s" % (gate, message), flush=True)

    deadline = time.time() + max_wait
    while True:
        time.sleep(poll)
        status = call(OP_KV_GET, status_key)
        if status == "APPROVED":
            print("[HITL] %s APPROVED" % gate, flush=True)
            return 0
        if status == "REJECTED":
            print("[HITL] %s REJECTED" % gate, flush=True)
            return 1
        remaining = int(deadline - time.time())
        if remaining <= 0:
            call(OP_KV_SET, "%s|TIMEOUT" % status_key)
            print("[HITL] %s timed out" % gate, flush=True)
            return 1
        print("[HITL] Still waiting... (status: %s, %ds remaining)" % (status, remaining), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
