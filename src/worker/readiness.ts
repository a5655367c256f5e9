/**
 * Waits for a freshly started service to accept work before its dependents are released: a TCP
 * connect to its port, or an HTTP GET of a path (any status below 500 counts: a 404 still means
 * the server is up). Probes go to 127.0.0.1 because the service runs on this worker's host.
 */
import { get } from 'node:http';
import { connect } from 'node:net';
import type { Readiness } from '../core/model.js';

export type ReadinessResult = { ready: true } | { ready: false; reason: string };

const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 500;
const PROBE_TIMEOUT_MS = 1000;

const READY: ReadinessResult = { ready: true };
const ABORTED: ReadinessResult = { ready: false, reason: 'aborted' };

/** Never rejects; resolves early with reason 'aborted' when `signal` fires (e.g. the service exited). */
export async function waitUntilReady(
  readiness: Readiness,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<ReadinessResult> {
  if (readiness === 'none') return READY;
  const deadline = Date.now() + timeoutMs;
  let pause = FIRST_PAUSE_MS;
  let lastError = 'no probe finished';
  for (;;) {
    if (signal.aborted) return ABORTED;
    const left = deadline - Date.now();
    if (left <= 0) return { ready: false, reason: `not ready within ${timeoutMs} ms: ${lastError}` };
    const outcome = await probe(readiness, port, Math.min(PROBE_TIMEOUT_MS, left), signal);
    if (outcome === null) return READY;
    lastError = outcome;
    const rest = Math.min(pause, deadline - Date.now());
    if (rest > 0) await pauseFor(rest, signal);
    // Quick at first, since most services start fast; then gentler on slow starters.
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}

/** Reports one probe's outcome: null when ready, else why not. Only the first call counts. */
type Settle = (error: string | null) => void;

function probe(readiness: Readiness, port: number, timeoutMs: number, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    let settled = false;
    let teardown = (): void => undefined;
    const settle: Settle = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      teardown();
      resolve(error);
    };
    const onAbort = (): void => settle('aborted');
    const timer = setTimeout(() => settle(`no answer within ${timeoutMs} ms`), timeoutMs);
    signal.addEventListener('abort', onAbort);
    try {
      teardown = readiness === 'tcp' ? startTcp(port, settle) : startHttp(port, readiness, settle);
    } catch (err) {
      // e.g. a path node:http refuses; the promise must still resolve, not reject.
      settle(err instanceof Error ? err.message : String(err));
    }
  });
}

/** Starts a connect probe; like startHttp, returns how to tear it down. */
function startTcp(port: number, settle: Settle): () => void {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('connect', () => settle(null));
  // Kept attached after settling: a late error on a destroyed socket must not go unhandled.
  socket.on('error', (err) => settle(err.message));
  return () => socket.destroy();
}

function startHttp(port: number, path: string, settle: Settle): () => void {
  // No agent: a kept-alive socket would outlive the probe.
  const req = get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    const status = res.statusCode ?? 0;
    settle(status < 500 ? null : `HTTP ${status}`);
  });
  req.on('error', (err) => settle(err.message));
  // Destroying the request also drops the response body we never read.
  return () => req.destroy();
}

function pauseFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
