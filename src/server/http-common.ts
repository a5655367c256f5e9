/**
 * What the HTTP route modules share: validation of path, query and body values with the
 * protocol's zod schemas, the HTTP status of each error code, and who a request is from.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { IdSchema } from '../core/model.js';
import { describeIssues } from '../protocol/peer.js';
import type { Principal } from '../protocol/roles.js';
import type { Master } from '../master/master.js';
import type { CommandContext } from './commands/command.js';
import type { Wording } from './commands/table.js';
import type { Gatekeeper } from './gatekeeper.js';

export const STATUS_OF: Record<string, number> = {
  BAD_REQUEST: 400,
  INVALID_DAG: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Whether the caller may not run jobs, and so sees the names of environment variables, not their values. */
export const readsOnly = (req: FastifyRequest): boolean => !principalOf(req).permissions.includes('operate');

type Authenticated = FastifyRequest & { principal?: Principal; sessionId?: string };

/** Who a request is from, once the auth hook let it through. */
export const signedIn = (req: FastifyRequest): Principal | undefined => (req as Authenticated).principal;

/** Set by the API's auth hook on every request it lets through. */
export function principalOf(req: FastifyRequest): Principal {
  const p = signedIn(req);
  if (!p) throw new TitanError('UNAUTHORIZED', 'not signed in');
  return p;
}

/** The browser session a request came with, if it came with one rather than a bearer token. */
export const sessionIdOf = (req: FastifyRequest): string | undefined => (req as Authenticated).sessionId;

export function setPrincipal(req: FastifyRequest, principal: Principal, sessionId?: string): void {
  (req as Authenticated).principal = principal;
  if (sessionId !== undefined) (req as Authenticated).sessionId = sessionId;
}

/** Validates with a zod schema; failures are 400 with every problem named. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new TitanError('BAD_REQUEST', `invalid ${what}: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/** A route's call of a command: the caller, who submits nothing on a job's behalf over HTTP. */
export const callOf = (req: FastifyRequest, master: Master, gate: Gatekeeper): CommandContext => ({ master, gate, principal: principalOf(req), origin: {} });

/** How the API's routes word parameters a method's schema refused: the problems alone. */
export const ISSUES: Wording = (issues) => issues;

export type Query = Record<string, string | string[] | undefined>;

export const queryOf = (req: FastifyRequest): Query => (req.query ?? {}) as Query;

/** A numeric query value for a schema to check (absent stays absent; "abc" becomes NaN and fails). */
export const numberOf = (value: string | string[] | undefined): number | undefined => (value === undefined ? undefined : Number(value));

const JobPathSchema = z.object({ runId: IdSchema, jobId: IdSchema });

/** `runId/jobId` from the route parameters, each checked as an id. */
export function refOf(p: unknown): string {
  const { runId, jobId } = parseWith(JobPathSchema, p, 'job path');
  return `${runId}/${jobId}`;
}

/** The JSON body as an object: none is `{}`; anything but an object is refused. */
export function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new TitanError('BAD_REQUEST', 'the body must be a JSON object (content-type: application/json)');
  return body as Record<string, unknown>;
}

/**
 * Content-Disposition for a download: `filename` restricted to characters no browser or shell
 * misreads, `filename*` (RFC 5987) keeping other printable characters, percent-encoded.
 */
export function attachment(name: string): string {
  const printable = name.replace(/[\u0000-\u001f\u007f/\\]+/g, '_').slice(0, 200);
  const ascii = printable.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'download';
  const encoded = encodeURIComponent(printable.replace(/^\.+/, '') || ascii).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
