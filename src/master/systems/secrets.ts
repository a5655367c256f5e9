/**
 * Secrets: values encrypted with the master's key (secret-box.ts) and kept in the store's meta
 * table as one document, so every master sharing the store shares them (each needs the same
 * key). A handful of secrets changed by hand needs no table of its own: one fenced write per
 * change, and the leader holds the document in memory. Values leave only as the environment of
 * an attempt whose job declares them, and each such hand-out is reported (the audit log).
 */
import { z } from 'zod';
import { SetupError, TitanError } from '../../core/errors.js';
import type { JobSpec } from '../../core/model.js';
import type { AttemptId } from '../../protocol/methods.js';
import type { SecretInfo } from '../../protocol/secret-methods.js';
import { keyIdOf, open, seal, SealedSchema } from '../secret-box.js';
import type { MasterResources } from './resources.js';

/** The key secrets are sealed with, and the one being rotated away (TITAN_SECRETS_KEY_PREVIOUS). */
export interface SecretKeys {
  /** Called when first needed, so a key file is created only once secrets are used. */
  current(): Buffer;
  previous: Buffer | null;
}

/** An attempt received secrets: who (the job's attempt), which names, on which worker. */
export interface SecretsHandedOut {
  attempt: AttemptId;
  names: string[];
  workerId: string;
}

export const SECRETS_META = 'secrets';

const StoredSecretSchema = z.strictObject({ sealed: SealedSchema, createdAt: z.number(), updatedAt: z.number() });
type StoredSecret = z.infer<typeof StoredSecretSchema>;
const StoredSecretsSchema = z.strictObject({ v: z.literal(1), secrets: z.record(z.string(), StoredSecretSchema) });

export class Secrets {
  private secrets = new Map<string, StoredSecret>();
  /** Changes one at a time, each from the document the last one wrote. */
  private writing: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(out: SecretsHandedOut) => void>();

  constructor(
    private readonly r: MasterResources,
    private readonly keys: SecretKeys | null,
  ) {}

  /** Reads the document; values sealed with the previous key are sealed again with the current one. */
  async load(): Promise<void> {
    const text = await this.r.store.getMeta(SECRETS_META);
    if (text === null) return;
    let parsed: z.infer<typeof StoredSecretsSchema>;
    try {
      parsed = StoredSecretsSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new SetupError(`the secrets in the store cannot be read (${err instanceof z.ZodError ? 'not a document this version knows' : (err as Error).message})`);
    }
    this.secrets = new Map(Object.entries(parsed.secrets));
    const previous = this.keys?.previous;
    if (!previous || this.secrets.size === 0) return;
    const key = this.key();
    const old = keyIdOf(previous);
    let rotated = 0;
    for (const [name, s] of this.secrets) {
      if (s.sealed.key !== old) continue;
      this.secrets.set(name, { ...s, sealed: seal(key, name, open(previous, name, s.sealed)) });
      rotated++;
    }
    if (rotated === 0) return;
    await this.save();
    this.r.log(`re-encrypted ${rotated} secret${rotated === 1 ? '' : 's'} with the new secrets key; TITAN_SECRETS_KEY_PREVIOUS may now be removed`);
  }

  list(): SecretInfo[] {
    return [...this.secrets].map(([name, s]) => ({ name, createdAt: s.createdAt, updatedAt: s.updatedAt })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  set(name: string, value: string): Promise<{ secret: SecretInfo; created: boolean }> {
    return this.change(() => {
      const now = this.r.clock.now();
      const before = this.secrets.get(name);
      const stored = { sealed: seal(this.key(), name, value), createdAt: before?.createdAt ?? now, updatedAt: now };
      this.secrets.set(name, stored);
      return { secret: { name, createdAt: stored.createdAt, updatedAt: stored.updatedAt }, created: before === undefined };
    });
  }

  remove(name: string): Promise<{ removed: boolean }> {
    return this.change(() => ({ removed: this.secrets.delete(name) }));
  }

  /** Refuses jobs that declare a secret that does not exist, naming it. */
  checkDeclared(jobs: readonly Pick<JobSpec, 'id' | 'secrets'>[]): void {
    for (const job of jobs) {
      const missing = (job.secrets ?? []).filter((name) => !this.secrets.has(name));
      if (missing.length > 0) {
        throw new TitanError('BAD_REQUEST', `job ${job.id} declares ${missing.length === 1 ? 'a secret that does not exist' : 'secrets that do not exist'}: ${missing.join(', ')}; set ${missing.length === 1 ? 'it' : 'them'} first with \`titan secrets set NAME\``);
      }
    }
  }

  /**
   * Refuses jobs that declare a secret job `by` does not: a job's token starts jobs (a new run or
   * jobs added to one) with only the secrets its own job receives, so no job reaches a secret it
   * was not given, not even through a job it starts.
   */
  checkWithin(own: readonly string[], by: string, jobs: readonly Pick<JobSpec, 'id' | 'secrets'>[]): void {
    for (const job of jobs) {
      const beyond = (job.secrets ?? []).filter((name) => !own.includes(name));
      if (beyond.length > 0) {
        throw new TitanError('FORBIDDEN', `job ${job.id} declares ${beyond.length === 1 ? 'a secret' : 'secrets'} that job ${by} did not declare: ${beyond.join(', ')}; a job's token starts jobs with only the secrets its own job receives`);
      }
    }
  }

  /** The values of `names` for an attempt, reported to the listeners; or why they cannot be given. */
  handOut(names: readonly string[], attempt: AttemptId, workerId: string): { env: Record<string, string> } | { error: string } {
    const env: Record<string, string> = {};
    const missing = names.filter((n) => !this.secrets.has(n));
    if (missing.length > 0) return { error: `secret${missing.length === 1 ? '' : 's'} ${missing.join(', ')} declared by the job ${missing.length === 1 ? 'was' : 'were'} removed before it was dispatched; set ${missing.length === 1 ? 'it' : 'them'} again and retry the job` };
    try {
      for (const name of names) env[name] = open(this.key(), name, (this.secrets.get(name) as StoredSecret).sealed);
    } catch (err) {
      return { error: (err as Error).message };
    }
    for (const listener of this.listeners) listener({ attempt, names: [...names], workerId });
    return { env };
  }

  /** The current values of `names` (those that can be read), to mask in an attempt's output. */
  valuesOf(names: readonly string[]): string[] {
    const values: string[] = [];
    for (const name of names) {
      const s = this.secrets.get(name);
      if (!s) continue;
      try {
        values.push(open(this.key(), name, s.sealed));
      } catch {
        // a value this master cannot read was never handed out by it
      }
    }
    return values;
  }

  /**
   * The value of one secret for the master's own use (a trigger's signing key); null when it is
   * not set or cannot be read. It never leaves the master.
   */
  valueOf(name: string): string | null {
    return this.secrets.has(name) ? (this.valuesOf([name])[0] ?? null) : null;
  }

  has(name: string): boolean {
    return this.secrets.has(name);
  }

  /** Hears each hand-out of secrets to an attempt; returns the way to stop. */
  onHandOut(listener: (out: SecretsHandedOut) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private key(): Buffer {
    if (this.keys === null) throw new TitanError('UNAVAILABLE', 'this master has no secrets key');
    return this.keys.current();
  }

  /** Applies `edit` to the document and stores it; on a failed write the document is as before. */
  private change<T>(edit: () => T): Promise<T> {
    const next = this.writing.then(async () => {
      const before = new Map(this.secrets);
      try {
        const result = edit();
        await this.save();
        return result;
      } catch (err) {
        this.secrets = before;
        throw err instanceof TitanError ? err : new TitanError('UNAVAILABLE', `the secrets were not changed: ${(err as Error).message}`);
      }
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private save(): Promise<void> {
    return this.r.store.setMeta(SECRETS_META, JSON.stringify({ v: 1, secrets: Object.fromEntries(this.secrets) }));
  }
}
