import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRETS_KEY_FILE, secretKeysOf } from './secret-key.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = (): string => (dir = mkdtempSync(join(tmpdir(), 'titan-secret-key-')));

describe('the secrets key', () => {
  it('is created 0600 in the data directory on first use, and read back after', () => {
    const data = join(fresh(), 'data');
    const keys = secretKeysOf(data, {});
    expect(existsSync(join(data, SECRETS_KEY_FILE))).toBe(false);
    const key = keys.current();
    expect(key).toHaveLength(32);
    expect(statSync(join(data, SECRETS_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(secretKeysOf(data, {}).current().equals(key)).toBe(true);
  });

  it('comes from TITAN_SECRETS_KEY when set, and then no file is made', () => {
    const data = fresh();
    const given = randomBytes(32);
    expect(secretKeysOf(data, { TITAN_SECRETS_KEY: given.toString('base64') }).current().equals(given)).toBe(true);
    expect(existsSync(join(data, SECRETS_KEY_FILE))).toBe(false);
  });

  it('refuses a key file others may read, saying to make it private and rotate', () => {
    const data = fresh();
    writeFileSync(join(data, SECRETS_KEY_FILE), `${randomBytes(32).toString('base64')}\n`);
    chmodSync(join(data, SECRETS_KEY_FILE), 0o644);
    expect(() => secretKeysOf(data, {})).toThrow(/may be read by others \(mode 644\).*chmod 600.*rotate/);
  });

  it('refuses keys that are not the base64 of 32 bytes', () => {
    const data = fresh();
    expect(() => secretKeysOf(data, { TITAN_SECRETS_KEY: randomBytes(16).toString('base64') })).toThrow(/TITAN_SECRETS_KEY is not a secrets key/);
    expect(() => secretKeysOf(data, { TITAN_SECRETS_KEY: 'not base64 at all!' })).toThrow(/not a secrets key/);
    expect(() => secretKeysOf(data, { TITAN_SECRETS_KEY_PREVIOUS: 'short' })).toThrow(/TITAN_SECRETS_KEY_PREVIOUS is not a secrets key/);
    writeFileSync(join(data, SECRETS_KEY_FILE), 'garbage\n', { mode: 0o600 });
    expect(() => secretKeysOf(data, {}).current()).toThrow(/is not a secrets key/);
    expect(readFileSync(join(data, SECRETS_KEY_FILE), 'utf8')).toBe('garbage\n');
  });

  it('carries the previous key for a rotation', () => {
    const data = fresh();
    const previous = randomBytes(32);
    const keys = secretKeysOf(data, { TITAN_SECRETS_KEY: randomBytes(32).toString('base64'), TITAN_SECRETS_KEY_PREVIOUS: previous.toString('base64') });
    expect(keys.previous?.equals(previous)).toBe(true);
  });
});
