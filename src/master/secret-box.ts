/**
 * Secrets at rest: AES-256-GCM (node:crypto) with a random 12-byte IV per value and the secret's
 * name as associated data, so a value moved to another name does not decrypt. Each sealed value
 * names its key by a short fingerprint, so a master holding another key says so instead of
 * failing with a bare authentication error.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const ALGORITHM = 'aes-256-gcm';

/** A sealed value as the store keeps it (base64 fields). */
export const SealedSchema = z.strictObject({
  key: z.string().max(64),
  iv: z.string().max(64),
  tag: z.string().max(64),
  data: z.string().max(200_000),
});
export type Sealed = z.infer<typeof SealedSchema>;

/** A key's fingerprint: enough to tell keys apart, nothing to learn the key from. */
export const keyIdOf = (key: Buffer): string => createHash('sha256').update('titan secrets key').update(key).digest('hex').slice(0, 16);

export function seal(key: Buffer, name: string, value: string): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { key: keyIdOf(key), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The value, or an error saying why it cannot be read (another key, or altered). */
export function open(key: Buffer, name: string, sealed: Sealed): string {
  if (sealed.key !== keyIdOf(key)) throw new Error(`secret ${name} was encrypted with another key (${sealed.key}) than this master's (${keyIdOf(key)}): every master needs the same secrets key`);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`secret ${name} does not decrypt: it was altered in the store; set it again`);
  }
}
