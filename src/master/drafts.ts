/**
 * The constructor's drafts on the master (Titan's saved constructor layouts): named JSON
 * documents, one file each under `<data-dir>/drafts/`. The content (`{nodes, edges, ...}` as the
 * page sends it) is opaque here, only its size is limited. A draft's file name is a hash of its
 * name, so any valid name is a safe file name on every file system; the name is kept inside.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { makePrivateDir, replaceFile } from './disk-writes.js';

/** The largest draft content, as JSON (bytes). */
export const MAX_DRAFT_BYTES = 1024 * 1024;

export const DraftNameSchema = z
  .string()
  .min(1, 'a draft name is 1 to 100 characters')
  .max(100, 'a draft name is 1 to 100 characters')
  .regex(/^[\p{L}\p{N} _.-]+$/u, 'a draft name contains only letters, digits, spaces and "_ . -"')
  .refine((n) => n.trim() === n, 'a draft name does not start or end with a space');

export interface DraftInfo {
  name: string;
  savedAt: number;
}

export interface Draft extends DraftInfo {
  content: unknown;
}

const StoredSchema = z.object({ name: DraftNameSchema, savedAt: z.number(), content: z.unknown() });

export class Drafts {
  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
    /** Told about a draft file that cannot be read (it is left out of the list). */
    private readonly warn: (line: string) => void = () => undefined,
  ) {
    makePrivateDir(dir);
  }

  /** Throws BAD_REQUEST unless `name` is a valid draft name. */
  static check(name: string): string {
    const parsed = DraftNameSchema.safeParse(name);
    if (!parsed.success) throw new TitanError('BAD_REQUEST', `invalid draft name "${name.slice(0, 100)}": ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  /** Every readable draft, newest first (then by name). */
  list(): DraftInfo[] {
    const out: DraftInfo[] = [];
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const draft = this.readFile(file);
      if (draft) out.push({ name: draft.name, savedAt: draft.savedAt });
    }
    return out.sort((a, b) => b.savedAt - a.savedAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Draft {
    const draft = this.readFile(this.fileOf(Drafts.check(name)));
    if (!draft || draft.name !== name) throw new TitanError('NOT_FOUND', `no draft "${name}"`);
    return draft;
  }

  /** Creates or replaces a draft. */
  put(name: string, content: unknown): DraftInfo {
    Drafts.check(name);
    if (content === undefined) throw new TitanError('BAD_REQUEST', 'a draft needs content');
    const json = JSON.stringify(content);
    const size = Buffer.byteLength(json);
    if (size > MAX_DRAFT_BYTES) throw new TitanError('BAD_REQUEST', `the draft is ${size} bytes of JSON; the limit is ${MAX_DRAFT_BYTES}`);
    const draft: Draft = { name, savedAt: this.now(), content };
    this.write(draft);
    return { name, savedAt: draft.savedAt };
  }

  /** Renames a draft; an existing draft of the new name is only replaced with `overwrite`. */
  rename(from: string, to: string, overwrite = false): DraftInfo {
    Drafts.check(to);
    const draft = this.get(from);
    if (from === to) return { name: to, savedAt: draft.savedAt };
    if (!overwrite && this.exists(to)) throw new TitanError('CONFLICT', `a draft "${to}" exists; rename with overwrite to replace it`);
    this.write({ ...draft, name: to });
    rmSync(join(this.dir, this.fileOf(from)), { force: true });
    return { name: to, savedAt: draft.savedAt };
  }

  delete(name: string): void {
    this.get(name);
    rmSync(join(this.dir, this.fileOf(name)), { force: true });
  }

  private exists(name: string): boolean {
    return this.readFile(this.fileOf(name))?.name === name;
  }

  private fileOf(name: string): string {
    return `${createHash('sha256').update(name).digest('hex').slice(0, 40)}.json`;
  }

  private write(draft: Draft): void {
    replaceFile(join(this.dir, this.fileOf(draft.name)), JSON.stringify(draft), this.dir);
  }

  private readFile(file: string): Draft | null {
    let text: string;
    try {
      text = readFileSync(join(this.dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const parsed = StoredSchema.safeParse(JSON.parse(text));
      if (parsed.success) return { name: parsed.data.name, savedAt: parsed.data.savedAt, content: parsed.data.content };
    } catch {
      // reported below
    }
    this.warn(`draft file ${file} is not a readable draft; it is left out`);
    return null;
  }
}
