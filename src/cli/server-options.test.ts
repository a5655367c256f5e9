import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { CLIENT_TLS_SETTINGS } from '../config/client-settings.js';
import { MASTER_SETTINGS } from '../config/master-settings.js';
import { settingsSchema, type Setting } from '../config/setting.js';
import { LEFT_OUT_OF_UP, WORKER_SETTINGS } from '../config/worker-settings.js';
import { registerServerCommands } from './server-commands.js';

const program = new Command('titan');
registerServerCommands(program);
const command = (name: string): Command => program.commands.find((c) => c.name() === name) as Command;
const options = (name: string): Map<string, Option> => new Map(command(name).options.map((o) => [o.long ?? '', o]));
const longFlag = (s: Setting): string => s.flag.split(' ')[0] as string;
/** What `titan up` deliberately says otherwise: it listens on loopback, and its worker's folder is beside its data directory. */
const UP_OWN_DEFAULTS = ['--host', '--work-dir'];

describe('titan up, master and worker options', () => {
  it('gives every setting the attribute its table names it by', () => {
    for (const [name, table] of [['master', MASTER_SETTINGS], ['worker', WORKER_SETTINGS], ['worker', CLIENT_TLS_SETTINGS]] as const) {
      for (const [key, s] of Object.entries(table as Record<string, Setting>)) expect(options(name).get(longFlag(s))?.attributeName()).toBe(key);
    }
  });

  it('titan up offers every master option, with the same default', () => {
    const master = options('master');
    const up = options('up');
    expect(master.size).toBe(Object.keys(MASTER_SETTINGS).length);
    for (const [flag, option] of master) {
      expect(up.has(flag), flag).toBe(true);
      if (!UP_OWN_DEFAULTS.includes(flag)) expect([flag, up.get(flag)?.defaultValue, up.get(flag)?.defaultValueDescription]).toEqual([flag, option.defaultValue, option.defaultValueDescription]);
    }
    expect(up.get('--host')?.defaultValue).toBe('127.0.0.1');
  });

  it("titan up offers every worker option of its local worker, with the same default, and no other", () => {
    const worker = options('worker');
    const up = options('up');
    const masterFlags = new Set(Object.values(MASTER_SETTINGS).map(longFlag));
    const leftOut = new Set(LEFT_OUT_OF_UP.map((key) => longFlag(WORKER_SETTINGS[key])));
    for (const [flag, option] of worker) {
      if (leftOut.has(flag)) {
        // Shared with the master's own (--port, --token, ...) or not offered at all.
        if (!masterFlags.has(flag)) expect(up.has(flag), flag).toBe(false);
        continue;
      }
      expect(up.has(flag), flag).toBe(true);
      if (!UP_OWN_DEFAULTS.includes(flag)) expect([flag, up.get(flag)?.defaultValue, up.get(flag)?.defaultValueDescription]).toEqual([flag, option.defaultValue, option.defaultValueDescription]);
    }
    expect(up.size).toBe(options('master').size + worker.size - leftOut.size);
  });

  it('parses the command line as the settings say, refusing a bad value with its rule', async () => {
    const up = new Command('titan').exitOverride();
    registerServerCommands(up);
    const upCommand = up.commands.find((c) => c.name() === 'up') as Command;
    upCommand.exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(up.parseAsync(['up', '--max-lost-attempts', 'x'], { from: 'user' })).rejects.toThrow(/must be a whole number from 0 to 1000/);
    await expect(up.parseAsync(['up', '--worker-timeout', '0'], { from: 'user' })).rejects.toThrow(/must be a positive number of seconds/);
    await expect(up.parseAsync(['up', '--keep-runs-hours', '0'], { from: 'user' })).rejects.toThrow(/--keep-runs-hours must be an integer from 1 to 87600/);
  });

  it('reads settings from texts with the same rules and defaults', () => {
    const schema = settingsSchema(WORKER_SETTINGS);
    expect(schema.parse({ slots: '8', drainTimeout: '1.5', passEnv: ['AWS_*'] })).toMatchObject({ slots: 8, drainTimeout: 1500, passEnv: ['AWS_*'], capabilities: 'GENERAL', permanent: false, keepRunsHours: 72 });
    expect(schema.safeParse({ slots: '0' }).success).toBe(false);
    expect(settingsSchema(MASTER_SETTINGS).parse({ servicePorts: '1000-2000', autoscale: 'GPU=2' })).toMatchObject({ servicePorts: [1000, 2000], autoscale: { perPool: { GPU: 2 }, fallback: 0 }, host: '0.0.0.0' });
  });
});
