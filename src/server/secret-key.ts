/**
 * The master's secrets key: TITAN_SECRETS_KEY (the base64 of 32 bytes) when set, else the file
 * `secrets.key` of the data directory, created (mode 0600) the first time a secret is set or read.
 * A key file that others may read is refused rather than quietly closed: its key may have been
 * read, and only a rotation mends that. TITAN_SECRETS_KEY_PREVIOUS names the key being rotated away.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../core/errors.js';
import type { SecretKeys } from '../master/systems/secrets.js';
import { SECRET_KEY_BYTES } from '../master/secret-box.js';

export const SECRETS_KEY_FILE = 'secrets.key';
const HOW = 'the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)';

/** `text` as a key, or an error naming `source`. */
function keyOf(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== SECRET_KEY_BYTES) throw new SetupError(`${source} is not a secrets key: it must be ${HOW}`);
  return key;
}

/** Checked now (a bad variable or an open key file stops the start); the file is created when first needed. */
export function secretKeysOf(dataDir: string, env: NodeJS.ProcessEnv): SecretKeys {
  const previous = env.TITAN_SECRETS_KEY_PREVIOUS ? keyOf(env.TITAN_SECRETS_KEY_PREVIOUS, 'TITAN_SECRETS_KEY_PREVIOUS') : null;
  if (env.TITAN_SECRETS_KEY) {
    const key = keyOf(env.TITAN_SECRETS_KEY, 'TITAN_SECRETS_KEY');
    return { current: () => key, previous };
  }
  const path = join(dataDir, SECRETS_KEY_FILE);
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new SetupError(`the secrets key ${path} may be read by others (mode ${mode.toString(8)}): make it private (chmod 600 ${path}) and, since it may have been read, rotate it (docs/operations.md)`);
  }
  let key: Buffer | null = null;
  return {
    current() {
      key ??= loadOrCreate(path, dataDir);
      return key;
    },
    previous,
  };
}

function loadOrCreate(path: string, dataDir: string): Buffer {
  if (existsSync(path)) return keyOf(readFileSync(path, 'utf8'), path);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(SECRET_KEY_BYTES);
  // `wx`: should another process have just made one, its key is read rather than replaced.
  try {
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return keyOf(readFileSync(path, 'utf8'), path);
    throw err;
  }
  return key;
}
