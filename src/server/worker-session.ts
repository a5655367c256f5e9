/**
 * A worker's session: its HELLO (a name the master knows needs that name's credential; the reply
 * carries the credential), its reclaim, its events (logs, service reports, acknowledgements) and
 * its requests. A worker speaks only for the attempts dispatched to it: a report about another
 * worker's attempt changes nothing and is refused, FORBIDDEN for a request and `event.error` for
 * an event; its uploads are outputs of attempts it runs (upload-checks.ts).
 */
import { isForeign } from '../core/attempt-claims.js';
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { HEARTBEAT_MS } from '../master/master.js';
import type { WorkerLink } from '../master/workers.js';
import { isWorkerDataBusMethod } from '../protocol/data-bus-methods.js';
import { credentialName, workerCredential } from '../protocol/derived-tokens.js';
import { type AttemptId, attemptName, type Hello, type HelloResult, LOG_STREAM_FEATURE, WorkerReportEvents } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import type { Request } from '../protocol/v2.js';
import { SessionState } from './commands/session-state.js';
import { checkParams, perform } from './commands/table.js';
import { workerUploads } from './upload-checks.js';
import { VERSION as SERVER_VERSION } from '../core/version.js';

/** How long after HELLO a worker has to say what it holds (worker.reclaim); it gets no work before. */
export const RECLAIM_TIMEOUT_MS = 10_000;

/** A worker's event, checked by its schema; a malformed one is answered with event.error. */
function report<E extends keyof typeof WorkerReportEvents>(event: E, data: unknown): ReturnType<(typeof WorkerReportEvents)[E]['parse']> {
  const parsed = WorkerReportEvents[event].safeParse(data);
  if (!parsed.success) throw new TitanError('BAD_REQUEST', `malformed ${event} event: ${describeIssues(parsed.error.issues)}`);
  return parsed.data as ReturnType<(typeof WorkerReportEvents)[E]['parse']>;
}

/** Refuses, before anything is applied, a report that names attempts dispatched to another worker (or never dispatched). */
function checkOwn(master: Master, workerId: string, what: string, attempts: readonly AttemptId[]): void {
  const foreign = attempts.filter((a) => isForeign(master.attemptClaim(a), workerId));
  if (foreign.length === 0) return;
  const names = foreign.slice(0, 5).map(attemptName).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
  throw new TitanError('FORBIDDEN', `${what} refused: worker ${workerId} reports only on its own attempts, and ${names} ${foreign.length === 1 ? 'was' : 'were'} not dispatched to it`);
}

export function workerSession(peer: Peer, master: Master, hello: Hello, clusterToken: string): HelloResult {
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
  const workerId = master.attachWorker(hello.worker, link, credentialName(clusterToken, hello.credential));
  // No reclaim means the master cannot tell what the worker holds: the connection goes, and the
  // worker's attempts wait for it as for any disconnected worker.
  let reclaimed = false;
  const reclaimDeadline = setTimeout(() => peer.fail('BAD_REQUEST', `no worker.reclaim within ${RECLAIM_TIMEOUT_MS} ms of HELLO: a worker says what it holds right after HELLO`), RECLAIM_TIMEOUT_MS);
  reclaimDeadline.unref();
  peer.onClose(() => {
    clearTimeout(reclaimDeadline);
    master.detachWorker(workerId, link);
  });
  peer.onEvent = (event, data) => {
    master.touchWorker(workerId);
    switch (event) {
      case 'heartbeat':
        // Echoed so the worker can tell a silent, half-open connection from a quiet master.
        peer.notify('heartbeat', {});
        return;
      case 'log': {
        const log = report('log', data);
        checkOwn(master, workerId, 'log', [log]);
        master.workerLog(workerId, log, log.data, log.stream ?? 'stdout');
        return;
      }
      case 'service': {
        const service = report('service', data);
        checkOwn(master, workerId, 'service report', [service]);
        master.serviceReport(workerId, service);
        return;
      }
      case 'accepted': {
        const { attempts } = report('accepted', data);
        checkOwn(master, workerId, 'accepted', attempts);
        master.attemptsAccepted(workerId, attempts);
        return;
      }
      case 'drain':
        master.workerDraining(workerId, report('drain', data ?? {}).exiting);
        return;
      default:
        throw new TitanError('BAD_REQUEST', `unknown worker event "${event}"`);
    }
  };
  const uploads = { master, session: new SessionState(peer, master, workerUploads(workerId, (a) => master.attemptClaim(a))) };
  peer.onRequest = (req: Request) => {
    master.touchWorker(workerId);
    // A worker uploads its attempts' output files as artifacts.
    if (isWorkerDataBusMethod(req.method)) return perform(req.method, uploads, req.params);
    switch (req.method) {
      case 'worker.reclaim': {
        if (reclaimed) throw new TitanError('CONFLICT', 'this connection has already reclaimed its attempts');
        const abandon = master.reclaimAttempts(workerId, link, checkParams('worker.reclaim', req.params).running);
        reclaimed = true;
        clearTimeout(reclaimDeadline);
        return { abandon };
      }
      case 'attempts.finished': {
        const { results } = checkParams('attempts.finished', req.params);
        checkOwn(master, workerId, 'attempts.finished', results);
        return master.attemptsFinished(workerId, results).then((accepted) => ({ accepted }));
      }
      case 'blob.get': {
        const p = checkParams('blob.get', req.params);
        const { data, size } = master.blobs.read(p.sha256, p.offset, 1024 * 1024);
        return { data: data.toString('base64'), size };
      }
      default:
        throw new TitanError('UNKNOWN_METHOD', `unknown worker method "${req.method}"`);
    }
  };
  return { version: 2, serverVersion: SERVER_VERSION, workerId, credential: workerCredential(clusterToken, workerId), heartbeatMs: HEARTBEAT_MS, workerTimeoutMs: master.workerTimeoutMs, features: [LOG_STREAM_FEATURE] };
}
