/**
 * The `--store` URL of a Redis store: `redis://[user:password@]host[:port][/db]`, or `rediss://`
 * for TLS. Parsed once so that a mistake is reported before anything connects, and so that log
 * lines and errors can name the server without ever printing its password.
 */

export interface RedisTarget {
  /** The URL as given (it may carry a password: never print it). */
  url: string;
  /** `redis://host:port/db` (or rediss://), with no credentials: for logs and errors. */
  display: string;
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
}

/** Parses a Redis URL; throws an Error that says what is wrong (never echoing a password). */
export function parseRedisUrl(text: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error('a Redis store URL looks like redis://[user:password@]host[:port][/db] (rediss:// for TLS)');
  }
  const tls = u.protocol === 'rediss:';
  if (u.protocol !== 'redis:' && !tls) throw new Error(`a Redis store URL starts with redis:// or rediss://, not ${u.protocol}//`);
  // URL keeps IPv6 hosts in brackets; the socket wants them bare.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('the Redis store URL names no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new Error(`the Redis database in the URL must be a number (redis://host:port/0), not "${decodeURIComponent(path)}"`);
  const db = path === '' ? 0 : Number(path);
  if (u.search !== '' || u.hash !== '') throw new Error('the Redis store URL takes no query or fragment');
  const username = u.username === '' ? undefined : decodeURIComponent(u.username);
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { url: text, display: `${u.protocol}//${shownHost}:${port}/${db}`, host, port, db, tls, username, password };
}

/** Whether `--store` names a Redis server rather than the embedded SQLite store. */
export const isRedisUrl = (text: string): boolean => /^rediss?:\/\//i.test(text);
