/**
 * The command table: every client method, with its access (protocol/access.ts), its parameter
 * schema (protocol/methods.ts) and its handler, one entry each. The v2 sessions dispatch every
 * request through it, the HTTP routes and Titan's v1 commands call its handlers, so a method
 * behaves the same through every door. `perform` is the one place parameters are checked.
 */
import type { z } from 'zod';
import { TitanError } from '../../core/errors.js';
import type { ClientMethod } from '../../protocol/access.js';
import { type Method, params } from '../../protocol/methods.js';
import { describeIssues } from '../../protocol/peer.js';
import { artifactCommands } from './artifacts.js';
import type { Command, CommandContext, ParamsOf, ResultOf } from './command.js';
import { dataCommands } from './data.js';
import { fileCommands } from './files.js';
import { gateCommands } from './gates.js';
import { identityCommands } from './identity.js';
import { jobCommands } from './jobs.js';
import { runCommands } from './runs.js';
import { scheduleCommands } from './schedules.js';
import { limitCommands } from './limits.js';
import { secretCommands } from './secrets.js';
import { stepCommands } from './steps.js';
import { notifyCommands } from './notifications.js';
import { submissionCommands } from './submissions.js';
import { triggerCommands } from './triggers.js';
import { workerCommands } from './workers.js';

const TABLE = {
  ...submissionCommands,
  ...runCommands,
  ...jobCommands,
  ...gateCommands,
  ...workerCommands,
  ...fileCommands,
  ...scheduleCommands,
  ...limitCommands,
  ...secretCommands,
  ...stepCommands,
  ...triggerCommands,
  ...notifyCommands,
  ...dataCommands,
  ...artifactCommands,
  ...identityCommands,
};

/** Each method's entry; the type demands one for every client method, and one method per entry. */
export const COMMANDS: { [M in ClientMethod]: (typeof TABLE)[M] & { method: M } } = TABLE;

/** The context the handler of `M` needs. */
export type ContextOf<M extends ClientMethod> = Parameters<(typeof COMMANDS)[M]['handle']>[0];

/** The methods a caller without a v2 connection can perform: all but subscriptions, waits and uploads. */
export type CallMethod = { [M in ClientMethod]: CommandContext extends ContextOf<M> ? M : never }[ClientMethod];

/** How a door words parameters its schema refused; by default they are named with the method. */
export type Wording = (issues: string) => string;

export const isCommand = (name: string): name is ClientMethod => Object.hasOwn(COMMANDS, name);

/**
 * `raw` checked against the parameter schema of `method` (a worker's methods too): BAD_REQUEST
 * naming each field that is wrong.
 */
export function checkParams<M extends Method>(method: M, raw: unknown, wording: Wording = (issues) => `invalid parameters for ${method}: ${issues}`): z.output<(typeof params)[M]> {
  const result = params[method].safeParse(raw ?? {});
  if (!result.success) throw new TitanError('BAD_REQUEST', wording(describeIssues(result.error.issues)));
  return result.data as z.output<(typeof params)[M]>;
}

/** Performs `method` with parameters as they came (path, query, body or request), checked first. */
export async function perform<M extends ClientMethod>(method: M, ctx: ContextOf<M>, raw: unknown, wording?: Wording): Promise<ResultOf<M>> {
  const p = checkParams(method, raw, wording) as ParamsOf<M>;
  const entry = COMMANDS[method] as unknown as Command<M, ContextOf<M>>;
  return entry.handle(ctx, p);
}

/** Performs a method that needs no v2 connection, for a door that has none (HTTP, Titan's v1). */
export function performCall<M extends CallMethod>(method: M, ctx: CommandContext, raw: unknown, wording?: Wording): Promise<ResultOf<M>> {
  // CallMethod holds exactly the methods whose handlers take a CommandContext.
  return perform(method, ctx as ContextOf<M>, raw, wording);
}

/** The handler of a method that needs no v2 connection, with parameters its door has checked in its own terms. */
export async function handleCall<M extends CallMethod>(method: M, ctx: CommandContext, p: ParamsOf<M>): Promise<ResultOf<M>> {
  const entry = COMMANDS[method] as unknown as Command<M, CommandContext>;
  return entry.handle(ctx, p);
}
