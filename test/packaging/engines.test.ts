/**
 * Every package `npm ci` installs must run on the oldest Node that package.json promises; one
 * that does not makes npm print EBADENGINE and may not load. When a dependency's new release drops
 * Node 20, this fails and names it, so it is pinned (package.json `overrides`) before users see it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** `path@version (wants range)` for each locked package whose engines exclude `node`. */
function excluding(node: string): string[] {
  return Object.entries(lock.packages).flatMap(([path, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    return range === undefined || semver.satisfies(node, range) ? [] : [`${path}@${entry.version} (wants node ${range})`];
  });
}

describe('dependency engines', () => {
  const oldest = semver.minVersion(manifest.engines.node)?.version ?? '';

  it('package.json promises Node 20', () => {
    expect(semver.major(oldest)).toBe(20);
  });

  it('every locked package runs on the oldest Node that package.json promises', () => {
    expect(excluding(oldest)).toEqual([]);
  });

  it('and on the Node running the tests', () => {
    expect(excluding(process.versions.node)).toEqual([]);
  });
});
