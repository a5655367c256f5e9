"""Titan v1 on the wire, byte for byte (reference titan-v1-protocol.md, sections 1, 4 and 12).

Run against a master started with ``--legacy-v1`` that has at least one GENERAL worker, and
that is fresh (the KV vectors of TV-6 assume the keys ``nokey`` and ``s`` were never written):

    TITAN_HOST=127.0.0.1 TITAN_PORT=<port> python3 -m unittest -v test_v1_wire

Nothing is skipped: without ``TITAN_PORT`` the suite fails. Every request goes on its own
connection, as Titan's clients do, and every reply must be one frame followed by the server
closing the connection (never a dropped connection). Success replies are ``0x50``; every failure
is ``0x51`` (Titan sent some as ``0x50``; docs/compatibility.md).
"""

import base64
import io
import os
import socket
import struct
import time
import unittest
import zipfile

import titan_v1_client as v1

ACK = 0x50
ERROR = 0x51
FAILURE_PREFIXES = ("ERROR", "UNKNOWN", "UPLOAD_FAILED", "DEPLOY_FAILED", "NOT_FOUND", "ERROR_NOT_FOUND", "SERVER_ERROR")
PRINT_1 = "cHJpbnQoMSkK"  # print(1)\n


def setUpModule():
    if not os.environ.get("TITAN_HOST") or not os.environ.get("TITAN_PORT"):
        raise RuntimeError("TITAN_HOST and TITAN_PORT must name a master started with --legacy-v1")


def h(text):
    """Hex as the reference writes it (``01 50 00 …``) to bytes."""
    return bytes.fromhex(text.replace(" ", ""))


def raw_reply(raw, timeout=10.0):
    """Sends raw bytes on a fresh connection; returns (the whole reply frame's bytes, closed after it)."""
    header, payload, closed = v1.exchange(raw, timeout=timeout)
    if header is None:
        raise AssertionError("the server closed the connection without a reply (got %r)" % payload)
    return struct.pack(">BBBBI", *header) + payload, closed


def reply_frame(op, text):
    data = text.encode("utf-8")
    return struct.pack(">BBBBI", 1, op, 0, 0, len(data)) + data


class WireCase(unittest.TestCase):
    maxDiff = None

    def roundtrip(self, op, body, expected_op, expected_text):
        """One request whose reply must be exactly ``expected_op`` + ``expected_text``."""
        got, closed = raw_reply(v1.frame(op, body))
        self.assertEqual(got, reply_frame(expected_op, expected_text))
        self.assertTrue(closed, "the server must close the connection after its reply")

    def exact(self, request_hex, body, reply_hex, reply_text):
        """A reference vector: the request header bytes are checked first, then the whole reply."""
        req = v1.frame(body[0], body[1])
        self.assertEqual(req[:8], h(request_hex), "request header differs from the reference")
        got, closed = raw_reply(req)
        self.assertEqual(got, h(reply_hex) + reply_text.encode("utf-8"))
        self.assertTrue(closed)

    def failure(self, op, body, prefix=None, contains=None):
        """A malformed request: one 0x51 frame whose text starts with a failure word, then close."""
        header, payload, closed = v1.exchange(v1.frame(op, body))
        self.assertIsNotNone(header, "connection dropped without a reply for op 0x%02x %r" % (op, body[:80]))
        text = payload.decode("utf-8")
        self.assertEqual(header[0], 1, text)
        self.assertEqual(header[1], ERROR, "op 0x%02x %r answered 0x%02x %r" % (op, body[:80], header[1], text))
        self.assertEqual(header[4], len(payload))
        self.assertTrue(text.startswith(FAILURE_PREFIXES), text)
        if prefix is not None:
            self.assertTrue(text.startswith(prefix), "%r does not start with %r" % (text, prefix))
        if contains is not None:
            self.assertIn(contains, text)
        self.assertTrue(closed, "the server must close the connection after its reply")
        return text


def wait_status(job_id, wanted, timeout=30.0):
    status = v1.wait_for_status(job_id, wanted=wanted, timeout=timeout, interval=0.1)
    if status not in wanted:
        raise AssertionError("%s is %s, expected one of %s; logs: %r" % (job_id, status, wanted, v1.fetch_logs(job_id)))
    return status


# ---- the reference's test vectors -------------------------------------------------------------------


class TestVectors(WireCase):
    def test_tv2_inline_service_dag_is_accepted(self):
        body = "svc|DEPLOY_PAYLOAD|w.py|%s|8099|GENERAL|1|0|[]" % PRINT_1
        self.assertEqual(len(body), 56)
        self.exact("01 04 00 00 00 00 00 38", (v1.OP_SUBMIT_DAG, body), "01 50 00 00 00 00 00 0C", "DAG_ACCEPTED")
        # print(1) is no server: take it down again so nothing lingers on 8099.
        v1.cancel_job("DAG-svc")

    def test_tv5_approve_a_gate(self):
        body = "titan:hitl:status:hitl-gate-b|APPROVED"
        self.exact("01 60 00 00 00 00 00 26", (v1.OP_KV_SET, body), "01 50 00 00 00 00 00 02", "OK")
        self.roundtrip(v1.OP_KV_GET, "titan:hitl:status:hitl-gate-b", ACK, "APPROVED")

    def test_tv6_kv_primitives_with_a_real_sadd_count(self):
        self.exact("01 61 00 00 00 00 00 05", (v1.OP_KV_GET, "nokey"), "01 50 00 00 00 00 00 04", "NULL")
        # Titan answered 0 (P-04); the new implementation answers 1 for a new member, then 0.
        self.exact("01 62 00 00 00 00 00 04", (v1.OP_KV_SADD, "s|m1"), "01 50 00 00 00 00 00 01", "1")
        self.exact("01 62 00 00 00 00 00 04", (v1.OP_KV_SADD, "s|m1"), "01 50 00 00 00 00 00 01", "0")
        self.exact("01 63 00 00 00 00 00 01", (v1.OP_KV_SMEMBERS, "s"), "01 50 00 00 00 00 00 02", "m1")
        self.roundtrip(v1.OP_KV_SADD, "s|m2", ACK, "1")
        self.assertEqual(sorted(v1.send(v1.OP_KV_SMEMBERS, "s").split(",")), ["m1", "m2"])
        self.roundtrip(v1.OP_KV_SMEMBERS, "never-written-set", ACK, "")

    def test_tv6_kv_set_splits_at_the_first_bar(self):
        self.roundtrip(v1.OP_KV_SET, "wire:bars|a|b|c", ACK, "OK")
        self.roundtrip(v1.OP_KV_GET, "wire:bars", ACK, "a|b|c")
        self.roundtrip(v1.OP_KV_SET, "wire:empty|", ACK, "OK")
        self.roundtrip(v1.OP_KV_GET, "wire:empty", ACK, "")

    def test_tv7_status_by_full_id(self):
        self.assertEqual(v1.send(v1.OP_SUBMIT_DAG, "a|RUN_PAYLOAD|a.py||%s|GENERAL|1|0|[]" % PRINT_1), "DAG_ACCEPTED")
        wait_status("DAG-a", ("COMPLETED",))
        self.exact("01 55 00 00 00 00 00 05", (v1.OP_GET_JOB_STATUS, "DAG-a"), "01 50 00 00 00 00 00 09", "COMPLETED")
        self.roundtrip(v1.OP_GET_LOGS, "DAG-a", ACK, "1\n")
        self.roundtrip(v1.OP_GET_JOB_STATUS, "DAG-never-submitted", ACK, "NULL")
        self.roundtrip(v1.OP_GET_LOGS, "DAG-never-submitted", ACK, "")

    def test_tv8_publish_and_fetch_an_artifact(self):
        self.exact("01 53 00 00 00 00 00 11", (v1.OP_UPLOAD_ASSET, "w.py|" + PRINT_1), "01 50 00 00 00 00 00 0E", "UPLOAD_SUCCESS")
        self.exact("01 60 00 00 00 00 00 0C", (v1.OP_KV_SET, "art:key|w.py"), "01 50 00 00 00 00 00 02", "OK")
        self.exact("01 61 00 00 00 00 00 07", (v1.OP_KV_GET, "art:key"), "01 50 00 00 00 00 00 04", "w.py")
        self.exact("01 54 00 00 00 00 00 04", (v1.OP_FETCH_ASSET, "w.py"), "01 50 00 00 00 00 00 0C", PRINT_1)

    def test_tv9_deploy_a_script_then_run_it(self):
        body = "w2.py|cHJpbnQoMik="
        self.assertEqual(len(body), 18)
        self.exact("01 57 00 00 00 00 00 12", (v1.OP_DEPLOY_SCRIPT, body), "01 50 00 00 00 00 00 0E", "DEPLOY_SUCCESS")
        # RUN of a library file works here (Titan's always ended DEAD, P-10), with the space P-26 adds.
        op, text = v1.request(v1.OP_RUN, "w2.py")
        self.assertEqual(op, ACK, text)
        self.assertRegex(text, r"^JOB_QUEUED TSK-[0-9a-f-]{36} on GENERAL$")
        task = text.split()[1]
        wait_status(task, ("COMPLETED",))
        self.assertEqual(v1.fetch_logs(task), "2\n")

    def test_tv10_unknown_opcodes_as_signed_bytes(self):
        self.exact("01 01 00 00 00 00 00 00", (0x01, ""), "01 51 00 00 00 00 00 11", "UNKNOWN_OPCODE: 1")
        self.exact("01 90 00 00 00 00 00 00", (0x90, ""), "01 51 00 00 00 00 00 14", "UNKNOWN_OPCODE: -112")
        for op, text in [(0x02, "UNKNOWN_OPCODE: 2"), (0x50, "UNKNOWN_OPCODE: 80"), (0x51, "UNKNOWN_OPCODE: 81"), (0x52, "UNKNOWN_OPCODE: 82"), (0x7F, "UNKNOWN_OPCODE: 127"), (0x80, "UNKNOWN_OPCODE: -128"), (0xFF, "UNKNOWN_OPCODE: -1")]:
            self.roundtrip(op, "ignored payload", ERROR, text)

    def test_tv1_style_archive_dag(self):
        zbuf = io.BytesIO()
        with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("scripts/init.py", "import sys\nprint('init', ' '.join(sys.argv[1:]))\n")
            z.writestr("src/processor.py", "import os, sys\nprint('processor', ' '.join(sys.argv[1:]), os.path.basename(os.getcwd()))\n")
            z.writestr("src/server.py", "print('server')\n")
        upload = "titan-comprehensive-test.zip|" + base64.b64encode(zbuf.getvalue()).decode("ascii")
        self.roundtrip(v1.OP_UPLOAD_ASSET, upload, ACK, "UPLOAD_SUCCESS")
        body = (
            "step-1-init|RUN_ARCHIVE|titan-comprehensive-test.zip/scripts/init.py|--mode reset|GENERAL|10|0|[] ; "
            "step-2-fetch|RUN_ARCHIVE|titan-comprehensive-test.zip/src/processor.py|FETCH|GENERAL|1|2000|[step-1-init] ; "
            "step-3-process|RUN_ARCHIVE|titan-comprehensive-test.zip/src/processor.py|PROCESS_DATA|GENERAL|1|0|[step-2-fetch]|AFFINITY ; "
            "step-4-server|START_ARCHIVE_SERVICE|titan-comprehensive-test.zip/src/server.py||9000|GENERAL|1|0|[step-3-process]"
        )
        self.assertEqual(len(body), 445)
        self.exact("01 04 00 00 00 00 01 BD", (v1.OP_SUBMIT_DAG, body), "01 50 00 00 00 00 00 0C", "DAG_ACCEPTED")
        # The service would hold port 9000: cancel it while it still waits for its parents.
        self.roundtrip(v1.OP_CANCEL_JOB, "DAG-step-4-server", ACK, "CANCELLED")
        self.roundtrip(v1.OP_GET_JOB_STATUS, "DAG-step-4-server", ACK, "CANCELLED")
        wait_status("DAG-step-3-process", ("COMPLETED",))
        # Titan dropped archive args (P-15); here they reach the scripts, run from the entry's folder.
        self.assertEqual(v1.fetch_logs("DAG-step-1-init"), "init --mode reset\n")
        self.assertEqual(v1.fetch_logs("DAG-step-2-fetch"), "processor FETCH src\n")
        self.assertEqual(v1.fetch_logs("DAG-step-3-process"), "processor PROCESS_DATA src\n")

    def test_other_client_frames(self):
        # stop_service('svc1') -> 0x07 DAG-svc1; store_put('k','v') -> 0x60 k|v -> OK.
        self.assertEqual(v1.frame(v1.OP_STOP, "DAG-svc1"), h("01 07 00 00 00 00 00 08") + b"DAG-svc1")
        self.roundtrip(v1.OP_KV_SET, "k|v", ACK, "OK")
        self.assertEqual(v1.store_get("k"), "v")
        # YAML gpu_run.yaml: 170 bytes, header 01 04 00 00 00 00 00 AA.
        yaml_dag = (
            "Data_Step|RUN_ARCHIVE|GPU_Validation_Project.zip/preprocess.py||GENERAL|1|0|[] ; "
            "Training_Step|RUN_ARCHIVE|GPU_Validation_Project.zip/train_model.py||GPU|10|0|[Data_Step]"
        )
        self.assertEqual(v1.frame(v1.OP_SUBMIT_DAG, yaml_dag)[:8], h("01 04 00 00 00 00 00 AA"))
        # The zip was never uploaded: rejected as a whole (Titan accepted and failed at dispatch).
        self.failure(v1.OP_SUBMIT_DAG, yaml_dag, prefix="ERROR: Asset not found: GPU_Validation_Project.zip")

    def test_client_builds_the_reference_lines(self):
        job = v1.Job("INGEST", "ingest.py", content="print(1)\n")
        self.assertEqual(job.line(), "INGEST|RUN_PAYLOAD|ingest.py||%s|GENERAL|1|0|[]" % PRINT_1)
        job = v1.Job("TRANSFORM_A", "transform.py", args="SHARD_A", parents=["INGEST"], content="print(1)\n")
        self.assertEqual(job.line(), "TRANSFORM_A|RUN_PAYLOAD|transform.py|SHARD_A|%s|GENERAL|1|0|[INGEST]" % PRINT_1)
        job = v1.Job("svc", "w.py", job_type="SERVICE", port=8099, content="print(1)\n")
        self.assertEqual(job.line(), "svc|DEPLOY_PAYLOAD|w.py|%s|8099|GENERAL|1|0|[]" % PRINT_1)
        job = v1.Job("step-3-process", "titan-comprehensive-test.zip/src/processor.py", is_archive=True, args="PROCESS_DATA", parents=["step-2-fetch"], affinity=True)
        self.assertEqual(job.line(), "step-3-process|RUN_ARCHIVE|titan-comprehensive-test.zip/src/processor.py|PROCESS_DATA|GENERAL|1|0|[step-2-fetch]|AFFINITY")
        job = v1.Job("step-4-server", "titan-comprehensive-test.zip/src/server.py", is_archive=True, job_type="START_ARCHIVE_SERVICE", port=9000, parents=["step-3-process"])
        self.assertEqual(job.line(), "step-4-server|START_ARCHIVE_SERVICE|titan-comprehensive-test.zip/src/server.py||9000|GENERAL|1|0|[step-3-process]")
        job = v1.Job("mcp-one", "mcp-one.py", args="a|b c", requirement="GPU", priority=3, delay=1.5, content="print(1)\n")
        self.assertEqual(job.line(), "mcp-one|RUN_PAYLOAD|mcp-one.py|a b c|%s|GPU|3|1500|[]" % PRINT_1)
        # TV-4: a gate line right after its job, the child re-parented onto the gate.
        jobs, gates = v1.inject_gates([
            v1.Job("hitl-preprocess", "preprocess.py", content="p", hitl_message="Data looks good? Approve to start training."),
            v1.Job("hitl-train", "train.py", content="t", parents=["hitl-preprocess"]),
        ], gate_script=__file__)
        self.assertEqual(gates, ["hitl-gate-hitl-preprocess"])
        self.assertEqual([j.id for j in jobs], ["hitl-preprocess", "hitl-gate-hitl-preprocess", "hitl-train"])
        gate_line = jobs[1].line().split("|")
        self.assertEqual(gate_line[:4], ["hitl-gate-hitl-preprocess", "RUN_PAYLOAD", "test_v1_wire.py", "hitl-gate-hitl-preprocess 172800 Data looks good? Approve to start training."])
        self.assertEqual(gate_line[5:], ["GENERAL", "1", "0", "[hitl-preprocess]"])
        self.assertTrue(jobs[2].line().endswith("|[hitl-gate-hitl-preprocess]"))
        self.assertEqual(v1.frame(v1.OP_KV_SET, "titan:hitl:status:hitl-gate-hitl-preprocess|CLEARED")[:8], h("01 60 00 00 00 00 00 33"))


# ---- framing limits ---------------------------------------------------------------------------------


class Framing(WireCase):
    def test_a_frame_over_10_mib_is_answered_then_closed(self):
        too_big = 10 * 1024 * 1024 + 1
        raw = v1.frame(v1.OP_KV_SET, b"", length=too_big)
        self.assertEqual(raw, h("01 60 00 00 00 A0 00 01"))
        got, closed = raw_reply(raw)
        self.assertEqual(got, reply_frame(ERROR, "ERROR: Packet too large: 10485761"))
        self.assertTrue(closed)

    def test_exactly_10_mib_is_allowed(self):
        # Titan's limit is inclusive: the frame is read and handled (the value is then over the
        # data bus's 1 MiB limit, an ERROR that is not about the frame).
        body = b"wire:big|" + b"x" * (10 * 1024 * 1024 - 9)
        raw = v1.frame(v1.OP_KV_SET, body)
        self.assertEqual(raw[:8], h("01 60 00 00 00 A0 00 00"))
        header, payload, closed = v1.exchange(raw, timeout=20)
        text = payload.decode()
        self.assertEqual(header[1], ERROR, text)
        self.assertNotIn("Packet too large", text)
        self.assertIn("limited to", text)
        self.assertTrue(closed)

    def test_flags_and_reserved_bytes_are_not_checked(self):
        got, closed = raw_reply(v1.frame(v1.OP_KV_GET, "nokey", flags=0x7F, reserved=0xFF))
        self.assertEqual(got, reply_frame(ACK, "NULL"))
        self.assertTrue(closed)

    def test_a_request_split_across_writes_is_reassembled(self):
        host, port = v1.master_address()
        raw = v1.frame(v1.OP_KV_GET, "nokey")
        with socket.create_connection((host, port), timeout=10) as s:
            for i in range(len(raw)):
                s.sendall(raw[i:i + 1])
                time.sleep(0.005)
            head = v1._recv_exact(s, 8)
            body = v1._recv_exact(s, struct.unpack(">BBBBI", head)[4])
            self.assertEqual(head + body, reply_frame(ACK, "NULL"))
            self.assertEqual(s.recv(1), b"")

    def test_one_request_per_connection(self):
        # A second frame on the same connection is not served: the reply comes, then the close.
        host, port = v1.master_address()
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(v1.frame(v1.OP_KV_GET, "nokey") + v1.frame(v1.OP_KV_GET, "k"))
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertEqual(data, reply_frame(ACK, "NULL"))

    def test_version_3_on_a_fresh_connection_gets_a_reply_not_a_drop(self):
        header, payload, closed = v1.exchange(v1.frame(v1.OP_GET_JOB_STATUS, "DAG-a", version=3))
        self.assertIsNotNone(header, "connection dropped without a reply")
        self.assertEqual(header[4], len(payload))
        self.assertIn(b"version 3", payload)
        self.assertTrue(closed)

    def test_version_3_on_a_fresh_connection_is_answered_as_a_v1_error(self):
        # docs/compatibility.md: wrong-version frames get `ERROR: Version Mismatch! Server expects v1`.
        header, payload, _ = v1.exchange(v1.frame(v1.OP_GET_JOB_STATUS, "DAG-a", version=3))
        self.assertEqual((header[0], header[1]), (1, ERROR), payload)
        self.assertTrue(payload.decode().startswith("ERROR"), payload)


# ---- malformed payloads of every opcode ---------------------------------------------------------------


def line(job_id, header="RUN_PAYLOAD", body="x.py||" + PRINT_1 + "|GENERAL", prio="1", delay="0", parents="[]"):
    return "%s|%s|%s|%s|%s|%s" % (job_id, header, body, prio, delay, parents)


class Malformed(WireCase):
    def test_submit_dag(self):
        f = lambda body, **kw: self.failure(v1.OP_SUBMIT_DAG, body, **kw)  # noqa: E731
        f("", prefix="ERROR")
        f("   ", prefix="ERROR")
        f(line("cy-a", parents="[cy-b]") + " ; " + line("cy-b", parents="[cy-a]"), prefix="ERROR: DAG rejected", contains="cycle")
        f(line("self-a", parents="[self-a]"), prefix="ERROR: DAG rejected")
        f("nb-a|RUN_PAYLOAD|x.py||%s|GENERAL|1|0" % PRINT_1, prefix="ERROR", contains="missing parent brackets")
        f(line("b64-a", body="x.py||c!!x|GENERAL"), prefix="ERROR", contains="base64")
        f(line("b64-b", body="x.py||cHJpbnQoMSk|GENERAL"), prefix="ERROR", contains="base64")
        f(line("hd-a", header="RUN_SCRIPT"), prefix="ERROR", contains="unknown header")
        f(line("fc-a", body="x.py|%s|GENERAL" % PRINT_1), prefix="ERROR", contains="takes 4 fields")
        f(line("fc-b", header="RUN_ARCHIVE", body="p.zip/m.py|a|GENERAL|extra"), prefix="ERROR", contains="takes 3 fields")
        f(line("fc-c", header="DEPLOY_PAYLOAD", body="w.py|%s|GENERAL" % PRINT_1), prefix="ERROR", contains="takes 4 fields")
        f(line("fc-d", header="START_ARCHIVE_SERVICE", body="p.zip/s.py||GENERAL"), prefix="ERROR", contains="takes 4 fields")
        f("just-an-id", prefix="ERROR")
        f(line("dup-a") + " ; " + line("dup-a"), prefix="ERROR", contains="duplicate")
        f(line("up-a", parents="[nobody]"), prefix="ERROR", contains="unknown parent")
        f(line("../evil"), prefix="ERROR", contains="invalid job id")
        f(line("ev/il"), prefix="ERROR", contains="invalid job id")
        f(line("pr-a", prio="high"), prefix="ERROR", contains="priority")
        f(line("dl-a", delay="-5"), prefix="ERROR", contains="delay")
        f(line("dl-b", delay="soon"), prefix="ERROR", contains="delay")
        f(line("fn-a", body="../x.py||%s|GENERAL" % PRINT_1), prefix="ERROR", contains="bare file name")
        f(line("br-a", body="x.py|[x]|%s|GENERAL" % PRINT_1), prefix="ERROR")
        f(line("rq-a", body="x.py||%s|GEN ERAL" % PRINT_1), prefix="ERROR", contains="requirement")
        f(line("pt-a", header="DEPLOY_PAYLOAD", body="w.py|%s|99999|GENERAL" % PRINT_1), prefix="ERROR", contains="port")
        f(line("pt-b", header="DEPLOY_PAYLOAD", body="w.py|%s|http|GENERAL" % PRINT_1), prefix="ERROR", contains="port")
        f(line("ar-a", header="RUN_ARCHIVE", body="proj/main.py||GENERAL"), prefix="ERROR", contains="Invalid Archive Pointer")
        f(line("ar-b", header="RUN_ARCHIVE", body="proj.zip/../main.py||GENERAL"), prefix="ERROR", contains="archive entry")
        f(line("ar-c", header="RUN_ARCHIVE", body="never-uploaded.zip/main.py||GENERAL"), prefix="ERROR: Asset not found: never-uploaded.zip")
        f(line("sc-a") + " ; ", prefix="ERROR", contains="empty line")
        f(line("sc-b") + " ;; " + line("sc-c"), prefix="ERROR")

    def test_a_rejected_dag_accepts_nothing(self):
        self.failure(v1.OP_SUBMIT_DAG, line("atomic-good") + " ; " + "atomic-bad|RUN_PAYLOAD|x.py||%s|GENERAL|1|0" % PRINT_1, prefix="ERROR")
        self.roundtrip(v1.OP_GET_JOB_STATUS, "DAG-atomic-good", ACK, "NULL")

    def test_submit_job(self):
        self.failure(v1.OP_SUBMIT_JOB, "", prefix="ERROR")
        self.failure(v1.OP_SUBMIT_JOB, "PDF_CONVERT|doc.pdf", prefix="ERROR", contains="unknown job type")
        self.failure(v1.OP_SUBMIT_JOB, "RUN_PAYLOAD|x.py||%s" % PRINT_1, prefix="ERROR", contains="takes 4 fields")
        self.failure(v1.OP_SUBMIT_JOB, "START_ARCHIVE_SERVICE|web.zip/server.py|--prod|8080", prefix="ERROR")
        self.failure(v1.OP_SUBMIT_JOB, "RUN_PAYLOAD|x.py||%s|GENERAL|x|0" % PRINT_1, prefix="ERROR", contains="priority")
        self.failure(v1.OP_SUBMIT_JOB, "../j|RUN_PAYLOAD|x.py||%s|GENERAL" % PRINT_1, prefix="ERROR", contains="invalid job id")

    def test_submit_job_valid_forms_are_accepted(self):
        self.roundtrip(v1.OP_SUBMIT_JOB, "sj-one|RUN_PAYLOAD|x.py|a b|%s|GENERAL|3|0" % PRINT_1, ACK, "JOB_ACCEPTED")
        wait_status("DAG-sj-one", ("COMPLETED",))

    def test_deploy(self):
        self.failure(v1.OP_DEPLOY, "", prefix="ERROR: Missing filename")
        self.failure(v1.OP_DEPLOY, "|8080", prefix="ERROR: Missing filename")
        self.failure(v1.OP_DEPLOY, "absent.py|8080", prefix="ERROR: File not found in perm_files")
        self.failure(v1.OP_DEPLOY, "../../etc/passwd", prefix="ERROR")
        self.failure(v1.OP_DEPLOY, "Worker.jar", prefix="ERROR")
        self.roundtrip(v1.OP_DEPLOY_SCRIPT, "dep.py|" + PRINT_1, ACK, "DEPLOY_SUCCESS")
        self.failure(v1.OP_DEPLOY, "dep.py|notaport", prefix="ERROR: Invalid Port Format")
        self.failure(v1.OP_DEPLOY, "dep.py|70000", prefix="ERROR: Invalid Port Format")

    def test_run(self):
        self.failure(v1.OP_RUN, "", prefix="ERROR: Missing filename")
        self.failure(v1.OP_RUN, "absent-script.py", prefix="ERROR: File not found recursively in perm_files")
        self.failure(v1.OP_RUN, "../absent.py|GENERAL", prefix="ERROR")

    def test_stop(self):
        self.failure(v1.OP_STOP, "", prefix="ERROR: Missing Service ID")
        self.failure(v1.OP_STOP, "   ", prefix="ERROR: Missing Service ID")
        self.failure(v1.OP_STOP, "DAG-no-such-service", prefix="ERROR: Service DAG-no-such-service not found")
        self.failure(v1.OP_STOP, "../x", prefix="ERROR")

    def test_kill_worker(self):
        self.failure(v1.OP_KILL_WORKER, "", prefix="ERROR: Payload must be HOST|PORT")
        self.failure(v1.OP_KILL_WORKER, "localhost", prefix="ERROR: Payload must be HOST|PORT")
        self.failure(v1.OP_KILL_WORKER, "a|b|c", prefix="ERROR: Payload must be HOST|PORT")
        self.failure(v1.OP_KILL_WORKER, "localhost|abc", prefix="ERROR: Invalid Port Format")
        self.failure(v1.OP_KILL_WORKER, "localhost|-1", prefix="ERROR: Invalid Port Format")
        self.failure(v1.OP_KILL_WORKER, "localhost|99999", prefix="ERROR: Invalid Port Format")
        self.failure(v1.OP_KILL_WORKER, "localhost|1", prefix="ERROR: Worker node 1 not found in registry.")

    def test_get_logs(self):
        self.roundtrip(v1.OP_GET_LOGS, "", ACK, "")
        self.roundtrip(v1.OP_GET_LOGS, "DAG-unknown-job", ACK, "")

    def test_get_logs_rejects_path_ids(self):
        # Reference 4.2 (GET_LOGS): "Reject ids containing path characters".
        self.failure(v1.OP_GET_LOGS, "../../etc/passwd", prefix="ERROR")

    def test_upload_asset(self):
        self.failure(v1.OP_UPLOAD_ASSET, "", prefix="ERROR: Invalid Upload Payload")
        self.failure(v1.OP_UPLOAD_ASSET, "no-bar-here", prefix="ERROR: Invalid Upload Payload")
        self.failure(v1.OP_UPLOAD_ASSET, "../x|" + PRINT_1, prefix="ERROR: Invalid asset name (path traversal rejected)")
        self.failure(v1.OP_UPLOAD_ASSET, "a/b|" + PRINT_1, prefix="ERROR: Invalid asset name (path traversal rejected)")
        self.failure(v1.OP_UPLOAD_ASSET, "|" + PRINT_1, prefix="ERROR: Invalid asset name")
        self.failure(v1.OP_UPLOAD_ASSET, "bad.bin|!!!!", prefix="UPLOAD_FAILED")

    def test_fetch_asset(self):
        self.failure(v1.OP_FETCH_ASSET, "missing-asset.bin", prefix="ERROR_NOT_FOUND")
        self.roundtrip(v1.OP_FETCH_ASSET, "missing-asset.bin", ERROR, "ERROR_NOT_FOUND")
        self.failure(v1.OP_FETCH_ASSET, "../../etc/passwd", prefix="ERROR")
        self.failure(v1.OP_FETCH_ASSET, "", prefix="ERROR")

    def test_get_job_status(self):
        self.roundtrip(v1.OP_GET_JOB_STATUS, "", ACK, "NULL")
        self.roundtrip(v1.OP_GET_JOB_STATUS, "DAG-unknown-job", ACK, "NULL")

    def test_cancel_job(self):
        self.failure(v1.OP_CANCEL_JOB, "", prefix="NOT_FOUND")
        self.roundtrip(v1.OP_CANCEL_JOB, "DAG-unknown-job", ERROR, "NOT_FOUND")
        # Titan wrote CANCELLED for unknown ids (P-08): nothing is written here.
        self.roundtrip(v1.OP_GET_JOB_STATUS, "DAG-unknown-job", ACK, "NULL")

    def test_deploy_script(self):
        self.failure(v1.OP_DEPLOY_SCRIPT, "", prefix="ERROR: Invalid Deploy Payload")
        self.failure(v1.OP_DEPLOY_SCRIPT, "no-bar", prefix="ERROR: Invalid Deploy Payload")
        self.failure(v1.OP_DEPLOY_SCRIPT, "../x.py|" + PRINT_1, prefix="ERROR: Invalid script name (path traversal rejected)")
        self.failure(v1.OP_DEPLOY_SCRIPT, "x.py|not base64!", prefix="DEPLOY_FAILED")

    def test_kv_set(self):
        self.failure(v1.OP_KV_SET, "", prefix="ERROR: Invalid Format")
        self.failure(v1.OP_KV_SET, "no-bar", prefix="ERROR: Invalid Format")
        self.failure(v1.OP_KV_SET, "|value", prefix="ERROR")
        self.failure(v1.OP_KV_SET, "bad key|value", prefix="ERROR")
        self.failure(v1.OP_KV_SET, "big|" + "x" * (1024 * 1024 + 1), prefix="ERROR", contains="limited to")

    def test_kv_get(self):
        self.failure(v1.OP_KV_GET, "", prefix="ERROR")
        self.failure(v1.OP_KV_GET, "bad key", prefix="ERROR")

    def test_kv_sadd(self):
        self.failure(v1.OP_KV_SADD, "", prefix="ERROR: Invalid Format")
        self.failure(v1.OP_KV_SADD, "no-bar", prefix="ERROR: Invalid Format")
        self.failure(v1.OP_KV_SADD, "|member", prefix="ERROR")
        self.failure(v1.OP_KV_SADD, "set|" + "m" * 513, prefix="ERROR", contains="limited to")

    def test_kv_smembers(self):
        self.failure(v1.OP_KV_SMEMBERS, "", prefix="ERROR")
        self.failure(v1.OP_KV_SMEMBERS, "bad key", prefix="ERROR")

    def test_payload_free_opcodes_ignore_their_payload(self):
        for op in (v1.OP_STATS, v1.OP_STATS_JSON, v1.OP_CLEAN_STATS):
            op_got, text = v1.request(op, "garbage|payload")
            self.assertEqual(op_got, ACK, text)
        self.roundtrip(v1.OP_CLEAN_STATS, "", ACK, "Stats Map Cleared. Run STATS again to see fresh state.")

    def test_non_utf8_payload_is_answered(self):
        header, payload, closed = v1.exchange(v1.frame(v1.OP_KV_GET, b"\xff\xfe\xfd"))
        self.assertIsNotNone(header)
        self.assertEqual(header[1], ERROR, payload)
        self.assertTrue(closed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
