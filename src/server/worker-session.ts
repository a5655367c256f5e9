/** A worker's session: its events (logs, service reports, acknowledgements) and its requests. */
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { HEARTBEAT_MS } from '../master/master.js';
import type { WorkerLink } from '../master/workers.js';
import { isDataMethod, WORKER_DATA_METHODS } from '../protocol/data-methods.js';
import { type Hello, type HelloResult, WorkerReportEvents } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import { describeIssues } from '../protocol/peer.js';
import type { Request } from '../protocol/v2.js';
import { dataHandler } from './handlers-data.js';
import { parse } from './method-params.js';
import { VERSION as SERVER_VERSION } from '../core/version.js';

/** A worker's event, checked by its schema; a malformed one is answered with event.error. */
function report<E extends keyof typeof WorkerReportEvents>(event: E, data: unknown): ReturnType<(typeof WorkerReportEvents)[E]['parse']> {
  const parsed = WorkerReportEvents[event].safeParse(data);
  if (!parsed.success) throw new TitanError('BAD_REQUEST', `malformed ${event} event: ${describeIssues(parsed.error.issues)}`);
  return parsed.data as ReturnType<(typeof WorkerReportEvents)[E]['parse']>;
}

export function workerSession(peer: Peer, master: Master, hello: Hello): HelloResult {
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
