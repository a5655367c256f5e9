/**
 * The SDK's errors: one subclass of TitanError per error code, so callers can write
 * `catch (e) { if (e instanceof NotFoundError) ... }`. Every one is still a TitanError with the
 * same `code` and message, so `instanceof TitanError` and `e.code === 'NOT_FOUND'` keep working.
 * The client turns each error reply, and each failure to reach the master, into one of these.
 */
import { TitanError } from '../core/errors.js';
import { NotLeaderError } from '../protocol/masters.js';

export { NotLeaderError, TitanError };
export type { ErrorCode } from '../core/errors.js';

/** The request was malformed or named something invalid (`BAD_REQUEST`). */
export class BadRequestError extends TitanError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'BadRequestError';
  }
}

/** The token is missing or wrong (`UNAUTHORIZED`). */
export class UnauthorizedError extends TitanError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
    this.name = 'UnauthorizedError';
  }
}

/** The caller may not do this (`FORBIDDEN`). */
export class ForbiddenError extends TitanError {
  constructor(message: string) {
    super('FORBIDDEN', message);
    this.name = 'ForbiddenError';
  }
}

/** The run, job, key, gate, file or artifact does not exist (`NOT_FOUND`). */
export class NotFoundError extends TitanError {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'NotFoundError';
  }
}

/** The request clashes with the current state, e.g. a gate already decided (`CONFLICT`). */
export class ConflictError extends TitanError {
  constructor(message: string) {
    super('CONFLICT', message);
    this.name = 'ConflictError';
  }
}

/** A run's jobs do not form a valid DAG: unknown parents, cycles, duplicate ids (`INVALID_DAG`). */
export class InvalidDagError extends TitanError {
  constructor(message: string) {
    super('INVALID_DAG', message);
    this.name = 'InvalidDagError';
  }
}

/** The master cannot be reached, or the connection broke (`UNAVAILABLE`). `cause` holds the socket error, if any. */
export class UnavailableError extends TitanError {
  constructor(message: string, cause?: unknown) {
    super('UNAVAILABLE', message);
    this.name = 'UnavailableError';
    if (cause !== undefined) this.cause = cause;
  }
}

/** The two ends do not understand each other: `BAD_FRAME`, `BAD_JSON` or `UNKNOWN_METHOD` (often a version mismatch). */
export class ProtocolError extends TitanError {
  constructor(code: 'BAD_FRAME' | 'BAD_JSON' | 'UNKNOWN_METHOD', message: string) {
    super(code, message);
    this.name = 'ProtocolError';
  }
}

/*
 * `NOT_LEADER`: a standby master, or one that lost the leadership (NotLeaderError, with the
 * leader's `host:port` when known). The client follows the leader by itself, so it is seen only
 * when no master led within the connect timeout.
 */

/** The master failed while handling the request (`INTERNAL`). */
export class InternalError extends TitanError {
  constructor(message: string) {
    super('INTERNAL', message);
    this.name = 'InternalError';
  }
}

const BY_CODE: Record<string, (message: string) => TitanError> = {
  BAD_REQUEST: (m) => new BadRequestError(m),
  UNAUTHORIZED: (m) => new UnauthorizedError(m),
  FORBIDDEN: (m) => new ForbiddenError(m),
  NOT_FOUND: (m) => new NotFoundError(m),
  CONFLICT: (m) => new ConflictError(m),
  INVALID_DAG: (m) => new InvalidDagError(m),
  UNAVAILABLE: (m) => new UnavailableError(m),
  BAD_FRAME: (m) => new ProtocolError('BAD_FRAME', m),
  BAD_JSON: (m) => new ProtocolError('BAD_JSON', m),
  UNKNOWN_METHOD: (m) => new ProtocolError('UNKNOWN_METHOD', m),
  INTERNAL: (m) => new InternalError(m),
  NOT_LEADER: (m) => new NotLeaderError(m),
};

/** Socket error codes that mean the master could not be reached or the connection broke. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * The typed form of an error from the transport: a TitanError becomes the subclass for its code
 * (an unknown code stays a plain TitanError), a socket error becomes an UnavailableError, and
 * anything else is returned as it is.
 */
export function typedError(err: unknown): unknown {
  if (err instanceof TitanError) {
    if (Object.getPrototypeOf(err) !== TitanError.prototype) return err;
    const make = BY_CODE[err.code];
    if (!make) return err;
    const typed = make(err.message);
    if (err.stack) typed.stack = err.stack.replace(/^TitanError/, typed.name);
    return typed;
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof Error && typeof code === 'string' && CONNECTION_CODES.has(code)) {
    return new UnavailableError(`the connection to the master failed: ${err.message}`, err);
  }
  return err;
}
