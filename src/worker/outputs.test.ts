import { chownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutput } from './outputs.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening an output file to publish it', () => {
  it('never follows a link, even one swapped in after the folder was read', async () => {
    writeFileSync(join(dir, 'secret'), 'not an output');
    symlinkSync(join(dir, 'secret'), join(dir, 'link'));
    await expect(openOutput(join(dir, 'link'), null)).rejects.toThrow('not a regular file (symbolic links are not followed)');
    await (await openOutput(join(dir, 'secret'), null)).close();
  });

  it.skipIf(process.getuid?.() !== 0)("publishes only the job user's own files when jobs run as another user", async () => {
    const nobody = { uid: 65534, gid: 65534 };
    writeFileSync(join(dir, 'theirs'), 'output');
    chownSync(join(dir, 'theirs'), nobody.uid, nobody.gid);
    await (await openOutput(join(dir, 'theirs'), nobody)).close();
    await expect(openOutput(join(dir, 'secret'), nobody)).rejects.toThrow("not the job's own file (owned by uid 0)");
  });
});
