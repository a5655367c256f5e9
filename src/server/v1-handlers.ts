/**
 * Titan's v1 requests, performed by the command table's handlers where a v2 method does the same
 * (protocol/v1.ts, V1_METHOD), else by the same master calls (no second engine), and answered
 * with Titan's exact reply strings. Where Titan's answer was a defect (a
 * rejected DAG reported as accepted, SADD always 0, cancelled children left PENDING) the answer
 * is the correct one in Titan's words.
 */
import { randomUUID } from 'node:crypto';
import { DATA_LIMITS } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import { DEFAULT_CAPABILITY, IdSchema, type JobSpecInput, parseJobRef } from '../core/model.js';
import { FileArea } from '../master/file-area.js';
import { dataBusParams } from '../protocol/data-bus-methods.js';
import { describeIssues } from '../protocol/peer.js';
import { ack, fail, titanStatsJson, titanStatsText, titanStatus, unknownOpcode, V1_OP, type TitanStatsInput, type V1Reply } from '../protocol/v1.js';
import { parseV1Job, V1DagError } from '../protocol/v1-dag.js';
import type { CommandContext, ParamsOf, ResultOf } from './commands/command.js';
import { submitTitanJobs, titanJobSpec } from './commands/submissions.js';
import { type CallMethod, handleCall } from './commands/table.js';

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

/** The commands of one v1 connection, whose caller `ctx` names (v1 carries no token). */
export function v1Handler(ctx: CommandContext): (opcode: number, payload: string) => Promise<V1Reply> {
  const { master } = ctx;
  /** What a command performs for a v2 client; the command checked its parameters in Titan's terms. */
  const handle = <M extends CallMethod>(method: M, p: ParamsOf<M>): Promise<ResultOf<M>> => handleCall(method, ctx, p);
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
    await submitTitanJobs(ctx, name, [spec]);
    return id;
  };

  const kvKey = (key: string): string => {
    const parsed = dataBusParams['kv.get'].safeParse({ key });
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
      await handle('dag.submit', { payload });
      return ack('DAG_ACCEPTED');
    },
    [V1_OP.SUBMIT_JOB]: async (payload) => {
      const job = parseV1Job(payload);
      const spec = titanJobSpec(ctx, { ...job, id: job.id === '' ? newTaskId() : job.id });
      await submitTitanJobs(ctx, `v1:${spec.id}`, [spec]);
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
        await handle('service.stop', { ref: id });
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
      await handle('worker.shutdown', { id: worker.id, force: false });
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
        return ack(titanStatus((await handle('job.get', { ref: payload.trim() })).job.status));
      } catch (err) {
        if (err instanceof TitanError && err.code === 'NOT_FOUND') return ack('NULL');
        throw err;
      }
    },
    [V1_OP.CANCEL_JOB]: async (payload) => {
      try {
        await handle('job.cancel', { ref: payload.trim() });
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
      await handle('kv.set', { key: kvKey(key), value });
      return ack('OK');
    },
    [V1_OP.KV_GET]: async (payload) => ack((await handle('kv.get', { key: kvKey(payload) })).value ?? 'NULL'),
    [V1_OP.KV_SADD]: async (payload) => {
      const parts = splitFirst(payload);
      if (!parts) return fail('ERROR: Invalid Format');
      const [key, member] = parts;
      if (Buffer.byteLength(member) > DATA_LIMITS.maxMemberBytes) return fail(`ERROR: a set member is limited to ${DATA_LIMITS.maxMemberBytes} bytes`);
      return ack(String((await handle('kv.sadd', { key: kvKey(key), members: [member] })).added));
    },
    [V1_OP.KV_SMEMBERS]: async (payload) => ack((await handle('kv.smembers', { key: kvKey(payload) })).members.join(',')),
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
