/**
 * v2 sessions: HELLO (token, role, versions), then requests: each is checked against the access
 * table (protocol/access.ts) and the caller's reach, then performed through the command table
 * (commands/table.ts), which checks its parameters, so the master only sees typed input.
 */
import { TitanError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import type { Master } from '../master/master.js';
import { type AttemptId, attemptName, HelloSchema, WORKER_METHODS } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import type { Request } from '../protocol/v2.js';
import { workerSession } from './worker-session.js';
import { jobUploads } from './upload-checks.js';
import { derivedRole } from '../protocol/derived-tokens.js';
import { callerName, changesState, type ClientMethod, jobReach, refusal, titanGateRefusal } from '../protocol/access.js';
import type { Principal } from '../protocol/roles.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { CommandContext } from './commands/command.js';
import { SessionState } from './commands/session-state.js';
import { isCommand, perform } from './commands/table.js';

const SERVER_VERSION = VERSION;

/** Unauthenticated connections get this long to say HELLO. */
export const HELLO_TIMEOUT_MS = 10_000;

export function serveV2(peer: Peer, master: Master, gate: Gatekeeper, from: string | undefined): void {
  const timer = setTimeout(() => peer.fail('UNAUTHORIZED', `no HELLO within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS);
  timer.unref();
  peer.onClose(() => clearTimeout(timer));
  peer.onHello = async (payload) => {
    clearTimeout(timer);
    const parsed = HelloSchema.safeParse(payload);
    if (!parsed.success) throw new TitanError('BAD_REQUEST', `malformed HELLO: ${describeIssues(parsed.error.issues)}`);
    const hello = parsed.data;
    if (!hello.versions.includes(2)) throw new TitanError('BAD_REQUEST', `no common protocol version: this server speaks 2, the client offered ${hello.versions.join(', ')}`);
    const workerToken = derivedRole(gate.clusterToken, hello.token)?.role === 'worker';
    const principal = workerToken ? null : gate.authenticate(hello.token);
    if (!workerToken && principal === null) throw new TitanError('UNAUTHORIZED', 'invalid, revoked or expired token: pass the cluster token or a named one (TITAN_TOKEN or --token-file)');
    // A job's token lives as long as its attempt: one left in a log is useless afterwards.
    if (principal?.attempt && !master.attemptRunning(principal.attempt)) throw new TitanError('UNAUTHORIZED', `this job token's attempt ${attemptName(principal.attempt)} is no longer running`);
    if (hello.role === 'worker') {
      if (!workerToken && principal?.kind !== 'cluster') throw new TitanError('UNAUTHORIZED', `${principal ? callerName(principal) : 'this token'} cannot register a worker: use the worker token (titan token --role worker)`);
      return workerSession(peer, master, hello, gate.clusterToken);
    }
    if (principal === null) throw new TitanError('UNAUTHORIZED', 'the worker token only registers workers: clients use the cluster token, a named token or the read token');
    return clientSession(peer, master, gate, principal, from ?? 'unknown');
  };
}

/**
 * The run a call names, and its parameters with a job reference made whole (`runId/jobId`), so
 * that what was checked is what runs: a bare job id could name another run by then.
 */
async function runNamed(master: Master, raw: unknown): Promise<{ runId: string; params: unknown }> {
  const p = (raw ?? {}) as { runId?: unknown; ref?: unknown };
  if (typeof p.runId === 'string') return { runId: p.runId, params: raw };
  if (typeof p.ref !== 'string') throw new TitanError('BAD_REQUEST', 'the call names no run');
  const { runId, ref } = await master.qualifyRef(p.ref);
  return { runId, params: { ...p, ref } };
}

/** A job's token reaches its own run and the runs it submitted (see protocol/access.ts); returns the parameters to use. */
async function checkReach(master: Master, a: AttemptId, method: string, raw: unknown): Promise<unknown> {
  if (!master.attemptRunning(a)) throw new TitanError('UNAUTHORIZED', `this job token's attempt ${attemptName(a)} is no longer running`);
  const reach = jobReach(method);
  if (reach === 'run') {
    const { runId: target, params: checked } = await runNamed(master, raw);
    if (!(await master.withinReach(a.runId, target))) throw new TitanError('FORBIDDEN', `${method}: run ${target} is neither this job's run (${a.runId}) nor one it submitted`);
    return checked;
  }
  if (reach === 'agent') {
    const wanted = (raw as { agentRunId?: unknown } | null)?.agentRunId;
    const own = await master.agentRunOf(a.runId);
    if (own === null || wanted !== own) throw new TitanError('FORBIDDEN', `${method}: a job's token reaches only the agent run of its own run${own === null ? ' (it has none)' : ` (${own})`}`);
  }
  return raw;
}

function clientSession(peer: Peer, master: Master, gate: Gatekeeper, principal: Principal, from: string): { version: number; serverVersion: string } {
  const attempt = principal.attempt;
  const session = new SessionState(peer, master, attempt ? jobUploads(attempt) : undefined);
  const context: CommandContext = { master, gate, principal, origin: attempt ? { startedBy: attempt.runId } : {} };
  // Revoked, removed or expired: cut off at once, even a session that only listens.
  peer.onClose(gate.watch(principal, (reason) => peer.fail('UNAUTHORIZED', reason)));
  if (attempt) {
    const stop = master.onAttemptEnd(attempt, () => peer.fail('UNAUTHORIZED', `this job token's attempt ${attemptName(attempt)} has ended`));
    peer.onClose(stop);
  }
  const handle = (req: Request, method: ClientMethod): Promise<unknown> => perform(method, { ...context, session, requestId: req.id }, req.params);
  // Revocation and expiry need no check here: gate.watch above closes the session the moment they happen.
  const authorized = (req: Request, method: ClientMethod): unknown => {
    const refused = refusal(principal, method) ?? titanGateRefusal(principal, method, req.params);
    if (refused !== null) throw new TitanError('FORBIDDEN', refused);
    if (attempt) return checkReach(master, attempt, method, req.params).then((checked) => handle({ ...req, params: checked }, method));
    return handle(req, method);
  };
  peer.onRequest = (req: Request) => {
    const method = req.method;
    if ((WORKER_METHODS as ReadonlySet<string>).has(method)) throw new TitanError('FORBIDDEN', `${method} is for workers only`);
    if (!isCommand(method)) throw new TitanError('UNKNOWN_METHOD', `unknown method "${method}"`);
    if (!changesState(method)) return authorized(req, method);
    return Promise.resolve()
      .then(() => authorized(req, method))
      .then(
        (result) => {
          gate.record(principal, 'tcp', from, method, req.params, null, result);
          return result;
        },
        (err: unknown) => {
          gate.record(principal, 'tcp', from, method, req.params, err);
          throw err;
        },
      );
  };
  return { version: 2, serverVersion: SERVER_VERSION };
}
