import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, type JobStatus } from '../core/model.js';
import type { WorkerView } from './methods.js';
import { ack, type FinishedEntry, fail, titanJobId, titanStatsJson, titanStatsText, titanStatus, type TitanStatsInput, unknownOpcode, V1_ACK, V1_ERROR, V1_OP } from './v1.js';

const worker = (over: Partial<WorkerView> = {}): WorkerView => ({
  id: '127.0.0.1:8080',
  host: '127.0.0.1',
  port: 8080,
  capabilities: ['GENERAL'],
  slots: 4,
  permanent: false,
  state: 'connected',
  exiting: false,
  running: 0,
  connectedAt: 0,
  lastSeen: 0,
  attempts: [],
  services: [],
  ...over,
});

const input = (over: Partial<TitanStatsInput> = {}): TitanStatsInput => ({
  workers: [],
  history: () => [],
  queued: 0,
  delayed: 0,
  blocked: 0,
  dead: 0,
  ...over,
});

const finished = (jobId: string, status: JobStatus, startedAt: number, finishedAt: number): FinishedEntry => ({ jobId, status, startedAt, finishedAt });

describe('opcodes and replies', () => {
  it("uses Titan's opcode values (reference section 3)", () => {
    expect(V1_OP).toEqual({
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
    });
    expect([V1_ACK, V1_ERROR]).toEqual([0x50, 0x51]);
  });

  it('builds success and failure replies', () => {
    expect(ack('OK')).toEqual({ ok: true, text: 'OK' });
    expect(fail('NOT_FOUND')).toEqual({ ok: false, text: 'NOT_FOUND' });
  });

  it('renders an unknown opcode as a signed byte, as an ERROR', () => {
    expect(unknownOpcode(0x01)).toEqual({ ok: false, text: 'UNKNOWN_OPCODE: 1' });
    expect(unknownOpcode(0x00).text).toBe('UNKNOWN_OPCODE: 0');
    expect(unknownOpcode(0x50).text).toBe('UNKNOWN_OPCODE: 80');
    expect(unknownOpcode(0x7f).text).toBe('UNKNOWN_OPCODE: 127');
    expect(unknownOpcode(0x80).text).toBe('UNKNOWN_OPCODE: -128');
    expect(unknownOpcode(0x90).text).toBe('UNKNOWN_OPCODE: -112');
    expect(unknownOpcode(0xff).text).toBe('UNKNOWN_OPCODE: -1');
    for (let op = 0; op < 256; op++) {
      const reply = unknownOpcode(op);
      expect(reply.ok).toBe(false);
      expect(Number(reply.text.slice('UNKNOWN_OPCODE: '.length))).toBe(op < 128 ? op : op - 256);
    }
  });
});

describe('titanStatus', () => {
  it("maps every JobStatus onto Titan's vocabulary", () => {
    const mapped = Object.fromEntries(JOB_STATUSES.map((s) => [s, titanStatus(s)]));
    expect(mapped).toEqual({
      PENDING: 'PENDING',
      QUEUED: 'PENDING',
      RUNNING: 'RUNNING',
      COMPLETED: 'COMPLETED',
      // A failed attempt that will retry: several clients treat FAILED as final.
      FAILED: 'PENDING',
      DEAD: 'DEAD',
      CANCELLED: 'CANCELLED',
      // Skipped because an upstream job ended: terminal, where Titan left such jobs PENDING.
      SKIPPED: 'CANCELLED',
      WAITING_APPROVAL: 'PENDING',
    });
  });

  it('never answers a value outside the reference list (NULL is for unknown ids)', () => {
    for (const s of JOB_STATUSES) expect(['PENDING', 'RUNNING', 'COMPLETED', 'DEAD', 'CANCELLED']).toContain(titanStatus(s));
  });
});

describe('titanJobId', () => {
  it('prefixes DAG- except on the TSK- ids of single runs and deploys', () => {
    expect(titanJobId('train')).toBe('DAG-train');
    expect(titanJobId('hitl-gate-prep')).toBe('DAG-hitl-gate-prep');
    expect(titanJobId('TSK-2f6eff3c-b368-4267-8445-67552e51c193')).toBe('TSK-2f6eff3c-b368-4267-8445-67552e51c193');
    // A job whose own id starts with DAG- (v2 can name one so) keeps it: DAG-<id> still finds it.
    expect(titanJobId('DAG-x')).toBe('DAG-DAG-x');
    expect(titanJobId('tsk-lower')).toBe('DAG-tsk-lower');
  });
});

describe('titanStatsJson', () => {
  it("has Titan's field names and types", () => {
    const w = worker({ capabilities: ['GENERAL', 'GPU'], running: 2, attempts: ['r1/train', 'r1/eval'], services: [{ ref: 'r2/web', port: 9000 }] });
    const history = [finished('old', 'COMPLETED', 1000, 2431), finished('TSK-1', 'DEAD', 3000, 3010), finished('newest', 'SKIPPED', 5000, 5000)];
    const parsed = JSON.parse(titanStatsJson(input({ workers: [w], history: (id) => (id === w.id ? history : []), queued: 3 }))) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(['active_workers', 'queue_size', 'workers']);
    expect(parsed.active_workers).toBe(1);
    expect(parsed.queue_size).toBe(3);
    expect(parsed.workers).toEqual([
      {
        port: 8080,
        capabilities: '[GENERAL, GPU]',
        load: '2/4',
        active_job: 'DAG-train',
        history: [
          // At most one leading running entry, then the finished ones newest first.
          { id: 'DAG-train', status: 'RUNNING', time: 'N/A' },
          { id: 'DAG-newest', status: 'CANCELLED', time: '0ms', completed_at: 5000 },
          { id: 'TSK-1', status: 'DEAD', time: '10ms', completed_at: 3010 },
          { id: 'DAG-old', status: 'COMPLETED', time: '1431ms', completed_at: 2431 },
        ],
        services: ['DAG-web'],
        id: '127.0.0.1:8080',
        host: '127.0.0.1',
      },
    ]);
  });

  it('an idle worker has active_job null and an empty history; no workers is an empty list', () => {
    expect(JSON.parse(titanStatsJson(input()))).toEqual({ active_workers: 0, queue_size: 0, workers: [] });
    const parsed = JSON.parse(titanStatsJson(input({ workers: [worker(), worker({ id: 'h2:8081', host: 'h2', port: 8081 })] }))) as { active_workers: number; workers: Record<string, unknown>[] };
    expect(parsed.active_workers).toBe(2);
    for (const w of parsed.workers) {
      expect(w.active_job).toBeNull();
      expect(w.history).toEqual([]);
      expect(w.services).toEqual([]);
      expect(w.load).toBe('0/4');
      expect(typeof w.port).toBe('number');
      expect(typeof w.capabilities).toBe('string');
    }
  });

  it('keeps FAILED in the history (Titan listed it) and maps SKIPPED to CANCELLED', () => {
    const parsed = JSON.parse(titanStatsJson(input({ workers: [worker()], history: () => [finished('a', 'FAILED', 0, 5), finished('b', 'SKIPPED', 0, 0), finished('c', 'CANCELLED', 0, 1)] }))) as { workers: { history: { status: string }[] }[] };
    expect(parsed.workers[0]?.history.map((h) => h.status)).toEqual(['CANCELLED', 'CANCELLED', 'FAILED']);
  });

  it('stays valid JSON when an id or host holds quotes, backslashes or newlines (Titan concatenated strings)', () => {
    const nasty = 'we"ird\\id\n';
    const w = worker({ attempts: [`r1/${nasty}`], services: [{ ref: `r1/svc"1`, port: null }] });
    const text = titanStatsJson(input({ workers: [w], history: () => [finished('x"y', 'COMPLETED', 0, 1)] }));
    const parsed = JSON.parse(text) as { workers: { active_job: string; history: { id: string }[]; services: string[] }[] };
    expect(parsed.workers[0]?.active_job).toBe(`DAG-${nasty}`);
    expect(parsed.workers[0]?.history.map((h) => h.id)).toEqual([`DAG-${nasty}`, 'DAG-x"y']);
    expect(parsed.workers[0]?.services).toEqual(['DAG-svc"1']);
  });

  it('takes the job id after the first "/" of a reference', () => {
    const parsed = JSON.parse(titanStatsJson(input({ workers: [worker({ attempts: ['run-1/job'], running: 1 })] }))) as { workers: { active_job: string }[] };
    expect(parsed.workers[0]?.active_job).toBe('DAG-job');
  });
});

describe('titanStatsText', () => {
  it('prints the monitor with the no-worker line', () => {
    expect(titanStatsText(input({ queued: 2, delayed: 1, blocked: 3, dead: 4 }))).toBe(
      [
        '',
        '--- TITAN SYSTEM MONITOR ---',
        'Active Workers:    0',
        'Execution Queue:   2 jobs',
        'Delayed (Time):    1 jobs',
        'Blocked (DAG):     3 jobs',
        'Dead Letter (DLQ): 4 jobs',
        '-------------------------------',
        'Worker Status:',
        '[INFO] No workers currently connected.',
        '',
      ].join('\n'),
    );
  });

  it('prints one • line per worker and one └── line per service', () => {
    const text = titanStatsText(
      input({
        workers: [
          worker({ running: 1, services: [{ ref: 'r1/web', port: 9000 }, { ref: 'r2/TSK-abc', port: null }] }),
          worker({ id: 'h2:8081', host: 'h2', port: 8081, capabilities: ['GENERAL', 'GPU'], slots: 3, running: 1 }),
        ],
      }),
    );
    expect(text.startsWith('\n--- TITAN SYSTEM MONITOR ---\nActive Workers:    2\n')).toBe(true);
    expect(text).not.toContain('[INFO] No workers');
    expect(text.endsWith('\n')).toBe(true);
    const tail = text.split('Worker Status:\n')[1];
    expect(tail).toBe(
      [
        ' • [8080] Load: 1/4 (25%)   | Skills: [GENERAL]',
        '    └── [SVC] Service ID: DAG-web',
        '    └── [SVC] Service ID: TSK-abc',
        ' • [8081] Load: 1/3 (33%)   | Skills: [GENERAL, GPU]',
        '',
      ].join('\n'),
    );
  });
});
