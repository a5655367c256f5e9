import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClusterFlags, clusterConfig, masterConfig } from './cluster-options.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base: ClusterFlags = { servicePorts: [20_000, 29_999], scaleUpAfter: 10, idleStop: 120, legacyV1: false, maxLostAttempts: 10, maxConnections: 4096, maxConnectionsPerIp: 512, httpRequestTimeout: 60, minFreeMb: 256, maxLogsMb: 0, notifyRetryBase: 2, notifyTimeout: 10, metricsSample: 10 };

describe('dashboard flags', () => {
  it('reads the password from the first line of its file', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'p@ss word\nignored\n');
    expect(clusterConfig({ ...base, uiUser: 'ana', uiPasswordFile: file }).ui).toEqual({ user: 'ana', password: 'p@ss word' });
    writeFileSync(file, 'crlf\r\n');
    expect(clusterConfig({ ...base, uiUser: 'ana', uiPasswordFile: file }).ui?.password).toBe('crlf');
    expect(clusterConfig(base).ui).toBeUndefined();
    expect(clusterConfig({ ...base, webDir: 'web-build' }).webDir).toBe('web-build');
  });

  it('refuses a user without a password file, the other way round, an unreadable or empty file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\nsecond line\n');
    expect(() => clusterConfig({ ...base, uiUser: 'ana' })).toThrow(/--ui-user needs --ui-password-file/);
    expect(() => clusterConfig({ ...base, uiPasswordFile: empty })).toThrow(/--ui-password-file needs --ui-user/);
    expect(() => clusterConfig({ ...base, uiUser: 'ana', uiPasswordFile: join(dir, 'missing') })).toThrow(/cannot read .*ENOENT/);
    expect(() => clusterConfig({ ...base, uiUser: 'ana', uiPasswordFile: empty })).toThrow(/first line .* is empty/);
    expect(() => clusterConfig({ ...base, uiUser: 'a\nb', uiPasswordFile: empty })).toThrow(/printable/);
  });
});

describe('the MasterConfig of the command line', () => {
  it("keeps the master's settings but those the command reads itself, and none of a local worker's", () => {
    const upSettings = { ...base, dataDir: 'd', host: '127.0.0.1', port: 0, httpPort: 0, token: 'from-flag', pidFile: 'p', workerTimeout: 10, reclaimGrace: 15, maxArtifactMb: 512, maxLogMb: 128, slots: 8 };
    const config = masterConfig(upSettings, 'resolved');
    expect(config).toMatchObject({ dataDir: 'd', port: 0, workerTimeout: 10, servicePorts: [20_000, 29_999], token: 'resolved' });
    expect(Object.keys(config)).not.toContain('pidFile');
    expect(Object.keys(config)).not.toContain('slots');
    expect(masterConfig({ ...upSettings, token: undefined }, undefined).token).toBeUndefined();
  });
});
