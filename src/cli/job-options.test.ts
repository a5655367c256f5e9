import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refuseOverlap } from './job-options.js';

const root = mkdtempSync(join(tmpdir(), 'titan-overlap-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a worker's work directory and the master's data directory", () => {
  it('may sit side by side, even when one name starts with the other', () => {
    expect(() => refuseOverlap(join(root, 'titan-data'), join(root, 'titan-data-worker'))).not.toThrow();
  });

  it('never one inside the other, whichever way round and through links', () => {
    const data = join(root, 'data');
    mkdirSync(data);
    expect(() => refuseOverlap(data, join(data, 'worker'))).toThrow(`the work directory ${join(data, 'worker')} is inside the data directory ${data}`);
    expect(() => refuseOverlap(data, data)).toThrow(/is inside the data directory/);
    expect(() => refuseOverlap(join(root, 'w', 'data'), join(root, 'w'))).toThrow(`the data directory ${join(root, 'w', 'data')} is inside the work directory ${join(root, 'w')}`);
    symlinkSync(data, join(root, 'link'));
    expect(() => refuseOverlap(data, join(root, 'link', 'worker'))).toThrow(/is inside the data directory/);
  });
});
