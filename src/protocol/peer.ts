/**
 * One end of a v2 connection: framing, JSON, request/response correlation and events over a
 * socket. Used by the server for each session and by the SDK and the worker as clients.
 * Writes made in one event-loop turn leave in one batch (cork/uncork).
 */
import type { Socket } from 'node:net';
import { encodeFrame, type Frame, FrameDecoder, FrameError, V2, V2_MAX_PAYLOAD } from './frame.js';
import { errorFromBody } from './masters.js';
import { type ErrorBody, EventSchema, OP, TitanError, type Request, RequestSchema, ResponseSchema } from './v2.js';

/**
 * The largest frame a peer may send before its HELLO is accepted. A HELLO is a few hundred bytes
 * (one with every field at its longest stays near 5 KiB), so an unauthenticated connection costs
 * the server at most this much buffer; what a worker holds is listed after HELLO (`worker.reclaim`).
 */
export const PRE_HELLO_MAX_PAYLOAD = 8 * 1024;

/**
 * The event that answers an event the other side could not handle (events have no reply of
 * their own). It never closes the connection: one bad event costs only itself.
 */
export const EVENT_ERROR = 'event.error';
export interface EventError {
  /** The event that failed, or null when it could not be read. */
  event: string | null;
  code: string;
  message: string;
}

export type RequestHandler = (req: Request) => Promise<unknown> | unknown;
export type EventHandler = (event: string, data: unknown) => void;
export type HelloHandler = (payload: unknown) => Promise<unknown>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class Peer {
  private readonly limits = new Map([[V2, V2_MAX_PAYLOAD]]);
  private readonly decoder = new FrameDecoder({ maxPayload: this.limits });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private corked = false;
  private closedError: Error | null = null;
  private readonly closeListeners: ((err: Error) => void)[] = [];

  onRequest: RequestHandler = () => {
    throw new TitanError('UNKNOWN_METHOD', 'this peer serves no requests');
  };
  onEvent: EventHandler = () => {};
  /** Server side only: handles the HELLO frame; until it succeeds, nothing else is accepted. */
  onHello: HelloHandler | null = null;
  private greeted: boolean;

  constructor(
    readonly socket: Socket,
    options: { server: boolean },
  ) {
    this.greeted = !options.server;
    // Until a peer has authenticated, it may not make the server hold more than a HELLO's worth.
    if (!this.greeted) this.limits.set(V2, PRE_HELLO_MAX_PAYLOAD);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown(new TitanError('UNAVAILABLE', 'connection closed')));
    socket.on('end', () => {
      if (this.decoder.pending > 0) this.shutdown(new TitanError('BAD_FRAME', `connection ended inside a frame (${this.decoder.pending} bytes left over)`));
      socket.end();
    });
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  onClose(listener: (err: Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** Client side: sends HELLO and resolves with the server's result. */
  hello(payload: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    const reply = this.expect(id);
    this.send(OP.HELLO, { ...payload, id });
    return reply;
  }

  request<T = unknown>(method: string, params?: unknown): Promise<T> {
    return this.begin<T>(method, params).reply;
  }

  /**
   * Sends a request and returns its id at once. Subscriptions are keyed by the id of the request
   * that opened them, so their events can be routed even if they overtake the reply.
   */
  begin<T = unknown>(method: string, params?: unknown): { id: number; reply: Promise<T> } {
    const id = this.nextId++;
    const reply = this.expect(id) as Promise<T>;
    this.send(OP.REQUEST, { id, method, params });
    return { id, reply };
  }

  notify(event: string, data?: unknown): void {
    this.send(OP.EVENT, { event, data });
  }

  close(): void {
    this.socket.end();
  }

  /**
   * Drops a connection that has gone silent (pending requests fail with UNAVAILABLE), or one
   * whose other side answered that it cannot serve it (pending requests fail with that error).
   */
  abort(reason: string | TitanError): void {
    this.shutdown(typeof reason === 'string' ? new TitanError('UNAVAILABLE', reason) : reason);
  }

  /** Sends an error and closes: for input after which the stream cannot be trusted. */
  fail(code: string, message: string): void {
    if (this.closed) return;
    this.send(OP.RESPONSE, { id: null, ok: false, error: { code, message } });
    this.socket.end();
    this.shutdown(new TitanError(code, message));
  }

  private expect(id: number): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private send(opcode: number, message: unknown): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    let payload: string;
    try {
      payload = JSON.stringify(message);
    } catch (err) {
      // A result that cannot be serialised must still settle the request on the other side.
      const id = (message as { id?: unknown }).id ?? null;
      payload = JSON.stringify({ id, ok: false, error: { code: 'INTERNAL', message: `reply could not be encoded: ${errorMessage(err)}` } });
      opcode = OP.RESPONSE;
    }
    this.socket.write(encodeFrame(V2, opcode, payload));
  }

  /** Processes received bytes; the server calls it with the bytes it read to pick the protocol. */
  feed(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      const e = err as FrameError;
      const early = !this.greeted && e.code === 'TOO_LARGE';
      this.fail('BAD_FRAME', early ? `a frame before HELLO may be at most ${PRE_HELLO_MAX_PAYLOAD} bytes; this one announces ${e.length}` : e.message);
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      this.dispatch(frame);
    }
  }

  private dispatch(frame: Frame): void {
    if (!this.greeted && frame.opcode !== OP.HELLO) {
      this.fail('UNAUTHORIZED', 'the first frame must be HELLO');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(frame.payload.toString('utf8'));
    } catch (err) {
      const text = `frame payload is not valid JSON: ${errorMessage(err)}`;
      // Before HELLO nothing about the peer is trusted yet: close rather than converse.
      if (this.greeted) this.replyError(null, 'BAD_JSON', text);
      else this.fail('BAD_JSON', text);
      return;
    }
    switch (frame.opcode) {
      case OP.HELLO:
        return this.handleHello(message);
      case OP.REQUEST:
        return this.handleRequest(message);
      case OP.RESPONSE:
        return this.handleResponse(message);
      case OP.EVENT: {
        const parsed = EventSchema.safeParse(message);
        if (!parsed.success) return this.notify(EVENT_ERROR, { event: null, code: 'BAD_REQUEST', message: `malformed event: ${parsed.error.issues[0]?.message ?? 'invalid'}` } satisfies EventError);
        try {
          this.onEvent(parsed.data.event, parsed.data.data);
        } catch (err) {
          // Answers that one event; the connection and everything else on it carry on.
          this.notify(EVENT_ERROR, { event: parsed.data.event, code: err instanceof TitanError ? err.code : 'BAD_REQUEST', message: errorMessage(err) } satisfies EventError);
        }
        return;
      }
      default:
        this.replyError(null, 'BAD_FRAME', `unknown v2 opcode 0x${frame.opcode.toString(16).padStart(2, '0')}`);
    }
  }

  private handleHello(message: unknown): void {
    if (!this.onHello || this.greeted) {
      this.replyError(null, 'BAD_REQUEST', 'unexpected HELLO');
      return;
    }
    const handler = this.onHello;
    // One HELLO at a time: another arriving while this one is handled is refused, not handled twice.
    this.onHello = null;
    const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : 0;
    handler(message).then(
      (result) => {
        this.greeted = true;
        this.limits.set(V2, V2_MAX_PAYLOAD);
        this.send(OP.RESPONSE, { id, ok: true, result });
      },
      (err: unknown) => this.fail(errorCode(err), errorMessage(err)),
    );
  }

  private handleRequest(message: unknown): void {
    const parsed = RequestSchema.safeParse(message);
    if (!parsed.success) {
      const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : null;
      this.replyError(id, 'BAD_REQUEST', `malformed request: ${describeIssues(parsed.error.issues)}`);
      return;
    }
    const req = parsed.data;
    let result: unknown;
    try {
      result = this.onRequest(req);
    } catch (err) {
      this.replyError(req.id, errorCode(err), errorMessage(err));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.send(OP.RESPONSE, { id: req.id, ok: true, result: value }),
        (err: unknown) => this.replyError(req.id, errorCode(err), errorMessage(err)),
      );
    } else {
      this.send(OP.RESPONSE, { id: req.id, ok: true, result });
    }
  }

  private handleResponse(message: unknown): void {
    const parsed = ResponseSchema.safeParse(message);
    if (!parsed.success) return;
    const res = parsed.data;
    if (res.id === null) {
      // A connection-level error from the other side (it usually closes right after).
      if (!res.ok) this.shutdown(errorFromBody(res.error));
      return;
    }
    const waiter = this.pending.get(res.id);
    if (!waiter) return;
    this.pending.delete(res.id);
    if (res.ok) waiter.resolve(res.result);
    else waiter.reject(errorFromBody(res.error));
  }

  private replyError(id: number | null, code: string, message: string): void {
    const error: ErrorBody = { code, message };
    this.send(OP.RESPONSE, { id, ok: false, error });
  }

  private shutdown(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener(err);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

function errorCode(err: unknown): string {
  return err instanceof TitanError ? err.code : 'INTERNAL';
}

/** A handler may throw anything; the reply needs a string or the other side drops it and waits forever. */
function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
