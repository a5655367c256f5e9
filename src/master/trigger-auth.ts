/**
 * How a delivery proves its sender, checked in constant time: a GitHub-style signature
 * (`X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body keyed by a secret's
 * value) or a bearer token, of which the master keeps only the sha256.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;
const BEARER = /^Bearer\s+(\S+)$/i;

/** Why the signature does not prove the body was sent by a holder of `key`; null when it does. */
export function signatureProblem(header: string | undefined, key: string, body: Buffer): string | null {
  if (header === undefined) return 'the request is not signed: send X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body, keyed by the shared secret>';
  const m = SIGNATURE.exec(header.trim());
  if (!m) return 'X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits';
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from((m[1] as string).toLowerCase(), 'hex');
  return timingSafeEqual(expected, given) ? null : 'the signature does not match the body: check that the sender signs with the same secret, over the raw body';
}

/** Why the Authorization header does not carry the token whose sha256 is `tokenHash`; null when it does. */
export function bearerProblem(header: string | undefined, tokenHash: string): string | null {
  if (header === undefined) return 'the request carries no token: send Authorization: Bearer <the token printed when the trigger was created>';
  const m = BEARER.exec(header.trim());
  if (!m) return 'the Authorization header must be "Bearer <token>"';
  const given = createHash('sha256').update(m[1] as string).digest();
  return timingSafeEqual(given, Buffer.from(tokenHash, 'hex')) ? null : "the bearer token is not this trigger's";
}

/** A new bearer token and the hash the master keeps of it. */
export function newBearerToken(): { token: string; hash: string } {
  const token = `tth_${randomBytes(32).toString('base64url')}`;
  return { token, hash: createHash('sha256').update(token).digest('hex') };
}

/** A submission's request id for a delivery's idempotency key: one per trigger and key, of bounded length. */
export const requestIdOf = (trigger: string, key: string): string => `hook:${createHash('sha256').update(`${trigger}\n${key}`).digest('hex')}`;
