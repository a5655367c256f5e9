/**
 * What the MCP tools return: compact JSON views of jobs and runs (a model reads them, so only
 * what helps decide the next step, with times as ISO strings), and the tail of a log.
 */
import type { KvKeyInfo } from '../core/data.js';
import type { AttemptRecord, GateDecision, RunRecord } from '../core/model.js';
import type { GateView, JobView, RunSummary, RunView, WorkerView } from '../protocol/methods.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function jobView(j: JobView): Record<string, unknown> {
  return {
    ref: j.ref,
    kind: j.spec.kind,
    status: j.status,
    ...(j.spec.script && { script: j.spec.script.name, args: j.spec.args }),
    ...(j.spec.kind === 'approval' && { message: j.spec.message ?? null }),
    dependsOn: j.spec.dependsOn,
    requirement: j.spec.requirement,
    attempt: j.attempt,
    workerId: j.workerId,
    exitCode: j.exitCode,
    error: j.error,
    createdAt: iso(j.createdAt),
    startedAt: iso(j.startedAt),
    finishedAt: iso(j.finishedAt),
    ...(j.service && { service: { port: j.service.port, up: j.service.readyAt !== null, upSince: iso(j.service.readyAt), restarts: j.service.restarts } }),
  };
}

export function attemptView(a: AttemptRecord): Record<string, unknown> {
  return { attempt: a.attempt, workerId: a.workerId, startedAt: iso(a.startedAt), finishedAt: iso(a.finishedAt), outcome: a.outcome ?? 'RUNNING', exitCode: a.exitCode, error: a.error };
}

export function runRecordView(r: RunRecord): Record<string, unknown> {
  return { runId: r.runId, name: r.name, status: r.status, agentRunId: r.agentRunId, createdAt: iso(r.createdAt), finishedAt: iso(r.finishedAt) };
}

export function runSummaryView(r: RunSummary): Record<string, unknown> {
  return { ...runRecordView(r), jobs: r.total, counts: r.counts };
}

export function runView(v: RunView): Record<string, unknown> {
  return { ...runRecordView(v.run), jobs: v.jobs.map(jobView) };
}

export function gateView(g: GateView): Record<string, unknown> {
  return { ref: g.ref, runName: g.runName, message: g.message, style: g.style, openedAt: iso(g.openedAt), deadline: iso(g.deadline) };
}

export function decisionView(d: GateDecision): Record<string, unknown> {
  return { ref: `${d.runId}/${d.jobId}`, decision: d.approved ? 'approved' : 'rejected', by: d.by, comment: d.comment, at: iso(d.at), reason: d.reason };
}

export function workerView(w: WorkerView): Record<string, unknown> {
  return {
    id: w.id,
    state: w.state,
    ...(w.exiting && { exiting: true }),
    capabilities: w.capabilities,
    slots: w.slots,
    running: w.running,
    permanent: w.permanent,
    attempts: w.attempts,
    services: w.services,
    version: w.version ?? null,
    connectedAt: iso(w.connectedAt),
    lastSeen: iso(w.lastSeen),
  };
}

export function keyView(k: KvKeyInfo): Record<string, unknown> {
  return { key: k.key, type: k.type, version: k.version, expiresAt: iso(k.expiresAt) };
}

/** The last `lines` lines and at most `maxBytes` bytes of `text`, with a note of what was left out. */
export function tail(text: string, lines: number, maxBytes: number): { text: string; omittedLines: number; omittedBytes: number } {
  const all = text.split('\n');
  // A trailing newline ends the last line; it does not start another.
  const trailing = all.length > 1 && all[all.length - 1] === '' ? all.pop() !== undefined : false;
  let kept = all.slice(-lines).join('\n') + (trailing ? '\n' : '');
  let omittedBytes = 0;
  const bytes = Buffer.byteLength(kept);
  if (bytes > maxBytes) {
    const buf = Buffer.from(kept);
    let start = buf.length - maxBytes;
    // Do not start inside a UTF-8 sequence.
    while (start < buf.length && ((buf[start] as number) & 0xc0) === 0x80) start++;
    omittedBytes = start;
    kept = buf.subarray(start).toString();
  }
  return { text: kept, omittedLines: Math.max(0, all.length - lines), omittedBytes };
}
