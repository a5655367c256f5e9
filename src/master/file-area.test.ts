import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileArea } from './file-area.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-area-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileArea.read', () => {
  it('reads only the chunk asked for, with the size of the whole file', () => {
    const area = new FileArea(join(dir, 'uploads'), 1 << 20);
    area.put('data.bin', Buffer.from('0123456789'));
    expect(area.read('data.bin', 0, 4)).toEqual({ data: Buffer.from('0123'), size: 10 });
    expect(area.read('data.bin', 8, 4)).toEqual({ data: Buffer.from('89'), size: 10 });
    expect(area.read('data.bin', 10, 4)).toEqual({ data: Buffer.alloc(0), size: 10 });
    expect(area.read('data.bin', 50, 4)).toEqual({ data: Buffer.alloc(0), size: 10 });
    expect(area.read('missing.bin', 0, 4)).toBeNull();
    expect(() => area.read('../escape', 0, 4)).toThrow(/invalid file name/);
  });
});
