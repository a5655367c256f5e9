/**
 * v2 sessions: HELLO (token, role, versions), then requests mapped onto the master's methods.
 * Parameters are validated here with the shared schemas, so the master only sees typed input.
 */
import { TitanError } from '../core/errors.js';
import { parseJobRef } from '../core/model.js';
import { VERSION } from '../core/version.js';
import type { Master } from '../master/master.js';
import { isDataMethod } from '../protocol/data-methods.js';
import { isScheduleMethod } from '../protocol/schedule-methods.js';
import { type AttemptId, attemptName, BLOB_CHUNK_BYTES, type FileAreaName, HelloSchema, type JobView, type Method, WORKER_METHODS } from '../protocol/methods.js';
import type { FileArea } from '../master/file-area.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import type { Request } from '../protocol/v2.js';
import { dataHandler } from './handlers-data.js';
import { handleSchedule } from './handlers-schedules.js';
import { submitV1Dag } from './v1-handlers.js';
import { isMethod, parse } from './method-params.js';
import { workerSession } from './worker-session.js';
import { jobUploads } from './upload-checks.js';
import { derivedRole } from '../protocol/derived-tokens.js';
import { callerName, changesState, hideEnv, jobReach, refusal, titanGateRefusal } from '../protocol/access.js';
import type { Principal } from '../protocol/roles.js';
import { isAccessMethod } from '../protocol/access-methods.js';
import type { Gatekeeper } from './gatekeeper.js';
import { handleAccess } from './handlers-access.js';
import { checkRoom, SESSION_LIMITS } from './limits.js';

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
  const subscriptions = new Map<number, () => void>();
  const attempt = principal.attempt;
  const data = attempt ? dataHandler(peer, master, jobUploads(attempt)) : dataHandler(peer, master);
  const origin = attempt ? { startedBy: attempt.runId } : {};
  // Environment values are for those who may run jobs: the others see the variables' names.
  const hidden = !principal.permissions.includes('operate');
  peer.onClose(() => {
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
  });
  // Revoked, removed or expired: cut off at once, even a session that only listens.
  peer.onClose(gate.watch(principal, (reason) => peer.fail('UNAUTHORIZED', reason)));
  if (attempt) {
    const stop = master.onAttemptEnd(attempt, () => peer.fail('UNAUTHORIZED', `this job token's attempt ${attemptName(attempt)} has ended`));
    peer.onClose(stop);
  }
  // Revocation and expiry need no check here: gate.watch above closes the session the moment they happen.
  const authorized = (req: Request, method: Method): unknown => {
    const refused = refusal(principal, method) ?? titanGateRefusal(principal, method, req.params);
    if (refused !== null) throw new TitanError('FORBIDDEN', refused);
    if (attempt) return checkReach(master, attempt, method, req.params).then((checked) => handle({ ...req, params: checked }, method));
    return handle(req, method);
  };
  peer.onRequest = (req: Request) => {
    const method = req.method;
    if (!isMethod(method)) throw new TitanError('UNKNOWN_METHOD', `unknown method "${method}"`);
    if (WORKER_METHODS.has(method)) throw new TitanError('FORBIDDEN', `${method} is for workers only`);
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
  const handle = (req: Request, method: Method): unknown => {
    if (isDataMethod(method)) return data(method, req.params);
    if (isScheduleMethod(method)) return handleSchedule(master, method, req.params);
    if (isAccessMethod(method)) return handleAccess(gate, principal, method, req.params);
    switch (method) {
      case 'submit': {
        const p = parse(method, req.params);
        return master.submit(p.run, { ...origin, ...(p.requestId !== undefined && { requestId: p.requestId }) });
      }
      case 'blob.missing':
        return { missing: parse(method, req.params).hashes.filter((h) => !master.blobs.has(h)) };
      case 'blob.put': {
        const p = parse(method, req.params);
        return master.blobs.put(p.sha256, p.offset, Buffer.from(p.data, 'base64'), p.final);
      }
      case 'run.get':
        return master.getRun(parse(method, req.params).runId).then((view) => (hidden ? { ...view, jobs: view.jobs.map(hideEnv) } : view));
      case 'run.cancel':
        return master.cancelRun(parse(method, req.params).runId).then((cancelled) => ({ cancelled }));
      case 'run.delete':
        return master.deleteRun(parse(method, req.params).runId).then((deleted) => ({ deleted }));
      case 'run.watch': {
        // A subscription is named by the request that opened it (ids are unique per connection).
        const subscription = req.id;
        checkRoom(subscriptions.size, SESSION_LIMITS.subscriptions, 'subscriptions');
        // Held from now, so a burst of requests cannot all pass the check before any is counted.
        subscriptions.set(subscription, () => undefined);
        const p = parse(method, req.params);
        return master
          .watchRun(p.runId, {
            run: (run) => peer.notify('run.update', { subscription, run }),
            ...(p.jobs && { jobs: (jobs: JobView[]) => peer.notify('run.jobs', { subscription, jobs: hidden ? jobs.map(hideEnv) : jobs }) }),
          })
          .then(({ snapshot, stop }) => {
            subscriptions.set(subscription, stop);
            return { subscription, snapshot: hidden ? { ...snapshot, jobs: snapshot.jobs.map(hideEnv) } : snapshot };
          });
      }
      case 'runs.list': {
        const p = parse(method, req.params);
        return master.listRuns(p);
      }
      case 'run.rerun':
        return master.rerun(parse(method, req.params).runId);
      case 'job.retry':
        return master.retryJob(parse(method, req.params).ref).then((job) => ({ job }));
      case 'dag.submit':
        return submitV1Dag(master, parse(method, req.params).payload, origin);
      case 'pipeline.parse': {
        // An invalid pipeline throws a BAD_REQUEST whose message is the positioned one.
        const p = parse(method, req.params);
        return master.pipelines.read(p.text, p.path).then(({ doc }) => ({ pipeline: doc }));
      }
      case 'job.get':
        return master.getJob(parse(method, req.params).ref).then((r) => (hidden ? { ...r, job: hideEnv(r.job) } : r));
      case 'job.cancel':
        return master.cancelJob(parse(method, req.params).ref).then((job) => ({ job }));
      case 'logs.get': {
        const p = parse(method, req.params);
        return master.readLogs(p.ref, p.attempt, p.offset, p.limit);
      }
      case 'logs.follow': {
        const subscription = req.id;
        checkRoom(subscriptions.size, SESSION_LIMITS.subscriptions, 'subscriptions');
        subscriptions.set(subscription, () => undefined);
        const ref = parse(method, req.params).ref;
        return master
          .followLogs(ref, {
            data: (attempt, data) => peer.notify('log', { subscription, ...parseJobRef(ref), attempt, data }),
            end: (status) => {
              subscriptions.delete(subscription);
              peer.notify('log.end', { subscription, status });
            },
          })
          .then((stop) => {
            subscriptions.set(subscription, stop);
            return { subscription };
          });
      }
      case 'unsubscribe': {
        const id = parse(method, req.params).subscription;
        subscriptions.get(id)?.();
        subscriptions.delete(id);
        return { ok: true };
      }
      case 'run.extend': {
        const p = parse(method, req.params);
        return master.extendRun(p.runId, p.jobs);
      }
      case 'agentRuns.list':
        return master.listAgentRuns(parse(method, req.params).limit).then((agentRuns) => ({ agentRuns }));
      case 'agentRun.get':
        return master.getAgentRun(parse(method, req.params).agentRunId);
      case 'agentRun.watch': {
        const subscription = req.id;
        checkRoom(subscriptions.size, SESSION_LIMITS.subscriptions, 'subscriptions');
        subscriptions.set(subscription, () => undefined);
        return master
          .watchAgentRun(parse(method, req.params).agentRunId, (run) => peer.notify('agentRun.stage', { subscription, run }))
          .then(({ snapshot, stop }) => {
            subscriptions.set(subscription, stop);
            return { subscription, snapshot };
          });
      }
      case 'gates.list': {
        const p = parse(method, req.params);
        return Promise.all([master.listGates(), p.history > 0 ? master.gateHistory(p.history) : []]).then(([pending, history]) => ({ pending, history }));
      }
      case 'gate.decide': {
        const p = parse(method, req.params);
        return master.decideGate(p.ref, p.approved, principal.name, p.comment);
      }
      case 'workers.list':
        parse(method, req.params);
        return { workers: master.listWorkers() };
      case 'files.list':
        return { files: fileArea(master, parse(method, req.params).area).list() };
      case 'files.put': {
        const p = parse(method, req.params);
        return putFile(master, p.area, p.name, p.sha256);
      }
      case 'files.get': {
        const p = parse(method, req.params);
        return readFile(master, p.area, p.name, p.offset);
      }
      case 'files.blob': {
        const p = parse(method, req.params);
        const content = fileArea(master, p.area).get(p.name);
        if (!content) throw new TitanError('NOT_FOUND', `no file ${p.name} in ${p.area}`);
        return { sha256: master.blobs.putBuffer(content), size: content.length };
      }
      case 'services.list':
        parse(method, req.params);
        return { services: master.listServices() };
      case 'service.stop':
        return master.stopService(parse(method, req.params).ref).then((job) => ({ job }));
      case 'worker.drain':
        return { worker: master.requestDrain(parse(method, req.params).id) };
      case 'worker.undrain':
        return { worker: master.requestUndrain(parse(method, req.params).id) };
      case 'worker.shutdown': {
        const p = parse(method, req.params);
        return { worker: master.requestShutdown(p.id, p.force, p.drainTimeoutMs) };
      }
      case 'stats':
        parse(method, req.params);
        return master.stats();
      default:
        throw new TitanError('UNKNOWN_METHOD', `unknown method "${method}"`);
    }
  };
  return { version: 2, serverVersion: SERVER_VERSION };
}

function fileArea(master: Master, area: FileAreaName): FileArea {
  return area === 'uploads' ? master.uploads : master.registry;
}

function putFile(master: Master, area: FileAreaName, name: string, sha256: string): { name: string; size: number } {
  if (!master.blobs.has(sha256)) throw new TitanError('BAD_REQUEST', `upload the content of ${name} (sha256 ${sha256}) with blob.put first`);
  const { size } = master.blobs.read(sha256, 0, 0);
  const data = master.blobs.read(sha256, 0, size).data;
  fileArea(master, area).put(name, data);
  return { name, size };
}

function readFile(master: Master, area: FileAreaName, name: string, offset: number): { data: string; size: number } {
  const chunk = fileArea(master, area).read(name, offset, BLOB_CHUNK_BYTES);
  if (!chunk) throw new TitanError('NOT_FOUND', `no file ${name} in ${area}`);
  return { data: chunk.data.toString('base64'), size: chunk.size };
}
