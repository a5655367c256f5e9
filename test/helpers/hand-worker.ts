/**
 * A worker spoken by hand over the v2 protocol, for tests that need a worker to do exactly what
 * the test says: hold its dispatches without running them, reclaim a list of its choosing, or
 * act as a rogue worker against a real master.
 */
import { connect } from 'node:net';
import type { Dispatch, HelloResult, Results } from '../../src/protocol/methods.js';
import { EVENT_ERROR, type EventError, Peer } from '../../src/protocol/peer.js';
import { eventually } from './cluster.js';

export interface HandWorkerOptions {
  token: string;
  host?: string;
  /** The name's port (0: the master picks one). */
  port: number;
  capabilities?: string[];
  slots?: number;
  pid?: number;
  credential?: string;
}

export class HandWorker {
  /** Attempts dispatched to this worker, in order. */
  readonly dispatched: Dispatch[] = [];
  readonly errors: EventError[] = [];

  private constructor(
    readonly peer: Peer,
    readonly hello: HelloResult,
  ) {
    peer.onEvent = (event, data) => {
      if (event === 'dispatch') this.dispatched.push(...(data as { attempts: Dispatch[] }).attempts);
      else if (event === EVENT_ERROR) this.errors.push(data as EventError);
    };
  }

  /** Says HELLO (rejects with the master's refusal); the worker has not reclaimed anything yet. */
  static async join(masterPort: number, o: HandWorkerOptions): Promise<HandWorker> {
    const socket = connect({ host: '127.0.0.1', port: masterPort });
    const peer = new Peer(socket, { server: false });
    const worker = {
      host: o.host ?? '127.0.0.1',
      port: o.port,
      capabilities: o.capabilities ?? ['GENERAL'],
      slots: o.slots ?? 1,
      permanent: false,
      ...(o.pid !== undefined && { pid: o.pid }),
    };
    const pending: Dispatch[] = [];
    // Dispatches may arrive before the HELLO reply is handled here.
    peer.onEvent = (event, data) => {
      if (event === 'dispatch') pending.push(...(data as { attempts: Dispatch[] }).attempts);
    };
    try {
      const hello = (await peer.hello({ token: o.token, role: 'worker', versions: [2], worker, ...(o.credential !== undefined && { credential: o.credential }) })) as HelloResult;
      const w = new HandWorker(peer, hello);
      w.dispatched.push(...pending);
      return w;
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  get id(): string {
    return this.hello.workerId ?? '';
  }

  reclaim(running: { runId: string; jobId: string; attempt: number }[] = []): Promise<Results['worker.reclaim']> {
    return this.peer.request('worker.reclaim', { running });
  }

  /** Acknowledges every dispatch received so far, as a real worker does on receipt. */
  acceptAll(): void {
    this.peer.notify('accepted', { attempts: this.dispatched.map(({ runId, jobId, attempt }) => ({ runId, jobId, attempt })) });
  }

  /** The next `event.error` the master answers with. */
  nextError(): Promise<EventError> {
    const seen = this.errors.length;
    return eventually(() => this.errors[seen], 5_000, 'an event.error from the master');
  }

  close(): void {
    this.peer.socket.destroy();
  }
}
