import type { ArtifactInfo, KvKeyInfo, KvOp, KvOutcome } from '../core/data.js';
import type { AccessStore, AuditBatch, StoredAuditEntry, StoredIdentity } from './access-store.js';
import type { DataBusStore, KvStored } from './data-bus-store.js';
import type { StepRecord } from '../core/steps.js';
import type { StepStore } from './step-store.js';
import type { NotificationDelivery } from '../core/notify-spec.js';
import type { NotificationStore } from './notification-store.js';
import type { DeliveryRecord, TriggerRecord } from '../core/trigger.js';
import type { TriggerStore } from './trigger-store.js';

/**
 * The parts of a Store each backend implements in a module of its own, the data bus
 * (DataBusStore), the audit log and identities (AccessStore), durable steps (StepStore),
 * triggers (TriggerStore) and notification deliveries (NotificationStore), forwarded to those modules so that each backend
 * need not restate them. A backend whose writes need watching (a disk that fills up) wraps them
 * in `dataWrite`.
 */
export abstract class ForwardingStore implements DataBusStore, AccessStore, StepStore, TriggerStore, NotificationStore {
  protected abstract readonly data: DataBusStore;
  protected abstract readonly access: AccessStore;
  protected abstract readonly steps: StepStore;
  protected abstract readonly triggers: TriggerStore;
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

  stepRecord(step: StepRecord): Promise<StepRecord> {
    return this.dataWrite(() => this.steps.stepRecord(step));
  }

  stepGet(runId: string, jobId: string, name: string): Promise<StepRecord | null> {
    return this.steps.stepGet(runId, jobId, name);
  }

  stepCached(runId: string, jobId: string, name: string, attempt: number): Promise<void> {
    return this.dataWrite(() => this.steps.stepCached(runId, jobId, name, attempt));
  }

  listSteps(runId: string, jobId: string): Promise<StepRecord[]> {
    return this.steps.listSteps(runId, jobId);
  }

  putTrigger(record: TriggerRecord): Promise<void> {
    return this.dataWrite(() => this.triggers.putTrigger(record));
  }

  getTrigger(name: string): Promise<TriggerRecord | null> {
    return this.triggers.getTrigger(name);
  }

  listTriggers(): Promise<TriggerRecord[]> {
    return this.triggers.listTriggers();
  }

  deleteTrigger(name: string): Promise<boolean> {
    return this.dataWrite(() => this.triggers.deleteTrigger(name));
  }

  addDelivery(record: DeliveryRecord, keep: number): Promise<void> {
    return this.dataWrite(() => this.triggers.addDelivery(record, keep));
  }

  listDeliveries(trigger: string, limit: number): Promise<DeliveryRecord[]> {
    return this.triggers.listDeliveries(trigger, limit);
  }

  addNotification(delivery: NotificationDelivery): Promise<void> {
    return this.dataWrite(() => this.notifications.addNotification(delivery));
  }

  updateNotification(delivery: NotificationDelivery): Promise<boolean> {
    return this.dataWrite(() => this.notifications.updateNotification(delivery));
  }

  listNotifications(options: { runId?: string; limit: number }): Promise<NotificationDelivery[]> {
    return this.notifications.listNotifications(options);
  }

  pendingNotifications(): Promise<NotificationDelivery[]> {
    return this.notifications.pendingNotifications();
  }
}
