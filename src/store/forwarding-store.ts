import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import type { AccessStore, AuditBatch, StoredAuditEntry, StoredIdentity } from './access-store.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';
import type { NotificationDelivery } from '../core/notify-spec.js';
import type { NotificationStore } from './notification-store.js';

/**
 * The parts of a Store each backend implements in a module of its own, the data bus
 * (DataBusStore), the audit log and identities (AccessStore) and notification deliveries
 * (NotificationStore), forwarded to those modules so
 * that each backend need not restate them. A backend whose writes need watching (a disk that
 * fills up) wraps them in `dataWrite`.
 */
export abstract class ForwardingStore implements DataBusStore, AccessStore, NotificationStore {
  protected abstract readonly data: DataBusStore;
  protected abstract readonly access: AccessStore;
  protected abstract readonly notifications: NotificationStore;

  /** Runs one write of the data bus or of artifact metadata; as it is unless a backend says otherwise. */
  protected dataWrite<T>(write: () => Promise<T>): Promise<T> {
    return write();
  }

  kvApply(ops: readonly KvOp[], now: number): Promise<KvOutcome[]> {
    return this.dataWrite(() => this.data.kvApply(ops, now));
  }

  kvGet(key: string, now: number): Promise<KvStored | null> {
    return this.data.kvGet(key, now);
  }

  kvMembers(key: string): Promise<string[]> {
    return this.data.kvMembers(key);
  }

  kvKeys(prefix: string, limit: number, now: number): Promise<{ keys: KvKeyInfo[]; truncated: boolean }> {
    return this.data.kvKeys(prefix, limit, now);
  }

  kvExpiring(): Promise<{ key: string; expiresAt: number }[]> {
    return this.data.kvExpiring();
  }

  artifactPut(info: ArtifactInfo): Promise<string | null> {
    return this.dataWrite(() => this.data.artifactPut(info));
  }

  artifactGet(key: string): Promise<ArtifactInfo | null> {
    return this.data.artifactGet(key);
  }

  artifactList(options: { prefix: string; runId?: string; limit: number }): Promise<{ artifacts: ArtifactInfo[]; truncated: boolean }> {
    return this.data.artifactList(options);
  }

  artifactDelete(key: string): Promise<{ deleted: boolean; orphaned: string | null }> {
    return this.dataWrite(() => this.data.artifactDelete(key));
  }

  auditAppend(batch: AuditBatch): Promise<void> {
    return this.dataWrite(() => this.access.auditAppend(batch));
  }

  auditList(limit: number, before?: number): Promise<StoredAuditEntry[]> {
    return this.access.auditList(limit, before);
  }

  identityList(): Promise<StoredIdentity[]> {
    return this.access.identityList();
  }

  identityAdd(identity: StoredIdentity): Promise<boolean> {
    return this.dataWrite(() => this.access.identityAdd(identity));
  }

  identityRemove(kind: StoredIdentity['kind'], name: string): Promise<boolean> {
    return this.dataWrite(() => this.access.identityRemove(kind, name));
  }

  addDelivery(delivery: NotificationDelivery): Promise<void> {
    return this.dataWrite(() => this.notifications.addDelivery(delivery));
  }

  updateDelivery(delivery: NotificationDelivery): Promise<boolean> {
    return this.dataWrite(() => this.notifications.updateDelivery(delivery));
  }

  listDeliveries(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    return this.notifications.listDeliveries(options);
  }

  pendingDeliveries(): Promise<NotificationDelivery[]> {
    return this.notifications.pendingDeliveries();
  }
}
