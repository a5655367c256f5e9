/**
 * Titan's v1 requests, translated into the same master calls the v2 sessions make (no second
 * engine), answered with Titan's exact reply strings. Where Titan's answer was a defect (a
 * rejected DAG reported as accepted, SADD always 0, cancelled children left PENDING) the answer
 * is the correct one in Titan's words.
 */
import { randomUUID } from 'node:crypto';
import { DATA_LIMITS } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import { DEFAULT_CAPABILITY, IdSchema, type JobSpecInput, parseJobRef, RunSpecSchema } from '../core/model.js';
import type { Master, RunOrigin } from '../master/master.js';
import { FileArea } from '../master/file-area.js';
import { dataParams } from '../protocol/data-methods.js';
import { describeIssues } from '../protocol/peer.js';
import { ack, fail, titanStatsJson, titanStatsText, titanStatus, unknownOpcode, V1_OP, type TitanStatsInput, type V1Reply } from '../protocol/v1.js';
import { parseV1Dag, parseV1Job, V1DagError, type V1Job } from '../protocol/v1-dag.js';

/** The most log text one reply carries (the tail is kept); well inside the 10 MiB frame. */
const MAX_LOG_REPLY_BYTES = 8 * 1024 * 1024;

/** Titan's clients split at the first `|`: the key may not contain one, the value may. */
function splitFirst(payload: string): [string, string] | null {
  const i = payload.indexOf('|');
  return i < 0 ? null : [payload.slice(0, i), payload.slice(i + 1)];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: string): Buffer | null {
  const t = text.trim();
  return t.length % 4 === 0 && BASE64.test(t) ? Buffer.from(t, 'base64') : null;
}

const newTaskId = (): string => `TSK-${randomUUID()}`;

/** A failure in Titan's words: `ERROR: <what was wrong>`. */
function errorText(err: unknown): string {
  if (err instanceof V1DagError) return `ERROR: ${err.message}`;
  if (err instanceof TitanError && err.code === 'INVALID_DAG') return `ERROR: DAG rejected: ${err.message}`;
  return `ERROR: ${(err as Error).message}`;
}

/** Resolves a v1 job's script: inline content becomes a blob; an archive pointer names an upload. */
function toSpec(master: Master, j: V1Job): JobSpecInput {
  const spec: JobSpecInput = {
    id: j.id,
    args: j.args,
    dependsOn: j.dependsOn,
    requirement: j.requirement,
    priority: j.priority,
    delayMs: j.delayMs,
    affinity: j.affinity ? 'soft' : 'none',
  };
  if (j.kind === 'service') {
    // Port 0 means "no port": one is assigned, and nothing is probed.
    spec.kind = 'service';
    spec.service = j.port === null ? { readiness: 'none' } : { port: j.port, readiness: 'tcp' };
  }
  // Titan's gate script exits 1 on a rejection or a timeout: that decision is final, not a failure to retry.
  if (j.source.type === 'inline' && j.source.fileName === 'hitl_gate.py') spec.retries = 0;
  if (j.source.type === 'inline') {
    spec.script = { name: j.source.fileName, sha256: master.blobs.putBuffer(Buffer.from(j.source.base64, 'base64')) };
  } else {
    const zip = master.uploads.get(j.source.zip);
    if (!zip) throw new TitanError('BAD_REQUEST', `Asset not found: ${j.source.zip} (Did you upload it to uploads?)`);
    spec.archive = { name: j.source.zip, sha256: master.blobs.putBuffer(zip), entry: j.source.entry };
  }
  return spec;
}

async function submitSpecs(master: Master, name: string, jobs: JobSpecInput[], origin: RunOrigin = {}): Promise<{ runId: string; jobs: string[] }> {
  const run = RunSpecSchema.safeParse({ name, jobs });
  if (!run.success) throw new TitanError('BAD_REQUEST', describeIssues(run.error.issues));
  return master.submit(run.data, origin);
}

/** A DAG in Titan's line format submitted as one run (v1 SUBMIT_DAG, and v2 `dag.submit`). */
export function submitV1Dag(master: Master, payload: string, origin: RunOrigin = {}): Promise<{ runId: string; jobs: string[] }> {
  let jobs: V1Job[];
  try {
    jobs = parseV1Dag(payload);
  } catch (err) {
    throw err instanceof V1DagError ? new TitanError('INVALID_DAG', err.message) : err;
  }
  return submitSpecs(master, `v1:${jobs[0]?.id ?? 'dag'}`, jobs.map((j) => toSpec(master, j)), origin);
}

export function v1Handler(master: Master): (opcode: number, payload: string) => Promise<V1Reply> {
  /** A job from the script library, run once or kept up as a service. */
  const fromRegistry = async (name: string, requirement: string, service: { port: number | null } | null): Promise<string | null> => {
    const content = master.registry.get(name);
    if (!content) return null;
    const id = newTaskId();
    const spec: JobSpecInput = { id, script: { name, sha256: master.blobs.putBuffer(content) }, requirement };
    if (service) {
      spec.kind = 'service';
      spec.service = service.port === null ? { readiness: 'none' } : { port: service.port, readiness: 'tcp' };
    }
    await submitSpecs(master, name, [spec]);
    return id;
  };

  const kvKey = (key: string): string => {
    const parsed = dataParams['kv.get'].safeParse({ key });
    if (!parsed.success) throw new TitanError('BAD_REQUEST', `invalid key: ${describeIssues(parsed.error.issues)}`);
    return parsed.data.key;
  };

  const stats = (): TitanStatsInput => {
    const counts = master.waitingCounts();
    return {
      workers: master.listWorkers(),
      history: (id) => master.workerHistory(id),
      queued: counts.queued,
      delayed: counts.delayed,
      blocked: counts.blocked,
      dead: master.stats().totals.dead,
    };
  };

  /** Every attempt's output in order (Titan appended retries to one log), the tail when too long. */
  const logText = async (ref: string): Promise<string> => {
    const { job } = await master.getJob(ref);
    const parts: string[] = [];
    let room = MAX_LOG_REPLY_BYTES;
    for (let attempt = Math.max(1, job.attempt); attempt >= 1 && room > 0; attempt--) {
      const { size } = master.logs.read(job.runId, job.spec.id, attempt, 0, 0);
      const start = Math.max(0, size - room);
      parts.unshift(master.logs.read(job.runId, job.spec.id, attempt, start, room).data);
      room -= size - start;
    }
    return parts.join('');
  };

  const handlers: Record<number, (payload: string) => Promise<V1Reply>> = {
    [V1_OP.SUBMIT_DAG]: async (payload) => {
      await submitV1Dag(master, payload);
      return ack('DAG_ACCEPTED');
    },
    [V1_OP.SUBMIT_JOB]: async (payload) => {
      const job = parseV1Job(payload);
      const spec = toSpec(master, { ...job, id: job.id === '' ? newTaskId() : job.id });
      await submitSpecs(master, `v1:${spec.id}`, [spec]);
      return ack('JOB_ACCEPTED');
    },
    [V1_OP.RUN]: async (payload) => {
      const [name = '', requirement = DEFAULT_CAPABILITY] = payload.trim().split('|');
      if (name === '') return fail('ERROR: Missing filename');
      const req = requirement === '' ? DEFAULT_CAPABILITY : requirement;
      const id = await fromRegistry(name, req, null);
      return id === null ? fail('ERROR: File not found recursively in perm_files') : ack(`JOB_QUEUED ${id} on ${req}`);
    },
    [V1_OP.DEPLOY]: async (payload) => {
      const [name = '', portText = '', requirement = ''] = payload.trim().split('|');
      if (name === '') return fail('ERROR: Missing filename');
      if (name.toLowerCase() === 'worker.jar') return fail('ERROR: Worker.jar is not deployed here: start workers with titan worker (the autoscaler starts them itself)');
      const port = /^\d+$/.test(portText) && Number(portText) > 0 && Number(portText) <= 65535 ? Number(portText) : null;
      if (portText !== '' && portText !== '0' && port === null) return fail(`ERROR: Invalid Port Format: ${portText}`);
      const id = await fromRegistry(name, requirement === '' ? DEFAULT_CAPABILITY : requirement, { port });
      return id === null ? fail('ERROR: File not found in perm_files') : ack('DEPLOY_QUEUED');
    },
    [V1_OP.STOP]: async (payload) => {
      const id = payload.trim();
      if (id === '') return fail('ERROR: Missing Service ID');
      try {
        await master.stopService(id);
        return ack(`STOPPED: ${id}`);
      } catch (err) {
        if (err instanceof TitanError && err.code === 'CONFLICT') return fail(`UNKNOWN_SERVICE: ${id}`);
        if (err instanceof TitanError && (err.code === 'NOT_FOUND' || err.code === 'BAD_REQUEST')) return fail(`ERROR: Service ${id} not found.`);
        throw err;
      }
    },
    [V1_OP.STATS]: async () => ack(titanStatsText(stats())),
    [V1_OP.STATS_JSON]: async () => ack(titanStatsJson(stats())),
    [V1_OP.CLEAN_STATS]: async () => {
      master.clearHistory();
      return ack('Stats Map Cleared. Run STATS again to see fresh state.');
    },
    [V1_OP.KILL_WORKER]: async (payload) => {
      const parts = payload.trim().split('|');
      if (parts.length !== 2) return fail('ERROR: Payload must be HOST|PORT');
      const [host = '', portText = ''] = parts;
      const port = Number(portText);
      if (!/^\d+$/.test(portText) || port > 65535) return fail('ERROR: Invalid Port Format');
      const worker = master.listWorkers().find((w) => w.port === port && sameHost(w.host, host));
      if (!worker) return fail(`ERROR: Worker node ${port} not found in registry.`);
      if (worker.permanent) return fail(`ERROR: Cannot auto-shutdown PERMANENT worker ${host}:${port}`);
      const services = worker.services.length;
      master.requestShutdown(worker.id, false);
      return ack(`SUCCESS: Worker ${port} and ${services} services shut down.`);
    },
    [V1_OP.GET_LOGS]: async (payload) => {
      if (payload.trim() === '') return ack('');
      const ref = parseJobRef(payload.trim());
      if (!IdSchema.safeParse(ref.jobId).success || (ref.runId !== null && !IdSchema.safeParse(ref.runId).success)) return fail(`ERROR: invalid job id "${payload.trim().slice(0, 80)}"`);
      try {
        return ack(await logText(payload.trim()));
      } catch (err) {
        if (err instanceof TitanError && err.code === 'NOT_FOUND') return ack('');
        throw err;
      }
    },
    [V1_OP.UPLOAD_ASSET]: async (payload) => {
      const parts = splitFirst(payload);
      if (!parts) return fail('ERROR: Invalid Upload Payload');
      const [name, b64] = parts;
      if (!FileArea.valid(name)) return fail('ERROR: Invalid asset name (path traversal rejected)');
      const data = decodeBase64(b64);
      if (!data) return fail('UPLOAD_FAILED: the content is not valid base64');
      try {
        master.uploads.put(name, data);
      } catch (err) {
        return fail(`UPLOAD_FAILED: ${(err as Error).message}`);
      }
      return ack('UPLOAD_SUCCESS');
    },
    [V1_OP.FETCH_ASSET]: async (payload) => {
      const name = payload.trim();
      if (!FileArea.valid(name)) return fail('ERROR: Invalid asset name (path traversal rejected)');
      try {
        const data = master.uploads.get(name);
        return data ? ack(data.toString('base64')) : fail('ERROR_NOT_FOUND');
      } catch (err) {
        return fail(`ERROR_READING_FILE: ${(err as Error).message}`);
      }
    },
    [V1_OP.GET_JOB_STATUS]: async (payload) => {
      try {
        return ack(titanStatus((await master.getJob(payload.trim())).job.status));
      } catch (err) {
        if (err instanceof TitanError && err.code === 'NOT_FOUND') return ack('NULL');
        throw err;
      }
    },
    [V1_OP.CANCEL_JOB]: async (payload) => {
      try {
        await master.cancelJob(payload.trim());
        return ack('CANCELLED');
      } catch (err) {
        if (err instanceof TitanError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) return fail('NOT_FOUND');
        throw err;
      }
    },
    [V1_OP.DEPLOY_SCRIPT]: async (payload) => {
      const parts = splitFirst(payload);
      if (!parts) return fail('ERROR: Invalid Deploy Payload');
      const [name, b64] = parts;
      if (!FileArea.valid(name)) return fail('ERROR: Invalid script name (path traversal rejected)');
      const data = decodeBase64(b64);
      if (!data) return fail('DEPLOY_FAILED: the content is not valid base64');
      try {
        master.registry.put(name, data);
      } catch (err) {
        return fail(`DEPLOY_FAILED: ${(err as Error).message}`);
      }
      return ack('DEPLOY_SUCCESS');
    },
    [V1_OP.KV_SET]: async (payload) => {
      const parts = splitFirst(payload);
      if (!parts) return fail('ERROR: Invalid Format');
      const [key, value] = parts;
      if (Buffer.byteLength(value) > DATA_LIMITS.maxValueBytes) return fail(`ERROR: a value is limited to ${DATA_LIMITS.maxValueBytes} bytes`);
      await master.kv.set(kvKey(key), value, null);
      return ack('OK');
    },
    [V1_OP.KV_GET]: async (payload) => ack((await master.kv.get(kvKey(payload))).value ?? 'NULL'),
    [V1_OP.KV_SADD]: async (payload) => {
      const parts = splitFirst(payload);
      if (!parts) return fail('ERROR: Invalid Format');
      const [key, member] = parts;
      if (Buffer.byteLength(member) > DATA_LIMITS.maxMemberBytes) return fail(`ERROR: a set member is limited to ${DATA_LIMITS.maxMemberBytes} bytes`);
      return ack(String((await master.kv.sadd(kvKey(key), [member])).added));
    },
    [V1_OP.KV_SMEMBERS]: async (payload) => ack((await master.kv.smembers(kvKey(payload))).members.join(',')),
  };

  return async (opcode, payload) => {
    const handle = handlers[opcode];
    if (!handle) return unknownOpcode(opcode);
    try {
      return await handle(payload);
    } catch (err) {
      return fail(errorText(err));
    }
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** Titan matched hosts exactly, so `localhost` missed `127.0.0.1`; loopback spellings are one host here. */
function sameHost(a: string, b: string): boolean {
  return a === b || (LOOPBACK.has(a.toLowerCase()) && LOOPBACK.has(b.toLowerCase()));
}
