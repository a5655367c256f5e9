import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, open, seal } from './secret-box.js';

describe('secret box (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and never holds the plaintext', () => {
    const sealed = seal(key, 'API_KEY', 'sk-plain-value');
    expect(open(key, 'API_KEY', sealed)).toBe('sk-plain-value');
    expect(JSON.stringify(sealed)).not.toContain('sk-plain-value');
    expect(Buffer.from(sealed.data, 'base64').toString('utf8')).not.toContain('sk-plain');
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
  });

  it('takes a fresh IV for every value, so equal values do not look equal', () => {
    const a = seal(key, 'A', 'same');
    const b = seal(key, 'A', 'same');
    expect(a.iv).not.toBe(b.iv);
    expect(a.data).not.toBe(b.data);
  });

  it('binds a value to its name: moved to another name, it does not open', () => {
    const sealed = seal(key, 'API_KEY', 'value');
    expect(() => open(key, 'OTHER_KEY', sealed)).toThrow(/OTHER_KEY does not decrypt: it was altered/);
  });

  it('refuses an altered ciphertext or tag', () => {
    const sealed = seal(key, 'K', 'value');
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = (data[0] as number) ^ 1;
    expect(() => open(key, 'K', { ...sealed, data: data.toString('base64') })).toThrow(/altered/);
    const tag = Buffer.from(sealed.tag, 'base64');
    tag[0] = (tag[0] as number) ^ 1;
    expect(() => open(key, 'K', { ...sealed, tag: tag.toString('base64') })).toThrow(/altered/);
  });

  it('says when a value was sealed with another key, naming both fingerprints', () => {
    const other = randomBytes(32);
    const sealed = seal(other, 'K', 'value');
    expect(() => open(key, 'K', sealed)).toThrow(`secret K was encrypted with another key (${keyIdOf(other)}) than this master's (${keyIdOf(key)})`);
  });
});
