/**
 * The audit log and named identities moved from a master's data directory into its store: on the
 * first start with `audit.log` or `identities.json` there, their contents are added to the store
 * and each file is renamed `*.imported`, so that nothing is lost and nothing is imported twice. An
 * import cut short is simply done again: identities are added only under names the store does not
 * have, and audit batches are named by their content, so the store applies each once.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AccessStore, AuditDraft } from '../store/access-store.js';
import { AUDIT_KEEP, AuditEntrySchema } from './audit-log.js';
import { StoredToken, StoredUser } from './identities.js';

/** How much of the end of `audit.log` is imported: its newest entries, as much as the master showed before. */
const AUDIT_TAIL_BYTES = 4 * 1024 * 1024;
const IMPORT_BATCH = 500;

const IdentitiesFile = z.object({ tokens: z.array(StoredToken), users: z.array(StoredUser) });

/** Imports what the data directory still holds in files; says in the log what it did. */
export async function importAccessFiles(store: AccessStore, dataDir: string, log: (line: string) => void): Promise<void> {
  await importIdentities(store, join(dataDir, 'identities.json'), log);
  await importAudit(store, join(dataDir, 'audit.log'), log);
}

async function importIdentities(store: AccessStore, file: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(file)) return;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    json = err;
  }
  const parsed = IdentitiesFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is damaged: ${parsed.error.issues[0]?.message ?? 'unreadable'}; restore it from a backup or remove it (its tokens and users are then gone)`);
  const rows = [...parsed.data.tokens.map((t) => ({ kind: 'token' as const, name: t.name, body: JSON.stringify(t) })), ...parsed.data.users.map((u) => ({ kind: 'user' as const, name: u.name, body: JSON.stringify(u) }))];
  const kept: string[] = [];
  for (const row of rows) if (!(await store.identityAdd(row))) kept.push(`${row.kind} ${row.name}`);
  renameSync(file, `${file}.imported`);
  log(`imported ${rows.length - kept.length} named token(s) and user(s) from ${file} into the store (renamed ${file}.imported)${kept.length > 0 ? `; the store's own ${kept.join(', ')} kept` : ''}`);
}

async function importAudit(store: AccessStore, file: string, log: (line: string) => void): Promise<void> {
  if (!existsSync(file)) return;
  const drafts = readTail(file).flatMap((line): AuditDraft[] => {
    if (line.trim() === '') return [];
    try {
      const parsed = AuditEntrySchema.safeParse(JSON.parse(line));
      if (!parsed.success) return [];
      const { at, who, kind, via, from, action, target, ok, error } = parsed.data;
      return [{ at, who, kind, via, from, action, target, ok, ...(error !== undefined && { error }) }];
    } catch {
      // A line cut by a crash mid-write: the entries around it still count.
      return [];
    }
  });
  for (let i = 0; i < drafts.length; i += IMPORT_BATCH) {
    const entries = drafts.slice(i, i + IMPORT_BATCH);
    const id = `import-${createHash('sha256').update(JSON.stringify(entries)).digest('hex')}`;
    await store.auditAppend({ id, entries, keep: AUDIT_KEEP });
  }
  renameSync(file, `${file}.imported`);
  log(`imported ${drafts.length} audit entries from ${file} into the store (renamed ${file}.imported)`);
}

/** The lines of the file's last AUDIT_TAIL_BYTES, the first one dropped when it was cut. */
function readTail(file: string): string[] {
  const size = statSync(file).size;
  const length = Math.min(size, AUDIT_TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buffer.toString('utf8').split('\n');
  if (length < size) lines.shift();
  return lines;
}
