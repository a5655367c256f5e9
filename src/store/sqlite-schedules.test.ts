/**
 * What is specific to schedules in SQLite (the table of migration 6). The behaviour every store
 * shares is in store.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { schedule } from '../../test/helpers/store-fixtures.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

let dir: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'titan-schedules-'));
  opened = [];
});

afterEach(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite schedules table', () => {
  it('is created by migration 6 and refuses a paused flag other than 0 or 1', async () => {
    const store = SqliteStore.open(join(dir, 'titan.db'));
    opened.push(store);
    await store.putSchedule(schedule('a'));
    const db = new Database(join(dir, 'titan.db'));
    try {
      expect(db.prepare('SELECT name FROM schema_migrations WHERE version = 6').get()).toEqual({ name: 'schedules' });
      expect(() => db.prepare("UPDATE schedules SET paused = 2 WHERE name = 'a'").run()).toThrow(/CHECK/);
    } finally {
      db.close();
    }
  });
});
