/**
 * v2 sessions: HELLO (token, role, versions), then requests mapped onto the master's methods.
 * Parameters are validated here with the shared schemas, so the master only sees typed input.
 */
import { TitanError } from '../core/errors.js';
import { parseJobRef } from '../core/model.js';
import { VERSION } from '../core/version.js';
import type { Master } from '../master/master.js';
import { HEARTBEAT_MS } from '../master/master.js';
import type { WorkerLink } from '../master/workers.js';
import { isDataMethod, WORKER_DATA_METHODS } from '../protocol/data-methods.js';
import { isScheduleMethod } from '../protocol/schedule-methods.js';
import { BLOB_CHUNK_BYTES, type FileAreaName, type Hello, type HelloResult, HelloSchema, type JobView, type Method, params, WORKER_METHODS, WorkerReportEvents } from '../protocol/methods.js';
import type { FileArea } from '../master/file-area.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import type { Request } from '../protocol/v2.js';
import { dataHandler } from './handlers-data.js';
import { handleSchedule } from './handlers-schedules.js';
import { submitV1Dag } from './v1-handlers.js';
import { derivedRole } from '../protocol/derived-tokens.js';
import { tokenMatches } from './token.js';

export const SERVER_VERSION = VERSION;

/** Unauthenticated connections get this long to say HELLO. */
export const HELLO_TIMEOUT_MS = 10_000;

export function serveV2(peer: Peer, master: Master, token: string): void {
  const timer = setTimeout(() => peer.fail('UNAUTHORIZED', `no HELLO within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS);
  timer.unref();
  peer.onClose(() => clearTimeout(timer));
  peer.onHello = async (payload) => {
    clearTimeout(timer);
    const parsed = HelloSchema.safeParse(payload);
    if (!parsed.success) throw new TitanError('BAD_REQUEST', `malformed HELLO: ${describeIssues(parsed.error.issues)}`);
    const hello = parsed.data;
    if (!hello.versions.includes(2)) throw new TitanError('BAD_REQUEST', `no common protocol version: this server speaks 2, the client offered ${hello.versions.join(', ')}`);
    const derived = tokenMatches(hello.token, token) ? { role: 'cluster' as const } : derivedRole(token, hello.token);
    if (derived === null) throw new TitanError('UNAUTHORIZED', 'invalid or missing token: pass the cluster token (TITAN_TOKEN or --token)');
    const { role } = derived;
    // A job's token lives as long as its run: one left in a log is useless afterwards.
    if (role === 'job' && !master.isRunActive(derived.runId ?? '')) throw new TitanError('UNAUTHORIZED', `this job token's run ${derived.runId ?? ''} is no longer running`);
    if (hello.role === 'worker') {
      if (role !== 'cluster' && role !== 'worker') throw new TitanError('UNAUTHORIZED', `a ${role} token cannot register a worker: use the worker token (titan token --role worker)`);
      return workerSession(peer, master, hello);
    }
    if (role === 'worker') throw new TitanError('UNAUTHORIZED', 'the worker token only registers workers: clients use the cluster token (or titan token --role read)');
    return clientSession(peer, master, role);
  };
}

function parse<M extends Method>(method: M, raw: unknown): ReturnType<(typeof params)[M]['parse']> {
  const result = params[method].safeParse(raw ?? {});
  if (!result.success) throw new TitanError('BAD_REQUEST', `invalid parameters for ${method}: ${describeIssues(result.error.issues)}`);
  return result.data as ReturnType<(typeof params)[M]['parse']>;
}

function isMethod(name: string): name is Method {
  return Object.hasOwn(params, name);
}

/** What a job's token may not do (see protocol/derived-tokens.ts): manage workers, decide gates, change schedules or the script library, delete runs. */
const NOT_FOR_JOBS: ReadonlySet<string> = new Set([
  'worker.drain',
  'worker.undrain',
  'worker.shutdown',
  'run.delete',
  'gate.decide',
  'files.put',
  'schedule.put',
  'schedule.pause',
  'schedule.resume',
  'schedule.delete',
  'schedule.runNow',
]);
/** All a read token may do. */
const READS: ReadonlySet<string> = new Set([
  'run.get',
  'run.watch',
  'runs.list',
  'job.get',
  'logs.get',
  'logs.follow',
  'unsubscribe',
  'agentRuns.list',
  'agentRun.get',
  'agentRun.watch',
  'gates.list',
  'workers.list',
  'services.list',
  'files.list',
  'files.get',
  'stats',
  'pipeline.parse',
  'schedules.list',
  'kv.get',
  'kv.keys',
  'kv.smembers',
  'kv.wait',
  'artifact.get',
  'artifact.list',
]);

function clientSession(peer: Peer, master: Master, role: 'cluster' | 'read' | 'job'): { version: number; serverVersion: string } {
  const subscriptions = new Map<number, () => void>();
  const data = dataHandler(peer, master);
  peer.onClose(() => {
    for (const stop of subscriptions.values()) stop();
    subscriptions.clear();
  });
  peer.onRequest = (req: Request) => {
    const method = req.method;
    if (!isMethod(method)) throw new TitanError('UNKNOWN_METHOD', `unknown method "${method}"`);
    if (WORKER_METHODS.has(method)) throw new TitanError('FORBIDDEN', `${method} is for workers only`);
    if (role === 'job' && NOT_FOR_JOBS.has(method)) throw new TitanError('FORBIDDEN', `${method} needs the cluster token, not a job's token`);
    if (role === 'read' && !READS.has(method)) throw new TitanError('FORBIDDEN', `${method} changes the cluster: a read token only reads`);
    if (isDataMethod(method)) return data(method, req.params);
    if (isScheduleMethod(method)) return handleSchedule(master, method, req.params);
    switch (method) {
      case 'submit': {
        const p = parse(method, req.params);
        return master.submit(p.run, p.requestId);
      }
      case 'blob.missing':
        return { missing: parse(method, req.params).hashes.filter((h) => !master.blobs.has(h)) };
      case 'blob.put': {
        const p = parse(method, req.params);
        return master.blobs.put(p.sha256, p.offset, Buffer.from(p.data, 'base64'), p.final);
      }
      case 'run.get':
        return master.getRun(parse(method, req.params).runId);
      case 'run.cancel':
        return master.cancelRun(parse(method, req.params).runId).then((cancelled) => ({ cancelled }));
      case 'run.delete':
        return master.deleteRun(parse(method, req.params).runId).then((deleted) => ({ deleted }));
      case 'run.watch': {
        // A subscription is named by the request that opened it (ids are unique per connection).
        const subscription = req.id;
        const p = parse(method, req.params);
        return master
          .watchRun(p.runId, {
            run: (run) => peer.notify('run.update', { subscription, run }),
            ...(p.jobs && { jobs: (jobs: JobView[]) => peer.notify('run.jobs', { subscription, jobs }) }),
          })
          .then(({ snapshot, stop }) => {
            subscriptions.set(subscription, stop);
            return { subscription, snapshot };
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
        return submitV1Dag(master, parse(method, req.params).payload);
      case 'pipeline.parse': {
        // An invalid pipeline throws a BAD_REQUEST whose message is the positioned one.
        const p = parse(method, req.params);
        return master.pipelines.read(p.text, p.path).then(({ doc }) => ({ pipeline: doc }));
      }
      case 'job.get':
        return master.getJob(parse(method, req.params).ref);
      case 'job.cancel':
        return master.cancelJob(parse(method, req.params).ref).then((job) => ({ job }));
      case 'logs.get': {
        const p = parse(method, req.params);
        return master.readLogs(p.ref, p.attempt, p.offset, p.limit);
      }
      case 'logs.follow': {
        const subscription = req.id;
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
        return master.decideGate(p.ref, p.approved, p.by, p.comment);
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
  const content = fileArea(master, area).get(name);
  if (!content) throw new TitanError('NOT_FOUND', `no file ${name} in ${area}`);
  return { data: content.subarray(offset, offset + BLOB_CHUNK_BYTES).toString('base64'), size: content.length };
}

/** A worker's event, checked by its schema; a malformed one is answered with event.error. */
function report<E extends keyof typeof WorkerReportEvents>(event: E, data: unknown): ReturnType<(typeof WorkerReportEvents)[E]['parse']> {
  const parsed = WorkerReportEvents[event].safeParse(data);
  if (!parsed.success) throw new TitanError('BAD_REQUEST', `malformed ${event} event: ${describeIssues(parsed.error.issues)}`);
  return parsed.data as ReturnType<(typeof WorkerReportEvents)[E]['parse']>;
}

function workerSession(peer: Peer, master: Master, hello: Hello): HelloResult {
  if (!hello.worker) throw new TitanError('BAD_REQUEST', 'a worker HELLO must describe the worker (host, port, capabilities, slots)');
  const link: WorkerLink = {
    dispatch: (attempts) => peer.notify('dispatch', { attempts }),
    kill: (attempt) => peer.notify('kill', attempt),
    drain: () => peer.notify('drain', {}),
    undrain: () => peer.notify('undrain', {}),
    shutdown: (drainTimeoutMs) => peer.notify('shutdown', drainTimeoutMs === undefined ? {} : { drainTimeoutMs }),
    spawnWorker: (request) => peer.notify('spawnWorker', request),
    close: (reason) => peer.fail('UNAVAILABLE', reason),
  };
  const { workerId, abandon } = master.attachWorker(hello.worker, hello.running ?? [], link);
  peer.onClose(() => master.detachWorker(workerId, link));
  peer.onEvent = (event, data) => {
    master.touchWorker(workerId);
    switch (event) {
      case 'heartbeat':
        // Echoed so the worker can tell a silent, half-open connection from a quiet master.
        peer.notify('heartbeat', {});
        return;
      case 'log': {
        const log = report('log', data);
        master.workerLog(workerId, log, log.data);
        return;
      }
      case 'service':
        master.serviceReport(workerId, report('service', data));
        return;
      case 'accepted':
        master.attemptsAccepted(workerId, report('accepted', data).attempts);
        return;
      case 'drain':
        master.drainWorker(workerId, report('drain', data ?? {}).exiting);
        return;
      default:
        throw new TitanError('BAD_REQUEST', `unknown worker event "${event}"`);
    }
  };
  const data = dataHandler(peer, master);
  peer.onRequest = (req: Request) => {
    master.touchWorker(workerId);
    // A worker uploads its attempts' output files as artifacts.
    if (isDataMethod(req.method) && WORKER_DATA_METHODS.has(req.method)) return data(req.method, req.params);
    switch (req.method) {
      case 'attempts.finished':
        return master.attemptsFinished(workerId, parse('attempts.finished', req.params).results).then((accepted) => ({ accepted }));
      case 'blob.get': {
        const p = parse('blob.get', req.params);
        const { data, size } = master.blobs.read(p.sha256, p.offset, 1024 * 1024);
        return { data: data.toString('base64'), size };
      }
      default:
        throw new TitanError('UNKNOWN_METHOD', `unknown worker method "${req.method}"`);
    }
  };
  return { version: 2, serverVersion: SERVER_VERSION, workerId, heartbeatMs: HEARTBEAT_MS, abandon, workerTimeoutMs: master.workerTimeoutMs };
}
