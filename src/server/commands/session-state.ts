/**
 * What a v2 connection holds open for its calls: subscriptions (named by the request that opened
 * them), `kv.wait` calls and unfinished artifact uploads. All of it ends with the connection.
 */
import type { Master } from '../../master/master.js';
import type { UploadBegin } from '../../protocol/data-bus-methods.js';
import type { Peer } from '../../protocol/peer.js';
import { checkRoom, SESSION_LIMITS } from '../limits.js';

/** What a session may upload: the upload as asked, or as it must be recorded; throws FORBIDDEN otherwise (see upload-checks.ts). */
export type UploadCheck = (begin: UploadBegin) => UploadBegin;

export class SessionState {
  readonly subscriptions = new Map<number, () => void>();
  readonly waits = new Set<() => void>();
  readonly uploads = new Set<string>();

  constructor(
    private readonly peer: Peer,
    master: Master,
    readonly checkUpload: UploadCheck = (begin) => begin,
  ) {
    peer.onClose(() => {
      for (const stop of this.subscriptions.values()) stop();
      this.subscriptions.clear();
      for (const cancel of this.waits) cancel();
      this.waits.clear();
      for (const id of this.uploads) void master.artifacts.abort(id);
      this.uploads.clear();
    });
  }

  notify(event: string, data: unknown): void {
    this.peer.notify(event, data);
  }

  /**
   * Opens subscription `id`: its place is held from now, so a burst of requests cannot all pass
   * the cap before any is counted; `open` returns how to stop it.
   */
  async subscribe<T>(id: number, open: () => Promise<{ stop: () => void; result: T }>): Promise<T> {
    checkRoom(this.subscriptions.size, SESSION_LIMITS.subscriptions, 'subscriptions');
    this.subscriptions.set(id, () => undefined);
    let opened: { stop: () => void; result: T };
    try {
      opened = await open();
    } catch (err) {
      // Nothing was opened (an unknown run, say): its place is free again.
      this.subscriptions.delete(id);
      throw err;
    }
    // The connection may have closed (or the subscription been ended) while it opened.
    if (!this.subscriptions.has(id)) opened.stop();
    else this.subscriptions.set(id, opened.stop);
    return opened.result;
  }

  unsubscribe(id: number): void {
    this.subscriptions.get(id)?.();
    this.subscriptions.delete(id);
  }
}
