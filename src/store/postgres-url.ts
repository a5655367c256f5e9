/**
 * The `--store` URL of a PostgreSQL store: `postgres://[user[:password]@]host[:port]/database`
 * (or `postgresql://`), with libpq's query parameters (`?sslmode=require`, …) passed on to the
 * driver. Parsed once so that a mistake is reported before anything connects, and so that log
 * lines and errors can name the server without ever printing its password.
 */

export interface PostgresTarget {
  /** The URL as given (it may carry a password: never print it). */
  url: string;
  /** `postgres://user@host:port/database`, with no password or parameters: for logs and errors. */
  display: string;
  /** The password, when the URL has one, so that messages can be scrubbed of it. */
  password: string | undefined;
}

/** Parses a PostgreSQL URL; throws an Error that says what is wrong (never echoing a password). */
export function parsePostgresUrl(text: string): PostgresTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error('a PostgreSQL store URL looks like postgres://user:password@host:port/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`a PostgreSQL store URL starts with postgres:// or postgresql://, not ${u.protocol}//`);
  if (u.hostname === '') throw new Error('the PostgreSQL store URL names no host');
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new Error('the PostgreSQL store URL must name one database: postgres://user:password@host:port/database');
  if (u.port !== '' && !(Number(u.port) > 0)) throw new Error(`the PostgreSQL port must be a number, not "${u.port}"`);
  const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  return { url: text, display: `postgres://${user}${u.hostname}:${u.port === '' ? 5432 : u.port}/${database}`, password };
}

/** Whether `--store` names a PostgreSQL server. */
export const isPostgresUrl = (text: string): boolean => /^postgres(ql)?:\/\//i.test(text);

/** The message with the password (plain and URL-encoded) blotted out, for errors that may quote a URL. */
export function redact(message: string, target: PostgresTarget): string {
  if (target.password === undefined || target.password === '') return message;
  return message.replaceAll(target.password, '***').replaceAll(encodeURIComponent(target.password), '***');
}
