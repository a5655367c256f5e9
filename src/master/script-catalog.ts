/**
 * Every script the cluster knows, for the constructor: the script library, the uploads and the
 * scripts past runs carried (by name and content hash, from their job specs, the content in the
 * blob store). One name resolves to one version, the one a pipeline's `file: <name>` deploys: the
 * library's, else the uploads', else the newest run's whose content the blob store still has.
 */
import { createHash } from 'node:crypto';
import type { RunRecord } from '../core/model.js';
import type { RunPosition, Store } from '../store/store.js';
import type { BlobStore } from './blob-store.js';
import type { FileArea } from './file-area.js';

export type ScriptSource = 'library' | 'upload' | 'run';

export interface KnownScript {
  name: string;
  sha256: string;
  /** Bytes; null when the content is gone from the blob store. */
  size: number | null;
  source: ScriptSource;
  /** When the file was last written (library, uploads), or when the run that carried it was created. */
  at: number;
  /** The newest run that carried this version (run scripts only). */
  runId?: string;
  runName?: string;
  /** False for a run's script whose content the blob store no longer has: it cannot be deployed. */
  available: boolean;
  /** The version `file: <name>` deploys. */
  current: boolean;
}

export interface CatalogListing {
  scripts: KnownScript[];
  /** More scripts (or runs to look through) than were returned. */
  truncated: boolean;
  /** How many of the newest runs were looked through. */
  runsScanned: number;
}

/** The content a name deploys: its hash and where it was found. */
export interface Resolved {
  name: string;
  sha256: string;
  source: ScriptSource;
}

interface RunScripts {
  runId: string;
  runName: string;
  createdAt: number;
  scripts: { name: string; sha256: string }[];
}

/** Archives are run by an entry inside them, never as a file of their own. */
const isArchive = (name: string): boolean => name.toLowerCase().endsWith('.zip');

const SCAN_PAGE = 100;

export class ScriptCatalog {
  /** The scripts of finished runs: their specs no longer change. */
  private readonly finished = new Map<string, RunScripts>();
  /** Hashes of the master's files by name, size and modification time. */
  private readonly hashes = new Map<string, { key: string; sha256: string }>();

  constructor(
    private readonly parts: { store: Store; blobs: BlobStore; library: FileArea; uploads: FileArea },
    /** The newest runs looked through at most. */
    private readonly maxRuns = 500,
    /** Jobs read from the store at most per listing (runs already read are remembered): a cluster of huge runs is looked through over several listings, never in one long stall. */
    private readonly maxJobsRead = 20_000,
  ) {}

  /** Every known script, newest first, one entry per name and content, at most `limit`. */
  async list(limit: number): Promise<CatalogListing> {
    const { entries, runsScanned, moreRuns } = await this.collect();
    return { scripts: entries.slice(0, limit), truncated: moreRuns || entries.length > limit, runsScanned };
  }

  /** A known script's content by its hash: from the blob store, else the library's or the uploads' file of that content. */
  async content(sha256: string): Promise<Buffer | null> {
    const size = this.parts.blobs.sizeOf(sha256);
    if (size !== null) return this.parts.blobs.read(sha256, 0, size).data;
    const { entries } = await this.collect();
    const file = entries.find((e) => e.sha256 === sha256 && e.source !== 'run');
    return file ? (file.source === 'library' ? this.parts.library : this.parts.uploads).get(file.name) : null;
  }

  /** The version `file: <name>` deploys, or null when the cluster has no content of that name. */
  async resolver(): Promise<(name: string) => Resolved | null> {
    const { entries } = await this.collect();
    const current = new Map(entries.filter((e) => e.current).map((e) => [e.name, e]));
    return (name) => {
      const e = current.get(name);
      return e ? { name, sha256: e.sha256, source: e.source } : null;
    };
  }

  private async collect(): Promise<{ entries: KnownScript[]; runsScanned: number; moreRuns: boolean }> {
    const seen = new Set<string>();
    const entries: KnownScript[] = [];
    const add = (e: Omit<KnownScript, 'current'>): void => {
      const id = `${e.name}\0${e.sha256}`;
      if (seen.has(id)) return;
      seen.add(id);
      entries.push({ ...e, current: false });
    };
    for (const [source, area] of [
      ['library', this.parts.library],
      ['upload', this.parts.uploads],
    ] as const) {
      for (const f of area.list()) {
        if (source === 'upload' && isArchive(f.name)) continue;
        const sha256 = this.hashOf(source, area, f);
        if (sha256 !== null) add({ name: f.name, sha256, size: f.size, source, at: f.modifiedAt, available: true });
      }
    }
    const { runs, moreRuns } = await this.runScripts();
    for (const run of runs) {
      for (const s of run.scripts) {
        const size = this.parts.blobs.sizeOf(s.sha256);
        add({ name: s.name, sha256: s.sha256, size, source: 'run', at: run.createdAt, runId: run.runId, runName: run.runName, available: size !== null });
      }
    }
    // Library before uploads before runs (newest first): the first available entry of a name is what deploys.
    const named = new Set<string>();
    for (const e of entries) {
      if (!e.available || named.has(e.name)) continue;
      named.add(e.name);
      e.current = true;
    }
    entries.sort((a, b) => b.at - a.at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries, runsScanned: runs.length, moreRuns };
  }

  private hashOf(source: ScriptSource, area: FileArea, f: { name: string; size: number; modifiedAt: number }): string | null {
    const id = `${source}/${f.name}`;
    const key = `${f.size}:${f.modifiedAt}`;
    const cached = this.hashes.get(id);
    if (cached?.key === key) return cached.sha256;
    const data = area.get(f.name);
    if (data === null) return null;
    const sha256 = createHash('sha256').update(data).digest('hex');
    this.hashes.set(id, { key, sha256 });
    return sha256;
  }

  /** The scripts of the newest runs, newest first; `moreRuns` when older runs were not looked at. */
  private async runScripts(): Promise<{ runs: RunScripts[]; moreRuns: boolean }> {
    const out: RunScripts[] = [];
    let after: RunPosition | undefined;
    let moreRuns = false;
    const budget = { jobs: this.maxJobsRead };
    for (;;) {
      const want = Math.min(SCAN_PAGE, this.maxRuns - out.length);
      const page = await this.parts.store.listRuns({ limit: want === 0 ? 1 : want, ...(after && { after }) });
      if (want === 0) {
        moreRuns = page.length > 0;
        break;
      }
      let spent = false;
      for (const { run } of page) {
        if (budget.jobs <= 0) {
          spent = true;
          break;
        }
        out.push(this.finished.get(run.runId) ?? (await this.scriptsOf(run, budget)));
      }
      if (spent) {
        moreRuns = true;
        break;
      }
      const last = page.at(-1);
      if (page.length < want || !last) break;
      after = { createdAt: last.run.createdAt, runId: last.run.runId };
    }
    // Only runs still among the newest stay cached (deleted ones drop out).
    const kept = new Set(out.map((r) => r.runId));
    for (const id of this.finished.keys()) if (!kept.has(id)) this.finished.delete(id);
    return { runs: out, moreRuns };
  }

  private async scriptsOf(run: RunRecord, budget: { jobs: number }): Promise<RunScripts> {
    const scripts = new Map<string, { name: string; sha256: string }>();
    const jobs = await this.parts.store.getRunJobs(run.runId);
    budget.jobs -= jobs.length;
    for (const j of jobs) if (j.spec.script) scripts.set(`${j.spec.script.name}\0${j.spec.script.sha256}`, j.spec.script);
    const entry: RunScripts = { runId: run.runId, runName: run.name, createdAt: run.createdAt, scripts: [...scripts.values()] };
    if (run.finishedAt !== null) this.finished.set(run.runId, entry);
    return entry;
  }
}
