/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>...]] [-- --profile <dir>] [-- --no-redis] [-- --no-postgres]`
 *
 * Runs the performance scenarios against real master and worker processes and prints a table:
 * scenario | measured | target | ratio/verdict | Redis store | PostgreSQL store. Method: bench/README.md.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { cleanupAll, makeTempDir } from './cluster.js';
import { describeMachine, preferRealPython } from './machine.js';
import { failover } from './failover.js';
import { flow } from './flow.js';
import { renderTable, type Row } from './report.js';
import { type Context, type Scenario, SCENARIOS } from './scenarios.js';
import { STORE_KINDS, STORE_SETUP, STORE_TITLES, storeServer, type StoreKind } from './stores.js';
import { fmt, now } from './stats.js';

const ALL: readonly Scenario[] = [...SCENARIOS, flow, failover];

interface Options {
  quick: boolean;
  /** The store columns asked for (all unless left out with --no-<store>). */
  stores: StoreKind[];
  only: string[] | null;
  profileDir: string | undefined;
}

const USAGE = `usage: npm run bench -- [--quick] [--only <name>[,<name>...]] [--profile <dir>] [--no-redis] [--no-postgres]
  --quick          smaller sizes, for smoke checking only (numbers are not comparable to targets)
  --no-redis       leave out the Redis store column (dispatch, chain, submit-latency and dag again
                   with the master on a private redis-server; on by default when it is installed)
  --no-postgres    leave out the PostgreSQL store column (the same four again with the master on a
                   private PostgreSQL server; on by default when it is installed). The failover
                   scenario needs PostgreSQL whatever this says
  --only <names>   run only these scenarios: ${ALL.map((s) => s.name).join(', ')}
  --profile <dir>  write node --cpu-prof profiles of the master and workers into <dir>`;

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { quick: false, stores: [...STORE_KINDS], only: null, profileDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-redis') options.stores = options.stores.filter((kind) => kind !== 'redis');
    else if (arg === '--no-postgres') options.stores = options.stores.filter((kind) => kind !== 'postgres');
    else if (arg === '--only') options.only = [...(options.only ?? []), ...value().split(',').filter(Boolean)];
    else if (arg.startsWith('--only=')) options.only = [...(options.only ?? []), ...arg.slice(7).split(',').filter(Boolean)];
    else if (arg === '--profile') options.profileDir = resolve(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  const unknown = (options.only ?? []).filter((name) => !ALL.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${ALL.map((s) => s.name).join(', ')}`);
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const pythonNote = preferRealPython();
  const machine = describeMachine(pythonNote);
  const runs = 3;
  const warmups = 1;
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  print(`Titan benchmark (${options.quick ? 'QUICK: smoke sizes, not comparable to the targets' : 'full'}) — ${new Date().toISOString()}`);
  print(`machine: ${machine.nproc} CPUs (nproc), ${machine.cpuModel}, ${machine.memory} RAM`);
  print(`node ${machine.node}; python3 ${machine.python}; bash ${machine.bash}`);
  if (machine.pythonNote) print(`note: ${machine.pythonNote}`);
  print(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (other processes on the machine compete with the bench)`);
  print(`method: ${warmups} warm-up then ${runs} measured runs per scenario, median reported (see bench/README.md)`);
  const stores: StoreKind[] = [];
  for (const kind of options.stores) {
    const server = storeServer(kind);
    if (server === null) print(`note: ${kind === 'redis' ? 'redis-server' : 'PostgreSQL'} is not installed: no ${STORE_TITLES[kind]} column`);
    else {
      stores.push(kind);
      print(`${STORE_TITLES[kind]} column: the master on a private server started with ${server} (${STORE_SETUP[kind]})`);
    }
  }
  if (options.profileDir) {
    mkdirSync(options.profileDir, { recursive: true });
    print(`profiles: ${options.profileDir}`);
  }
  print('');

  const scratch = makeTempDir('scratch');
  const ctx: Context = {
    quick: options.quick,
    runs,
    warmups,
    profileDir: options.profileDir,
    scratch,
    stores,
    log: (line) => void process.stderr.write(`${line}\n`),
  };
  const rows: Row[] = [];
  let failed = 0;
  const started = now();
  for (const scenario of ALL) {
    if (options.only && !options.only.includes(scenario.name)) continue;
    ctx.log(`== ${scenario.name}: ${scenario.description}`);
    const t0 = now();
    try {
      rows.push(...(await scenario.run(ctx)));
    } catch (err) {
      failed++;
      const message = err instanceof Error ? err.message : String(err);
      ctx.log(`[${scenario.name}] FAILED: ${err instanceof Error && err.stack ? err.stack : message}`);
      rows.push({ scenario: `${scenario.name}`, measured: 'ERROR', target: '-', verdict: message.split('\n')[0]?.slice(0, 80) ?? 'error' });
    }
    ctx.log(`== ${scenario.name} took ${fmt((now() - t0) / 1000)} s`);
  }
  cleanupAll();
  print(renderTable(rows));
  print('');
  print(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  print(`total time ${fmt((now() - started) / 1000)} s${failed > 0 ? `; ${failed} scenario(s) failed` : ''}`);
  return failed > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping the processes it started\n`);
    cleanupAll();
    process.exit(130);
  });
}
process.once('exit', () => cleanupAll());

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    cleanupAll();
    process.exit(2);
  },
);
