/**
 * The POST of a notification to a URL that anyone who may submit a run can choose, so the master
 * must not become a way to reach what only it can reach. Only http and https; the address is
 * checked after DNS resolution, on the address the socket connects to (a name that resolves to a
 * link-local or cloud metadata address is refused, and so is one that changes its answer between
 * a check and the connect); redirects are never followed; the whole exchange has a deadline; at
 * most MAX_RESPONSE_BYTES of the answer are read.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import type { PostOutcome, PostRequest } from '../master/systems/notifications.js';

/** The most of an answer read: its status is what counts. */
export const MAX_RESPONSE_BYTES = 16 * 1024;

/** Link-local addresses, where clouds serve instance metadata and credentials (169.254.169.254, fd00:ec2::254). */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');

/** `::ffff:a9fe:a9fe` (how URLs write a mapped IPv4 address) → `169.254.169.254`. */
function unmapped(ip: string): string | null {
  const m = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (m) {
    const hi = parseInt(m[1] as string, 16);
    const lo = parseInt(m[2] as string, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return dotted ? (dotted[1] as string) : null;
}

/** Why the master may not connect to this address, or null when it may. */
export function forbiddenAddress(address: string): string | null {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = isIP(ip);
  if (family === 0) return null;
  const v4 = family === 6 ? unmapped(ip) : ip;
  const blocked = v4 !== null ? FORBIDDEN.check(v4, 'ipv4') : FORBIDDEN.check(ip, 'ipv6');
  return blocked ? `${ip} is a link-local (cloud metadata) address, which notifications may not reach` : null;
}

type Lookup = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The socket's lookup: resolves the name and refuses it when any of its addresses is forbidden. */
function guardedLookup(resolve: Lookup) {
  return (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    resolve(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err);
      const refused = addresses.map((a) => forbiddenAddress(a.address)).find((why) => why !== null);
      if (refused) return callback(Object.assign(new Error(`${hostname} resolves to ${refused.split(' ')[0]}: ${refused.slice(refused.indexOf(' ') + 1)}`), { code: 'TITAN_FORBIDDEN' }));
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

export interface PosterOptions {
  timeoutMs: number;
  /** DNS resolution (node:dns lookup); replaceable so tests can make a name resolve anywhere. */
  lookup?: Lookup;
}

/** A poster for the master's notifications system. */
export function notificationPoster(options: PosterOptions): (request: PostRequest) => Promise<PostOutcome> {
  const resolve = options.lookup ?? (dnsLookup as unknown as Lookup);
  return (req) => postOnce(req, options.timeoutMs, resolve);
}

function postOnce(req: PostRequest, timeoutMs: number, resolve: Lookup): Promise<PostOutcome> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.resolve({ status: null, error: 'not a URL', final: true });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve({ status: null, error: `only http and https URLs are allowed, not ${url.protocol}`, final: true });
  // An address written in the URL is connected to without a lookup: check it here.
  const literal = forbiddenAddress(url.hostname);
  if (literal) return Promise.resolve({ status: null, error: literal, final: true });
  return new Promise((done) => {
    let settled = false;
    const finish = (outcome: PostOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      done(outcome);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(url, { method: 'POST', headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) }, lookup: guardedLookup(resolve) as never, agent: false }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        // The status is known; what follows past the cap is not read.
        if (read >= MAX_RESPONSE_BYTES) {
          res.destroy();
          finish(outcomeOf(status, res));
        }
      });
      res.on('end', () => finish(outcomeOf(status, res)));
      res.on('error', () => finish(outcomeOf(status, res)));
      res.on('close', () => finish(outcomeOf(status, res)));
    });
    const deadline = setTimeout(() => {
      outgoing.destroy();
      finish({ status: null, error: `no answer within ${timeoutMs / 1000} s` });
    }, timeoutMs);
    deadline.unref();
    outgoing.on('error', (err: NodeJS.ErrnoException) => finish({ status: null, error: err.message, ...(err.code === 'TITAN_FORBIDDEN' && { final: true }) }));
    outgoing.end(req.body);
  });
}

function outcomeOf(status: number, res: IncomingMessage): PostOutcome {
  if (status >= 200 && status < 300) return { status, error: null };
  if (status >= 300 && status < 400) return { status, error: `answered ${status} (a redirect${res.headers.location ? ` to ${String(res.headers.location).slice(0, 200)}` : ''}), which is not followed`, final: true };
  return { status, error: `answered ${status}` };
}
