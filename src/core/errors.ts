/** The one error type that crosses boundaries: a stable code and a message that says what to do. */
export type ErrorCode =
  | 'BAD_FRAME'
  | 'BAD_JSON'
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_DAG'
  | 'UNKNOWN_METHOD'
  | 'UNAVAILABLE'
  /** A standby master, or a leader that lost its lease: try the leader (ErrorBody.leader when known). */
  | 'NOT_LEADER'
  | 'INTERNAL';

export class TitanError extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
  ) {
    super(message);
    this.name = 'TitanError';
  }
}

/**
 * What a server found wrong in the place it starts in (a file that is not a database, a
 * directory another process holds): its operator must act, so it is said in one line, never as a
 * stack trace. `usage`: the command line can choose otherwise (exit 2, like a busy port).
 */
export class SetupError extends Error {
  readonly usage: boolean;

  constructor(message: string, options?: { cause?: unknown; usage?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SetupError';
    this.usage = options?.usage ?? false;
  }
}
