/**
 * What a command is: a client method's access (protocol/access.ts), its parameter schema
 * (protocol/methods.ts) and its handler, which gets parameters the schema accepted and calls the
 * master's public API. The contexts say what a handler may use; a door builds the one it can.
 */
import type { z } from 'zod';
import type { Master, RunOrigin } from '../../master/master.js';
import { ACCESS, type ClientMethod, type MethodAccess } from '../../protocol/access.js';
import { params, type Results } from '../../protocol/methods.js';
import type { Principal } from '../../protocol/roles.js';
import type { Gatekeeper } from '../gatekeeper.js';
import type { SessionState } from './session-state.js';

/** A call from someone: every door but a worker's session. */
export interface CommandContext {
  master: Master;
  /** Identities and the audit log (the identity methods). */
  gate: Gatekeeper;
  /** Who calls: gate decisions and new tokens are recorded under this name. */
  principal: Principal;
  /** What a submission's run is started by (a job's token submits runs of its own). */
  origin: RunOrigin;
}

/** A call on a v2 connection, which may open what lasts as long as the connection (subscriptions, waits, uploads). */
export interface SessionContext extends CommandContext {
  session: SessionState;
  /** The request's id: it names the subscription the request opens. */
  requestId: number;
}

/** An artifact upload: a client's session, or a worker's uploading its attempts' outputs. */
export interface UploadContext {
  master: Master;
  session: SessionState;
}

export type ParamsOf<M extends ClientMethod> = z.output<(typeof params)[M]>;
export type ResultOf<M extends ClientMethod> = Results[M];

export interface Command<M extends ClientMethod, C> {
  method: M;
  access: MethodAccess;
  params: (typeof params)[M];
  handle: (ctx: C, p: ParamsOf<M>) => ResultOf<M> | Promise<ResultOf<M>>;
}

const define =
  <C>() =>
  <M extends ClientMethod>(method: M, handle: Command<M, C>['handle']): Command<M, C> => ({ method, access: ACCESS[method], params: params[method], handle });

/** A command any door may perform. */
export const command = define<CommandContext>();
/** A command that needs a v2 connection (it subscribes, waits or keeps an upload open). */
export const sessionCommand = define<SessionContext>();
/** A step of an artifact upload, which a worker's session performs too. */
export const uploadCommand = define<UploadContext>();

/** Environment values are for those who may run jobs: the others see the variables' names. */
export const hidesEnv = (ctx: CommandContext): boolean => !ctx.principal.permissions.includes('operate');
