/**
 * Service attempts: a port (fixed, or a free one from the master's range) reaches the process as
 * PORT and as `{port}` in its arguments; the master hears when it started and when it passed its
 * readiness probe, and hears it again after a reconnect.
 */
import type { OutputStream } from '../core/output-streams.js';
import type { ServiceDispatch, ServiceReport } from '../protocol/methods.js';
import type { Peer } from '../protocol/peer.js';
import type { Attempt, AttemptResult, Attempts } from './attempts.js';
import type { ExecutionRequest, Executor } from './executor.js';
import { pickFreePort, portIsFree } from './ports.js';
import { waitUntilReady } from './readiness.js';

export type ServiceRequest = Omit<ExecutionRequest, 'timeoutMs'>;

export interface ServiceParts {
  executor: Executor;
  attempts: Attempts;
  /** `peer`: the current session, if any. */
  link: { readonly peer: Peer | null };
  /** This worker's host, named when a fixed port is taken. */
  host: string;
  output: (attempt: Attempt, chunk: string, stream: OutputStream) => void;
  finish: (attempt: Attempt, result: AttemptResult) => void;
}

/** The port a service attempt gets: its own if free, else a free one of its range that no other service here holds; a failure when there is none. */
export async function servicePort(svc: Pick<ServiceDispatch, 'port' | 'portRange'>, taken: Set<number>, host: string): Promise<number | AttemptResult> {
  if (svc.port !== null) {
    if (await portIsFree(svc.port)) return svc.port;
    return { outcome: 'FAILED', exitCode: null, error: `port ${svc.port} is in use on ${host}`, errorCode: 'PORT_IN_USE' };
  }
  const port = await pickFreePort(svc.portRange, taken);
  if (port === null) return { outcome: 'FAILED', exitCode: null, error: `no free port in ${svc.portRange[0]}-${svc.portRange[1]}`, errorCode: 'NO_FREE_PORT' };
  return port;
}

/** The request with its port: as PORT in the environment and in place of each `{port}` in the arguments. */
export function withPort(req: ServiceRequest, port: number): ServiceRequest {
  const portText = String(port);
  return { ...req, args: req.args.map((a) => a.replaceAll('{port}', portText)), env: { ...req.env, PORT: portText } };
}

export class ServiceRunner {
  constructor(private readonly parts: ServiceParts) {}

  async run(attempt: Attempt, svc: ServiceDispatch, req: ServiceRequest): Promise<void> {
    const { executor, attempts, host, output, finish } = this.parts;
    const port = await servicePort(svc, attempts.servicePorts(), host);
    if (typeof port !== 'number') return finish(attempt, port);
    const running = executor.start({ ...withPort(req, port), timeoutMs: null }, (chunk, stream) => output(attempt, chunk, stream));
    attempt.running = running;
    let result: AttemptResult;
    if (running.pid === null) {
      result = await running.done;
    } else {
      const pid = running.pid;
      this.report(attempt, { ...attempt.id, phase: 'started', pid, port });
      const exited = new AbortController();
      void running.done.then(() => exited.abort());
      const probe = await waitUntilReady(svc.readiness, port, svc.readyTimeoutMs, exited.signal);
      if (probe.ready) this.report(attempt, { ...attempt.id, phase: 'ready', pid, port });
      else if (!exited.signal.aborted) running.kill(probe.reason);
      result = await running.done;
      if (!probe.ready && probe.reason !== 'aborted') result = { outcome: 'FAILED', exitCode: result.exitCode, error: probe.reason, errorCode: 'NOT_READY' };
    }
    finish(attempt, result);
  }

  /** Tells a new session what the last one was told of each service attempt held. */
  resend(peer: Peer): void {
    for (const a of this.parts.attempts.values()) if (a.service) peer.notify('service', a.service);
  }

  private report(attempt: Attempt, report: ServiceReport): void {
    attempt.service = report;
    this.parts.link.peer?.notify('service', report);
  }
}
