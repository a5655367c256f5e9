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
