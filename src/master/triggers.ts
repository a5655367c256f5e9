/**
 * The Triggers system: pipelines started by requests to `/hooks/NAME`. Triggers are loaded from
 * the store at start (a standby that takes over serves them too) and changed one at a time.
 *
 * A delivery is checked in the order that keeps an unauthenticated flood cheap: the trigger
 * must exist, the body must fit its limit (the HTTP door reads it against `maxBodyOf`), then the
 * sender must prove itself; only then does it draw from the trigger's rate bucket, so strangers
 * cannot spend a sender's quota, and only then does anything read the store (the idempotency
 * key) or start a run. An accepted delivery submits the trigger's run like any submission, so
 * flow control (singleton, debounce) applies; its idempotency key becomes the submission's
 * request id, which the store keeps with the run, so a replay is refused for as long as the run
 * exists, across restarts and takeovers.
 *
 * Every delivery is recorded. Accepted ones are bounded by the rate limit; refusals are recorded
 * within a budget of their own (as many per minute as the trigger accepts), and beyond it only
 * counted in memory, so a flood of bad requests costs no durable write each.
 */
import { randomBytes } from 'node:crypto';
import { validateDag } from '../core/dag.js';
import { TitanError } from '../core/errors.js';
import type { JobSpec, RunSpec } from '../core/model.js';
import { type DeliveryRecord, fullBucket, KEPT_DELIVERIES, MAX_HEADER_VALUE, type RateBucket, sizeText, startedByDelivery, takeToken, type TriggerAuth, type TriggerLimits, type TriggerRecord, type TriggerView, viewOfTrigger } from '../core/trigger.js';
import type { SubmitResult } from '../protocol/methods.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { RunOrigin } from './systems/commands.js';
import { bearerProblem, newBearerToken, requestIdOf, signatureProblem } from './trigger-auth.js';

export interface TriggersOptions {
  store: Pick<Store, 'putTrigger' | 'listTriggers' | 'deleteTrigger' | 'addDelivery' | 'listDeliveries' | 'findRunByRequest'>;
  clock: Clock;
  submit: (run: RunSpec, origin: RunOrigin) => Promise<SubmitResult>;
  /** Refuses a run that could not be submitted as it is (scripts not uploaded, secrets unknown). */
  check: (run: RunSpec) => void;
  /** The value of a secret (a signing key), or null when it is not set. */
  secretValue: (name: string) => string | null;
  /** Stores a payload as a content-addressed blob; its sha256. */
  putBlob: (content: Buffer) => string;
  log: (line: string) => void;
}

/** What a request to a hook carries, as the HTTP door read it. */
export interface HookRequest {
  signature?: string | undefined;
  authorization?: string | undefined;
  idempotencyKey?: string | undefined;
  event?: string | undefined;
  body: Buffer;
}

/** The HTTP answer to a delivery. */
export interface HookAnswer {
  status: number;
  body: { runId: string; delivery: string; singleton?: { key: string; heldBy: string } } | { code: string; message: string; delivery?: string };
  retryAfterS?: number;
}

/** How a trigger authenticates, as asked for when it is created. */
export type AuthChoice = { secret: string } | { bearer: true };

interface Entry {
  record: TriggerRecord;
  rate: RateBucket;
  refusals: RateBucket;
  unrecorded: number;
}

const CODES: Record<number, string> = { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 404: 'NOT_FOUND', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED', 503: 'UNAVAILABLE' };
const HEADER_TEXT = /^[\x20-\x7e]+$/;
export const PAYLOAD_FILE = 'payload.json';

export class Triggers {
  private readonly entries = new Map<string, Entry>();
  /** Idempotency keys of deliveries being submitted (as request ids): a concurrent replay is refused. */
  private readonly inFlight = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: TriggersOptions) {}

  async start(): Promise<void> {
    await this.serial(async () => {
      for (const record of await this.o.store.listTriggers()) this.entries.set(record.name, this.entryOf(record));
    });
  }

  async list(deliveries = 5): Promise<TriggerView[]> {
    const names = [...this.entries.keys()].sort();
    return Promise.all(names.map((name) => this.get(name, deliveries)));
  }

  async get(name: string, deliveries = 20): Promise<TriggerView> {
    const entry = this.entry(name);
    return viewOfTrigger(entry.record, await this.o.store.listDeliveries(name, deliveries), entry.unrecorded);
  }

  /** Creates a trigger; a bearer token is returned this once (only its hash is kept). */
  create(name: string, run: RunSpec, choice: AuthChoice, limits: TriggerLimits): Promise<{ trigger: TriggerView; token?: string }> {
    const problems = validateDag(run.jobs);
    if (problems.length > 0) return Promise.reject(new TitanError('INVALID_DAG', problems.map((p) => p.message).join('; ')));
    try {
      this.o.check(run);
      if ('secret' in choice && this.o.secretValue(choice.secret) === null) throw new TitanError('BAD_REQUEST', `no secret ${choice.secret} to sign deliveries with: set it first (titan secrets set ${choice.secret})`);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.serial(async () => {
      if (this.entries.has(name)) throw new TitanError('CONFLICT', `a trigger ${name} exists already (titan triggers rm ${name} removes it)`);
      const bearer = 'bearer' in choice ? newBearerToken() : null;
      const auth: TriggerAuth = bearer ? { kind: 'bearer', tokenHash: bearer.hash } : { kind: 'hmac', secret: (choice as { secret: string }).secret };
      const now = this.o.clock.now();
      const record: TriggerRecord = { name, run, auth, limits, createdAt: now, updatedAt: now };
      await this.o.store.putTrigger(record);
      this.entries.set(name, this.entryOf(record));
      this.o.log(`trigger ${name}: created (${auth.kind}, ${limits.ratePerMinute}/minute, at most ${sizeText(limits.maxBodyBytes)})`);
      return { trigger: viewOfTrigger(record, [], 0), ...(bearer && { token: bearer.token }) };
    });
  }

  /** Removes the trigger and its deliveries; the runs it started are kept. */
  remove(name: string): Promise<{ trigger: TriggerView }> {
    return this.serial(async () => {
      const view = await this.get(name, 0);
      await this.o.store.deleteTrigger(name);
      this.entries.delete(name);
      this.o.log(`trigger ${name}: removed`);
      return { trigger: view };
    });
  }

  /** The largest body the trigger takes, or null when there is no such trigger. */
  maxBodyOf(name: string): number | null {
    return this.entries.get(name)?.record.limits.maxBodyBytes ?? null;
  }

  /** The answer to a request for a trigger that does not exist (not recorded: there is nothing to record it under). */
  unknown(name: string): HookAnswer {
    return { status: 404, body: { code: 'NOT_FOUND', message: `no trigger ${name}` } };
  }

  /** A body over the trigger's limit, refused before the rest of it was read. */
  tooLarge(name: string, bytes: number, key: string | undefined): Promise<HookAnswer> {
    const entry = this.entries.get(name);
    if (!entry) return Promise.resolve(this.unknown(name));
    return this.refuse(entry, this.newId(), 413, `the body exceeds this trigger's limit of ${sizeText(entry.record.limits.maxBodyBytes)}`, bytes, headerValue(key));
  }

  /** Checks and, when it passes, carries out a delivery. */
  async deliver(name: string, req: HookRequest): Promise<HookAnswer> {
    const entry = this.entries.get(name);
    if (!entry) return this.unknown(name);
    const id = this.newId();
    const bytes = req.body.length;
    const key = headerValue(req.idempotencyKey);
    const refuse = (status: number, reason: string, retryAfterS?: number) => this.refuse(entry, id, status, reason, bytes, key, retryAfterS);

    const unproven = this.authProblem(entry.record.auth, req);
    if (unproven) return refuse(unproven.status, unproven.reason);
    const now = this.o.clock.now();
    const taken = takeToken(entry.rate, entry.record.limits.ratePerMinute, now);
    entry.rate = taken.bucket;
    if (!taken.ok) {
      const retryAfterS = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      return refuse(429, `more than ${entry.record.limits.ratePerMinute} deliveries a minute: try again in ${retryAfterS} s`, retryAfterS);
    }
    if (key === undefined && req.idempotencyKey !== undefined) return refuse(400, `the idempotency key must be 1 to ${MAX_HEADER_VALUE} printable ASCII characters`);
    const event = headerValue(req.event);
    if (event === undefined && req.event !== undefined) return refuse(400, `X-GitHub-Event must be 1 to ${MAX_HEADER_VALUE} printable ASCII characters`);
    try {
      JSON.parse(req.body.toString('utf8'));
    } catch (err) {
      return refuse(400, `the body is not JSON: ${(err as Error).message}`);
    }

    const requestId = key === undefined ? undefined : requestIdOf(name, key);
    if (requestId !== undefined) {
      const pending = this.inFlight.get(requestId);
      if (pending !== undefined) return refuse(409, `idempotency key "${key}" was seen before: delivery ${pending} with it is being handled`);
      const earlier = await this.o.store.findRunByRequest(requestId);
      if (earlier) return refuse(409, `idempotency key "${key}" was seen before: its first delivery started run ${earlier.runId}`);
      this.inFlight.set(requestId, id);
    }
    try {
      const run = this.runOf(entry.record, id, event, this.o.putBlob(req.body));
      const submitted = await this.o.submit(run, { startedBy: startedByDelivery(name, id), ...(requestId !== undefined && { requestId }) });
      const held = submitted.singleton;
      const reason = held ? `run ${held.heldBy} holds the singleton key ${held.key}: no new run` : null;
      // The run is durable: a record that cannot be written is logged, the delivery stays accepted.
      await this.record({ id, trigger: name, receivedAt: now, outcome: 'accepted', reason, idempotencyKey: key ?? null, bodyBytes: bytes, runId: submitted.runId }).catch(() => undefined);
      return { status: held ? 200 : 202, body: { runId: submitted.runId, delivery: id, ...(held && { singleton: held }) } };
    } catch (err) {
      const e = err as Error;
      const status = e instanceof TitanError && e.code === 'UNAVAILABLE' ? 503 : 400;
      return refuse(status, `the run could not be submitted: ${e.message}`);
    } finally {
      if (requestId !== undefined) this.inFlight.delete(requestId);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private authProblem(auth: TriggerAuth, req: HookRequest): { status: number; reason: string } | null {
    if (auth.kind === 'bearer') {
      const problem = bearerProblem(req.authorization, auth.tokenHash);
      return problem === null ? null : { status: 401, reason: problem };
    }
    const key = this.o.secretValue(auth.secret);
    if (key === null) return { status: 503, reason: `the trigger's signing secret ${auth.secret} is not set on the master` };
    const problem = signatureProblem(req.signature, key, req.body);
    return problem === null ? null : { status: 401, reason: problem };
  }

  /** The trigger's run for one delivery: each job that runs something gets the payload and the TITAN_TRIGGER_ variables. */
  private runOf(record: TriggerRecord, delivery: string, event: string | undefined, sha256: string): RunSpec {
    const vars = { TITAN_TRIGGER_NAME: record.name, TITAN_TRIGGER_DELIVERY: delivery, ...(event !== undefined && { TITAN_TRIGGER_EVENT: event }) };
    const withPayload = (job: JobSpec): JobSpec => (job.kind === 'approval' ? job : { ...job, env: { ...job.env, ...vars }, payload: { name: PAYLOAD_FILE, sha256 } });
    return { ...record.run, jobs: record.run.jobs.map(withPayload) };
  }

  /** Records a refusal within the trigger's budget (else counts it) and answers it. */
  private async refuse(entry: Entry, id: string, status: number, reason: string, bytes: number, key: string | undefined, retryAfterS?: number): Promise<HookAnswer> {
    const code = CODES[status] ?? 'BAD_REQUEST';
    const budget = takeToken(entry.refusals, entry.record.limits.ratePerMinute, this.o.clock.now());
    entry.refusals = budget.bucket;
    if (budget.ok) {
      await this.record({ id, trigger: entry.record.name, receivedAt: this.o.clock.now(), outcome: 'refused', reason: `${status}: ${reason}`, idempotencyKey: key ?? null, bodyBytes: bytes, runId: null }).catch(() => undefined);
    } else {
      entry.unrecorded++;
    }
    return { status, body: { code, message: reason, delivery: id }, ...(retryAfterS !== undefined && { retryAfterS }) };
  }

  private async record(d: DeliveryRecord): Promise<void> {
    try {
      await this.o.store.addDelivery(d, KEPT_DELIVERIES);
    } catch (err) {
      this.o.log(`trigger ${d.trigger}: delivery ${d.id} (${d.outcome}) could not be recorded: ${(err as Error).message}`);
      throw err;
    }
  }

  private entryOf(record: TriggerRecord): Entry {
    const now = this.o.clock.now();
    return { record, rate: fullBucket(record.limits.ratePerMinute, now), refusals: fullBucket(record.limits.ratePerMinute, now), unrecorded: 0 };
  }

  private entry(name: string): Entry {
    const entry = this.entries.get(name);
    if (!entry) throw new TitanError('NOT_FOUND', `no trigger ${name} (titan triggers ls lists them)`);
    return entry;
  }

  private newId(): string {
    return `d${this.o.clock.now().toString(36)}${randomBytes(4).toString('hex')}`;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** A header's value when it is usable text of bounded length; undefined otherwise (or when absent). */
function headerValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  return v.length > 0 && v.length <= MAX_HEADER_VALUE && HEADER_TEXT.test(v) ? v : undefined;
}
