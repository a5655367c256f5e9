/**
 * Titan's v1 dialect: its opcodes, its status vocabulary and its two stats formats, so that
 * Titan's own clients (Python SDK, YAML CLI, dashboard, gate script, Java shell) work unchanged.
 * Pure: the server feeds it views and sends what it returns.
 */
import type { JobStatus } from '../core/model.js';
import type { WorkerView } from './methods.js';

export const V1_OP = {
  SUBMIT_JOB: 0x03,
  SUBMIT_DAG: 0x04,
  DEPLOY: 0x05,
  RUN: 0x06,
  STOP: 0x07,
  STATS: 0x08,
  STATS_JSON: 0x09,
  CLEAN_STATS: 0x0b,
  KILL_WORKER: 0x11,
  GET_LOGS: 0x16,
  UPLOAD_ASSET: 0x53,
  FETCH_ASSET: 0x54,
  GET_JOB_STATUS: 0x55,
  CANCEL_JOB: 0x56,
  DEPLOY_SCRIPT: 0x57,
  KV_SET: 0x60,
  KV_GET: 0x61,
  KV_SADD: 0x62,
  KV_SMEMBERS: 0x63,
} as const;

/** The client method each v1 command performs: its permission and whether it is audited come from access.ts. */
export const V1_METHOD: Record<number, string> = {
  [V1_OP.SUBMIT_JOB]: 'submit',
  [V1_OP.SUBMIT_DAG]: 'dag.submit',
  [V1_OP.DEPLOY]: 'submit',
  [V1_OP.RUN]: 'submit',
  [V1_OP.STOP]: 'service.stop',
  [V1_OP.STATS]: 'stats',
  [V1_OP.STATS_JSON]: 'stats',
  [V1_OP.CLEAN_STATS]: 'stats.clear',
  [V1_OP.KILL_WORKER]: 'worker.shutdown',
  [V1_OP.GET_LOGS]: 'logs.get',
  [V1_OP.UPLOAD_ASSET]: 'files.put',
  [V1_OP.FETCH_ASSET]: 'files.get',
  [V1_OP.GET_JOB_STATUS]: 'job.get',
  [V1_OP.CANCEL_JOB]: 'job.cancel',
  [V1_OP.DEPLOY_SCRIPT]: 'files.put',
  [V1_OP.KV_SET]: 'kv.set',
  [V1_OP.KV_GET]: 'kv.get',
  [V1_OP.KV_SADD]: 'kv.sadd',
  [V1_OP.KV_SMEMBERS]: 'kv.smembers',
};

/** Reply opcodes: every success is ACK, every failure ERROR (Titan sent some failures as ACK). */
export const V1_ACK = 0x50;
export const V1_ERROR = 0x51;

export interface V1Reply {
  ok: boolean;
  text: string;
}

export const ack = (text: string): V1Reply => ({ ok: true, text });
export const fail = (text: string): V1Reply => ({ ok: false, text });

/** Titan prints an unknown opcode as a signed byte: 0x90 is -112. */
export const unknownOpcode = (opcode: number): V1Reply => fail(`UNKNOWN_OPCODE: ${opcode > 127 ? opcode - 256 : opcode}`);

/**
 * The status a v1 client sees. Titan's vocabulary has no QUEUED, FAILED-with-retry, SKIPPED or
 * WAITING_APPROVAL: waiting states read PENDING (several clients treat FAILED as final), and a
 * job skipped because an upstream job ended reads CANCELLED, which is terminal, where Titan left
 * such jobs PENDING forever.
 */
export function titanStatus(status: JobStatus): string {
  switch (status) {
    case 'RUNNING':
    case 'COMPLETED':
    case 'DEAD':
    case 'CANCELLED':
      return status;
    case 'SKIPPED':
      return 'CANCELLED';
    case 'PENDING':
    case 'QUEUED':
    case 'FAILED':
    case 'WAITING_APPROVAL':
      return 'PENDING';
  }
}

/**
 * How Titan names a job in its stats: `DAG-<id>`, the spelling its clients query with, except
 * the `TSK-` ids of single runs and deploys, which Titan never prefixed.
 */
export const titanJobId = (jobId: string): string => (jobId.startsWith('TSK-') ? jobId : `DAG-${jobId}`);

export interface FinishedEntry {
  jobId: string;
  status: JobStatus;
  startedAt: number;
  finishedAt: number;
}

export interface TitanStatsInput {
  workers: readonly WorkerView[];
  /** Per worker id: its latest finished attempts, oldest first. */
  history: (workerId: string) => readonly FinishedEntry[];
  queued: number;
  /** Jobs waiting for a delay or a retry backoff. */
  delayed: number;
  /** Jobs waiting for their parents. */
  blocked: number;
  dead: number;
}

const jobIdOfRef = (ref: string): string => ref.slice(ref.indexOf('/') + 1);

/** `STATS_JSON`: Titan's field names and types (with `id` and `host` added), real JSON encoding. */
export function titanStatsJson(input: TitanStatsInput): string {
  const workers = input.workers.map((w) => {
    const running = w.attempts.map((ref) => ({ id: titanJobId(jobIdOfRef(ref)), status: 'RUNNING', time: 'N/A' }));
    const finished = [...input.history(w.id)]
      .reverse()
      .map((h) => ({ id: titanJobId(h.jobId), status: titanHistoryStatus(h.status), time: `${h.finishedAt - h.startedAt}ms`, completed_at: h.finishedAt }));
    return {
      port: w.port,
      capabilities: `[${w.capabilities.join(', ')}]`,
      load: `${w.running}/${w.slots}`,
      active_job: running[0]?.id ?? null,
      history: [...running.slice(0, 1), ...finished],
      services: w.services.map((s) => titanJobId(jobIdOfRef(s.ref))),
      id: w.id,
      host: w.host,
    };
  });
  return JSON.stringify({ active_workers: input.workers.length, queue_size: input.queued, workers });
}

const titanHistoryStatus = (s: JobStatus): string => (s === 'SKIPPED' ? 'CANCELLED' : s);

/** `STATS`: Titan's monitor text, for people. */
export function titanStatsText(input: TitanStatsInput): string {
  const lines = [
    '',
    '--- TITAN SYSTEM MONITOR ---',
    `Active Workers:    ${input.workers.length}`,
    `Execution Queue:   ${input.queued} jobs`,
    `Delayed (Time):    ${input.delayed} jobs`,
    `Blocked (DAG):     ${input.blocked} jobs`,
    `Dead Letter (DLQ): ${input.dead} jobs`,
    '-------------------------------',
    'Worker Status:',
  ];
  if (input.workers.length === 0) lines.push('[INFO] No workers currently connected.');
  for (const w of input.workers) {
    const pct = Math.round((100 * w.running) / w.slots);
    lines.push(` • [${w.port}] Load: ${w.running}/${w.slots} (${pct}%)   | Skills: [${w.capabilities.join(', ')}]`);
    for (const s of w.services) lines.push(`    └── [SVC] Service ID: ${titanJobId(jobIdOfRef(s.ref))}`);
  }
  return `${lines.join('\n')}\n`;
}
