/**
 * Titan's v1 protocol end to end, through a Python client that speaks it as Titan's Python SDK
 * does (test/python/titan_v1_client.py): the byte-level wire suite (test/python/test_v1_wire.py),
 * then DAGs with args, archives and a service, the data bus shared with v2, artifacts, HITL gates
 * run by a gate script written from Titan's, cancel with cascade, both stats formats, and the
 * access rules of --legacy-v1.
 *
 * The gate script polls every HITL_POLL_SECONDS (Titan: 5 s). v1 job lines cannot carry
 * environment variables, so the variable is set in the worker's environment and passed on to
 * its jobs (--pass-env); the gate's arguments stay exactly those Titan's SDK sends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, kill, launch, ROOT, waitForOutput } from '../helpers/cluster.js';
import { isGone, waitUntil } from '../helpers/processes.js';
import { freePort, readPid, TempDir } from '../helpers/scripts.js';

const PY_DIR = join(ROOT, 'test/python');

interface PyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Python processes this file started, so none outlives it. */
const children = new Set<ChildProcess>();

function python(args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<PyResult> {
  return new Promise((resolve) => {
    const child = spawn('python3', args, { cwd: PY_DIR, env: { ...process.env, PYTHONPATH: PY_DIR, PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A job script: writes $TITAN_SHARED_DIR/<name>.txt and prints its name and args. */
const STEP_PY = String.raw`import os, sys
name = os.path.basename(sys.argv[0])[:-3]
args = sys.argv[1:]
tag = args[0] if args else name
with open(os.path.join(os.environ["TITAN_SHARED_DIR"], tag + ".txt"), "w") as f:
    f.write(" ".join(args))
print(name, " ".join(args))
`;

/** Fan-in: lists what the upstream jobs of its run left in the shared folder. */
const AGGREGATE_PY = String.raw`import os
shared = os.environ["TITAN_SHARED_DIR"]
names = sorted(n[:-4] for n in os.listdir(shared) if n.endswith(".txt"))
print("aggregate", ",".join(names))
for n in names:
    with open(os.path.join(shared, n + ".txt")) as f:
        print(n, "=", f.read())
`;

describe('Titan v1 protocol (--legacy-v1)', () => {
  const cluster = new Cluster(['--legacy-v1']);
  const tmp = new TempDir('titan-v1-');
  /** Pids of job processes this file made run, checked gone (and killed if not) at the end. */
  const jobPids: number[] = [];

  /** Runs a Python driver against the cluster; it must exit 0 and print one JSON line last. */
  async function driver<T>(code: string, ...args: string[]): Promise<T> {
    const r = await python(['-c', code, ...args], { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port) });
    if (r.code !== 0) throw new Error(`python driver exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as T;
  }

  beforeAll(async () => {
    await cluster.startMaster();
    // Passed from the worker's environment to every job it runs: the gate script polls every 0.5 s.
    process.env.HITL_POLL_SECONDS = '0.5';
    try {
      await cluster.startWorker({ slots: 4, args: ['--pass-env', 'HITL_POLL_SECONDS'] });
    } finally {
      delete process.env.HITL_POLL_SECONDS;
    }
    tmp.write('ingest.py', STEP_PY);
    tmp.write('transform.py', STEP_PY);
    tmp.write('step.py', STEP_PY);
    tmp.write('aggregate.py', AGGREGATE_PY);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const pid of jobPids) {
      if (!isGone(pid)) process.kill(pid, 'SIGKILL');
    }
    await cluster.stop();
    tmp.remove();
  });

  it('passes the byte-level wire suite (python3 -m unittest test_v1_wire)', async () => {
    const r = await python(['-m', 'unittest', '-v', 'test_v1_wire'], { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(cluster.port) });
    if (r.code !== 0) console.error(`test_v1_wire failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^OK\b/m);
  });

  it('runs a fan-out/fan-in DAG with args submitted by the Python client', async () => {
    const out = await driver<{ resp: string; payload: string; statuses: Record<string, string>; logs: Record<string, string> }>(
      String.raw`import json, sys
from titan_v1_client import *
d = sys.argv[1]
jobs = [Job("INGEST", d + "/ingest.py", args="ingest raw.csv"),
        Job("TRANSFORM_A", d + "/transform.py", args="SHARD_A upper", parents=["INGEST"]),
        Job("TRANSFORM_B", d + "/transform.py", args="SHARD_B|lower", parents=["INGEST"]),
        Job("TRANSFORM_C", d + "/transform.py", args=["SHARD_C", "x"], parents=["INGEST"], priority=5),
        Job("AGGREGATE", d + "/aggregate.py", parents=["TRANSFORM_A", "TRANSFORM_B", "TRANSFORM_C"])]
payload = dag_payload(jobs)
resp = submit_dag(jobs)
ids = ["DAG-" + j.id for j in jobs]
statuses = {i: wait_for_status(i, timeout=30) for i in ids}
print(json.dumps({"resp": resp, "payload": payload, "statuses": statuses, "logs": {i: fetch_logs(i) for i in ids}}))
`,
      tmp.path,
    );
    expect(out.resp).toBe('DAG_ACCEPTED');
    // What Titan's SDK sends: " ; " joins, "|" in args replaced by spaces, GENERAL, priority, 0 ms, parents.
    const lines = out.payload.split(' ; ');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^INGEST\|RUN_PAYLOAD\|ingest\.py\|ingest raw\.csv\|[A-Za-z0-9+/=]+\|GENERAL\|1\|0\|\[\]$/);
    expect(lines[2]).toMatch(/^TRANSFORM_B\|RUN_PAYLOAD\|transform\.py\|SHARD_B lower\|[A-Za-z0-9+/=]+\|GENERAL\|1\|0\|\[INGEST\]$/);
    expect(lines[3]).toMatch(/\|GENERAL\|5\|0\|\[INGEST\]$/);
    expect(lines[4]).toMatch(/\|GENERAL\|1\|0\|\[TRANSFORM_A,TRANSFORM_B,TRANSFORM_C\]$/);
    expect(out.statuses).toEqual({ 'DAG-INGEST': 'COMPLETED', 'DAG-TRANSFORM_A': 'COMPLETED', 'DAG-TRANSFORM_B': 'COMPLETED', 'DAG-TRANSFORM_C': 'COMPLETED', 'DAG-AGGREGATE': 'COMPLETED' });
    expect(out.logs).toEqual({
      'DAG-INGEST': 'ingest ingest raw.csv\n',
      'DAG-TRANSFORM_A': 'transform SHARD_A upper\n',
      'DAG-TRANSFORM_B': 'transform SHARD_B lower\n',
      'DAG-TRANSFORM_C': 'transform SHARD_C x\n',
      'DAG-AGGREGATE': 'aggregate SHARD_A,SHARD_B,SHARD_C,ingest\nSHARD_A = SHARD_A upper\nSHARD_B = SHARD_B lower\nSHARD_C = SHARD_C x\ningest = ingest raw.csv\n',
    });
  });

  it('runs an archive DAG: RUN_ARCHIVE jobs with args and AFFINITY, a service on its port, a job using it, then STOP', async () => {
    const port = await freePort();
    const pidFile = tmp.file('web.pid');
    const out = await driver<{ upload: string; resp: string; payload: string; statuses: Record<string, string>; logs: Record<string, string>; web: string }>(
      String.raw`import json, sys, zipfile
from titan_v1_client import *
d, port = sys.argv[1], int(sys.argv[2])
zp = d + "/v1proj.zip"
with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("src/main.py", "import os, sys\nprint('main', ' '.join(sys.argv[1:]), 'in', os.path.basename(os.getcwd()), os.path.exists('lib/data.txt'))\n")
    z.writestr("src/lib/data.txt", "data")
    z.writestr("srv/server.py", "import http.server, os, sys\nopen(sys.argv[1], 'w').write(str(os.getpid()))\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(b'pong from ' + os.environ['TITAN_JOB_ID'].encode())\n    def log_message(self, *a):\n        pass\nprint('serving on', os.environ['PORT'], flush=True)\nhttp.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()\n")
    z.writestr("src/client.py", "import sys, urllib.request\nprint('got', urllib.request.urlopen('http://127.0.0.1:%s/' % sys.argv[1], timeout=10).read().decode())\n")
upload = upload_file(zp)
jobs = [Job("unpack", "v1proj.zip/src/main.py", is_archive=True, args="--mode reset"),
        Job("fetch", "v1proj.zip/src/main.py", is_archive=True, args="FETCH", parents=["unpack"], affinity=True),
        Job("web", "v1proj.zip/srv/server.py", is_archive=True, job_type="START_ARCHIVE_SERVICE", args=sys.argv[3], port=port, parents=["fetch"]),
        Job("probe", "v1proj.zip/src/client.py", is_archive=True, args=str(port), parents=["web"])]
resp = submit_dag(jobs)
ids = ["DAG-unpack", "DAG-fetch", "DAG-probe"]
statuses = {i: wait_for_status(i, timeout=30) for i in ids}
print(json.dumps({"upload": upload, "resp": resp, "payload": dag_payload(jobs), "statuses": statuses, "logs": {i: fetch_logs(i) for i in ids + ["DAG-web"]}, "web": get_job_status("DAG-web")}))
`,
      tmp.path,
      String(port),
      pidFile,
    );
    expect(out.upload).toBe('UPLOAD_SUCCESS');
    expect(out.payload).toBe(
      [
        'unpack|RUN_ARCHIVE|v1proj.zip/src/main.py|--mode reset|GENERAL|1|0|[]',
        'fetch|RUN_ARCHIVE|v1proj.zip/src/main.py|FETCH|GENERAL|1|0|[unpack]|AFFINITY',
        `web|START_ARCHIVE_SERVICE|v1proj.zip/srv/server.py|${pidFile}|${port}|GENERAL|1|0|[fetch]`,
        `probe|RUN_ARCHIVE|v1proj.zip/src/client.py|${port}|GENERAL|1|0|[web]`,
      ].join(' ; '),
    );
    expect(out.resp).toBe('DAG_ACCEPTED');
    expect(out.statuses).toEqual({ 'DAG-unpack': 'COMPLETED', 'DAG-fetch': 'COMPLETED', 'DAG-probe': 'COMPLETED' });
    expect(out.logs['DAG-unpack']).toBe('main --mode reset in src True\n');
    expect(out.logs['DAG-fetch']).toBe('main FETCH in src True\n');
    expect(out.logs['DAG-probe']).toBe('got pong from web\n');
    expect(out.logs['DAG-web']).toBe(`serving on ${port}\n`);
    expect(out.web).toBe('RUNNING');
    const servicePid = await readPid(pidFile);
    jobPids.push(servicePid);

    // Both stats formats while the service runs, parsed and type-checked in Python as the dashboard does.
    const stats = await driver<{ json: StatsJson; text: string; types: Record<string, string> }>(String.raw`import json
from titan_v1_client import *
text = stats()
raw = stats_json()
parsed = json.loads(raw[raw.index("{"):])
w = parsed["workers"][0]
types = {"active_workers": type(parsed["active_workers"]).__name__, "queue_size": type(parsed["queue_size"]).__name__,
         "port": type(w["port"]).__name__, "capabilities": type(w["capabilities"]).__name__, "load": type(w["load"]).__name__,
         "active_job": type(w["active_job"]).__name__, "history": type(w["history"]).__name__, "services": type(w["services"]).__name__,
         "completed_at": sorted({type(h["completed_at"]).__name__ for h in w["history"] if "completed_at" in h})[0],
         "time": sorted({type(h["time"]).__name__ for h in w["history"]})[0]}
print(json.dumps({"json": parsed, "text": text, "types": types}))
`);
    expect(stats.types).toEqual({ active_workers: 'int', queue_size: 'int', port: 'int', capabilities: 'str', load: 'str', active_job: 'str', history: 'list', services: 'list', completed_at: 'int', time: 'str' });
    expect(stats.json.active_workers).toBe(1);
    expect(stats.json.queue_size).toBe(0);
    const worker = stats.json.workers[0];
    expect(worker?.port).toBe(8100);
    expect(worker?.capabilities).toBe('[GENERAL]');
    expect(worker?.load).toMatch(/^[1-4]\/4$/);
    expect(worker?.services).toEqual(['DAG-web']);
    expect(worker?.active_job).toMatch(/^DAG-/);
    for (const h of worker?.history ?? []) {
      expect(h.id).toMatch(/^(DAG|TSK)-/);
      expect(['RUNNING', 'COMPLETED', 'FAILED', 'DEAD', 'CANCELLED', 'PENDING']).toContain(h.status);
      expect(h.time).toMatch(/^(\d+ms|N\/A)$/);
    }
    expect(worker?.history.find((h) => h.id === 'DAG-probe')).toMatchObject({ status: 'COMPLETED', completed_at: expect.any(Number) });
    expect(stats.text.startsWith('\n--- TITAN SYSTEM MONITOR ---\nActive Workers:    1\nExecution Queue:   0 jobs\n')).toBe(true);
    expect(stats.text).toMatch(/^ • \[8100\] Load: [1-4]\/4 \(\d+%\) {3}\| Skills: \[GENERAL\]$/m);
    expect(stats.text).toContain('\n    └── [SVC] Service ID: DAG-web\n');

    const stop = await driver<{ stop: string[]; again: string[]; status: string }>(String.raw`import json
from titan_v1_client import *
stop = request(OP_STOP, "DAG-web")
print(json.dumps({"stop": stop, "again": request(OP_STOP, "DAG-web"), "status": get_job_status("DAG-web")}))
`);
    expect(stop.stop).toEqual([0x50, 'STOPPED: DAG-web']);
    expect(stop.again[0]).toBe(0x51);
    expect(await waitUntil(() => isGone(servicePid), 10_000)).toBe(true);
    expect(await listening(port)).toBe(false);
  });

  it('shares the data bus between v1 (KV opcodes), the v2 SDK and titan store', async () => {
    const client = cluster.client();
    const first = await driver<{ set: string; sadd: number[] }>(String.raw`import json
from titan_v1_client import *
print(json.dumps({"set": store_put("xkv:from-v1", "hello|world v1"), "sadd": [store_sadd("xkv:set-v1", m) for m in ("a", "b", "a")]}))
`);
    expect(first).toEqual({ set: 'OK', sadd: [1, 1, 0] });
    const got = await cluster.cli(['store', 'get', 'xkv:from-v1']);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('hello|world v1\n');
    expect(await client.get('xkv:from-v1')).toBe('hello|world v1');
    expect((await client.smembers('xkv:set-v1')).sort()).toEqual(['a', 'b']);

    await client.set('xkv:from-v2', 'made in v2');
    expect(await client.sadd('xkv:set-v2', 'x', 'y')).toBe(2);
    const set = await cluster.cli(['store', 'set', 'xkv:from-cli', 'typed at a shell']);
    expect(set.code, set.stderr).toBe(0);
    const second = await driver<{ v2: string; cli: string; absent: string; members: string[]; sadd: number[] }>(String.raw`import json
from titan_v1_client import *
print(json.dumps({"v2": store_get("xkv:from-v2"), "cli": store_get("xkv:from-cli"), "absent": store_get("xkv:absent"),
                  "members": sorted(store_smembers("xkv:set-v2")), "sadd": [store_sadd("xkv:set-v2", "x"), store_sadd("xkv:set-v2", "z")]}))
`);
    expect(second).toEqual({ v2: 'made in v2', cli: 'typed at a shell', absent: 'NULL', members: ['x', 'y'], sadd: [0, 1] });
    expect((await client.smembers('xkv:set-v2')).sort()).toEqual(['x', 'y', 'z']);
    expect(await client.get('xkv:absent')).toBeNull();
  });

  it('uploads and fetches artifacts byte for byte, and publishes them under a key', async () => {
    const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(200_000), Buffer.from([0, 0xff, 0x0a, 0x0d])]);
    writeFileSync(tmp.file('weights.bin'), binary);
    writeFileSync(tmp.file('report.txt'), 'accuracy=0.97 | loss=0.1\nünïcødé ✓\n');
    const out = await driver<Record<string, unknown>>(
      String.raw`import json, sys
from titan_v1_client import *
d = sys.argv[1]
print(json.dumps({
    "upload": upload_file(d + "/weights.bin"),
    "fetch": fetch_artifact("weights.bin", d + "/weights.out"),
    "publish": publish_artifact("xart:report", d + "/report.txt"),
    "key": store_get("xart:report"),
    "get": get_artifact("xart:report", d + "/report.out"),
    "absent_key": get_artifact("xart:nothing", d + "/nothing.out"),
    "absent_file": fetch_artifact("never-uploaded.bin", d + "/never.out"),
}))
`,
      tmp.path,
    );
    expect(out).toEqual({ upload: 'UPLOAD_SUCCESS', fetch: true, publish: 'OK', key: 'report.txt', get: true, absent_key: false, absent_file: false });
    expect(readFileSync(tmp.file('weights.out')).equals(binary)).toBe(true);
    expect(readFileSync(tmp.file('report.out'), 'utf8')).toBe('accuracy=0.97 | loss=0.1\nünïcødé ✓\n');
    expect(tmp.exists('nothing.out') || tmp.exists('never.out')).toBe(false);
  });

  it('holds a child behind a HITL gate injected by the client until a KV_SET approves it', async () => {
    const waiting = await driver<Record<string, unknown>>(
      String.raw`import json, sys, time
from titan_v1_client import *
d = sys.argv[1]
# A decision left over from an earlier run: submit_dag must clear it before submitting.
store_put("titan:hitl:status:hitl-gate-prepare", "APPROVED")
jobs = [Job("prepare", d + "/step.py", args="prepare", hitl_message="Data looks good?|Approve to train."),
        Job("train", d + "/step.py", args="train", parents=["prepare"])]
resp = submit_dag(jobs)
deadline = time.time() + 20
while time.time() < deadline and store_get("titan:hitl:status:hitl-gate-prepare") != "WAITING":
    time.sleep(0.1)
time.sleep(1.2)  # a few 0.5 s polls
print(json.dumps({"resp": resp, "status": store_get("titan:hitl:status:hitl-gate-prepare"),
                  "queue": store_smembers("titan:hitl:queue"), "message": store_get("titan:hitl:message:hitl-gate-prepare"),
                  "ts": store_get("titan:hitl:ts:hitl-gate-prepare"), "prepare": get_job_status("DAG-prepare"),
                  "gate": get_job_status("DAG-hitl-gate-prepare"), "train": get_job_status("DAG-train")}))
`,
      tmp.path,
    );
    expect(waiting).toMatchObject({ resp: 'DAG_ACCEPTED', status: 'WAITING', message: 'Data looks good? Approve to train.', prepare: 'COMPLETED', gate: 'RUNNING', train: 'PENDING' });
    expect(waiting.queue).toContain('hitl-gate-prepare');
    expect(Math.abs(Number(waiting.ts) - Date.now())).toBeLessThan(60_000);
    const client = cluster.client();
    expect((await client.gates()).pending).toContainEqual(expect.objectContaining({ ref: 'hitl-gate-prepare', style: 'titan', message: 'Data looks good? Approve to train.' }));

    const approved = await driver<Record<string, string>>(String.raw`import json
from titan_v1_client import *
ok = store_put("titan:hitl:status:hitl-gate-prepare", "APPROVED")
train = wait_for_status("DAG-train", timeout=20)
print(json.dumps({"ok": ok, "train": train, "gate": get_job_status("DAG-hitl-gate-prepare"), "train_log": fetch_logs("DAG-train"), "gate_log": fetch_logs("DAG-hitl-gate-prepare")}))
`);
    expect(approved).toMatchObject({ ok: 'OK', train: 'COMPLETED', gate: 'COMPLETED', train_log: 'step train\n' });
    const gateLog = approved.gate_log ?? '';
    expect(gateLog).toContain('[HITL] hitl-gate-prepare waiting for approval: Data looks good? Approve to train.\n');
    // Polled at 0.5 s from the worker's environment, not Titan's 5 s.
    expect(gateLog).toMatch(/\[HITL\] Still waiting\.\.\. \(status: WAITING, 17279\d+s remaining\)/);
    expect(gateLog.trimEnd().endsWith('[HITL] hitl-gate-prepare APPROVED')).toBe(true);
  });

  it('a rejected gate ends DEAD and its child reads CANCELLED', async () => {
    const out = await driver<Record<string, string>>(
      String.raw`import json, sys, time
from titan_v1_client import *
d = sys.argv[1]
resp = submit_dag([Job("publish", d + "/step.py", args="publish", hitl_message="Publish?"),
                   Job("announce", d + "/step.py", args="announce", parents=["publish"])])
deadline = time.time() + 20
while time.time() < deadline and store_get("titan:hitl:status:hitl-gate-publish") != "WAITING":
    time.sleep(0.1)
rejected = store_put("titan:hitl:status:hitl-gate-publish", "REJECTED")
gate = wait_for_status("DAG-hitl-gate-publish", timeout=20)
print(json.dumps({"resp": resp, "rejected": rejected, "gate": gate, "announce": wait_for_status("DAG-announce", timeout=10),
                  "publish": get_job_status("DAG-publish"), "key": store_get("titan:hitl:status:hitl-gate-publish"), "announce_log": fetch_logs("DAG-announce")}))
`,
      tmp.path,
    );
    expect(out).toEqual({ resp: 'DAG_ACCEPTED', rejected: 'OK', gate: 'DEAD', announce: 'CANCELLED', publish: 'COMPLETED', key: 'REJECTED', announce_log: '' });
  });

  it('CANCEL_JOB on a running root cancels it and every descendant', async () => {
    const pidFile = tmp.file('root.pid');
    tmp.write('hold.py', 'import os, sys, time\nopen(sys.argv[1], "w").write(str(os.getpid()))\nprint("holding", flush=True)\ntime.sleep(120)\n');
    const submitted = await driver<{ resp: string; root: string; others: string[] }>(
      String.raw`import json, sys
from titan_v1_client import *
d, pid_file = sys.argv[1], sys.argv[2]
resp = submit_dag([Job("c-root", d + "/hold.py", args=pid_file),
                   Job("c-mid", d + "/step.py", args="mid", parents=["c-root"]),
                   Job("c-leaf", d + "/step.py", args="leaf", parents=["c-mid"]),
                   Job("c-side", d + "/step.py", args="side", parents=["c-root"])])
root = wait_for_status("DAG-c-root", wanted=("RUNNING",), timeout=20)
print(json.dumps({"resp": resp, "root": root, "others": [get_job_status("DAG-" + j) for j in ("c-mid", "c-leaf", "c-side")]}))
`,
      tmp.path,
      pidFile,
    );
    expect(submitted).toEqual({ resp: 'DAG_ACCEPTED', root: 'RUNNING', others: ['PENDING', 'PENDING', 'PENDING'] });
    const rootPid = await readPid(pidFile);
    jobPids.push(rootPid);
    const out = await driver<{ cancel: [number, string]; statuses: string[]; again: [number, string]; child: [number, string] }>(String.raw`import json
from titan_v1_client import *
cancel = request(OP_CANCEL_JOB, "DAG-c-root")
statuses = [get_job_status("DAG-" + j) for j in ("c-root", "c-mid", "c-leaf", "c-side")]
print(json.dumps({"cancel": cancel, "statuses": statuses, "again": request(OP_CANCEL_JOB, "DAG-c-root"), "child": request(OP_CANCEL_JOB, "DAG-c-leaf")}))
`);
    expect(out.cancel).toEqual([0x50, 'CANCELLED']);
    expect(out.statuses).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(out.again).toEqual([0x51, 'NOT_FOUND']);
    expect(out.child).toEqual([0x51, 'NOT_FOUND']);
    expect(await waitUntil(() => isGone(rootPid), 10_000)).toBe(true);
  });

  it('a master without --legacy-v1 answers v1 with an ERROR naming the flag', async () => {
    const plain = new Cluster();
    try {
      await plain.startMaster();
      const r = await python(['-c', 'import json\nfrom titan_v1_client import *\nprint(json.dumps(request(OP_KV_GET, "k")))'], { TITAN_HOST: '127.0.0.1', TITAN_PORT: String(plain.port) });
      expect(r.code, r.stderr).toBe(0);
      const [op, text] = JSON.parse(r.stdout) as [number, string];
      expect(op).toBe(0x51);
      expect(text).toMatch(/^ERROR: /);
      expect(text).toContain('--legacy-v1');
    } finally {
      await plain.stop();
    }
  });

  it('titan master refuses --legacy-v1-allow without --legacy-v1, and a bad CIDR (exit 2)', async () => {
    const run = async (flags: string[]): Promise<{ code: number | null; output: string }> => {
      const proc = launch(['master', '--data-dir', join(tmp.path, 'refused'), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', 'x', ...flags]);
      const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, output: proc.output() };
    };
    const alone = await run(['--legacy-v1-allow', '10.0.0.0/8']);
    expect(alone.code, alone.output).toBe(2);
    expect(alone.output).toContain('--legacy-v1-allow needs --legacy-v1');
    for (const bad of ['not-a-cidr', '10.0.0.0/33', '10.0.0.0/abc']) {
      const r = await run(['--legacy-v1', '--legacy-v1-allow', bad]);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(`"${bad}" is not an IP address or CIDR block`);
    }
  });

  it('titan master warns loudly when --legacy-v1-allow reaches beyond private networks, and not for private ones', async () => {
    const start = async (allow: string[]): Promise<string> => {
      const proc = launch(['master', '--data-dir', join(tmp.path, `allow-${allow.length}`), '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--token', 'x', '--legacy-v1', '--legacy-v1-allow', ...allow]);
      try {
        await waitForOutput(proc, /listening on/, 20_000);
        return proc.output();
      } finally {
        await kill(proc, 'SIGKILL');
      }
    };
    const wide = await start(['10.0.0.0/8', '0.0.0.0/0', '8.8.8.0/24', '::/0']);
    expect(wide).toMatch(/WARNING: --legacy-v1-allow 0\.0\.0\.0\/0, 8\.8\.8\.0\/24, ::\/0 reaches beyond private networks\. Titan's v1 protocol has no token/);
    const narrow = await start(['10.1.0.0/16', '192.168.1.7', 'fd00::/8', '172.16.0.0/12']);
    expect(narrow).not.toContain('WARNING');
  });
});

interface StatsJson {
  active_workers: number;
  queue_size: number;
  workers: {
    port: number;
    capabilities: string;
    load: string;
    active_job: string | null;
    history: { id: string; status: string; time: string; completed_at?: number }[];
    services: string[];
  }[];
}
