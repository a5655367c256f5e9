import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord } from './audit-log.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const action = (n: number): AuditRecord => ({ who: 'ana', kind: 'user', via: 'http', from: '127.0.0.1', action: 'run.cancel', target: `r${n}`, ok: true });
const lines = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n');

describe('AuditLog', () => {
  it('writes every entry once, lists the newest first, and numbers on from the file after a restart', async () => {
    const file = join(dir, 'audit.log');
    const log = new AuditLog(file);
    for (let n = 1; n <= 5; n++) log.record(action(n));
    await log.flushed();
    expect(lines(file)).toHaveLength(5);
    expect(log.list(2).map((e) => e.target)).toEqual(['r5', 'r4']);
    const again = new AuditLog(file);
    again.record(action(6));
    await again.flushed();
    expect(again.list(10).map((e) => e.seq)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(lines(file)).toHaveLength(6);
  });

  it('keeps what it could not write, says so once, and writes it with the next entry', async () => {
    const file = join(dir, 'later', 'audit.log');
    const said: string[] = [];
    const log = new AuditLog(file, Date.now, (line) => said.push(line));
    log.record(action(1));
    log.record(action(2));
    await log.flushed();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/could not be written .*ENOENT/);
    expect(log.list(10)).toHaveLength(2);
    mkdirSync(join(dir, 'later'));
    log.record(action(3));
    await log.flushed();
    expect(lines(file).map((l) => (JSON.parse(l) as { target: string }).target)).toEqual(['r1', 'r2', 'r3']);
  });
});
