import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirLockedError, lockDir } from './dir-lock.js';

const MASTER = { role: 'master', option: '--data-dir' };

describe('lockDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'titan-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the directory with this process\'s pid until released', () => {
    const release = lockDir(dir, MASTER);
    expect(readFileSync(join(dir, 'master.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    release();
    expect(existsSync(join(dir, 'master.lock'))).toBe(false);
  });

  it('refuses a directory another live process holds, naming it and the option', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'master.lock'), `${other.pid}\n`);
      expect(() => lockDir(dir, MASTER)).toThrow(DirLockedError);
      expect(() => lockDir(dir, MASTER)).toThrow(`${dir} is in use by another master (pid ${other.pid}); stop it first, or choose another directory with --data-dir (if pid ${other.pid} is no master, delete ${dir}/master.lock)`);
      // The holder's lock is left as it was.
      expect(readFileSync(join(dir, 'master.lock'), 'utf8')).toBe(`${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
  });

  it('takes over a lock whose process is gone', async () => {
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(join(dir, 'master.lock'), `${gone.pid}\n`);
    const release = lockDir(dir, MASTER);
    expect(readFileSync(join(dir, 'master.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    release();
  });

  it('takes over a lock whose pid now names another process (one that started at another time)', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'master.lock'), `${other.pid} 1\n`);
      const release = lockDir(dir, MASTER);
      expect(readFileSync(join(dir, 'master.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      release();
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
  });

  it('a release after another took the lock over leaves theirs alone', () => {
    const release = lockDir(dir, MASTER);
    writeFileSync(join(dir, 'master.lock'), '1\n');
    release();
    expect(readFileSync(join(dir, 'master.lock'), 'utf8')).toBe('1\n');
  });
});
