/**
 * The commands that run a server in the foreground: `titan up` (a master and a local worker in one
 * process), `titan master` and `titan worker`. Their options come from the settings tables of
 * src/config: `titan up` offers every master setting and the worker settings of its local worker.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MASTER_SETTINGS, type MasterSettings } from '../config/master-settings.js';
import { LEFT_OUT_OF_UP, type LocalWorkerSettings, WORKER_SETTINGS, type WorkerSettings } from '../config/worker-settings.js';
import type { MasterConfig, RunningMaster } from '../server/start.js';
import { masterConfig } from './cluster-options.js';
import { masterList } from '../config/worker-settings.js';
import { DEFAULT_MASTER_PORT, formatMaster, type MasterEndpoint } from '../protocol/masters.js';
import { clientTls, findToken, givenToken, loadPart, ON_ARGV, print, UsageError } from './connection.js';
import { bold, dim } from './format.js';
import { jobSetup, refuseOverlap } from './job-options.js';
import { writePidFile } from './pid-file.js';
import { settingOptions, type SettingOverride } from './setting-options.js';
import { composeWorker, splitList } from './worker-process.js';

/** The worker settings `titan up` offers for its local worker: every one not left out. */
export const UP_WORKER_SETTINGS = (Object.keys(WORKER_SETTINGS) as (keyof typeof WORKER_SETTINGS)[]).filter((key): key is keyof LocalWorkerSettings => !(LEFT_OUT_OF_UP as readonly string[]).includes(key));

/** What `titan up` says differently of a setting: it is a local cluster, and its worker is local. */
const UP_MASTER: Partial<Record<keyof MasterSettings, SettingOverride>> = {
  host: { default: '127.0.0.1' },
  token: { help: `cluster token (generated on first start when omitted); ${ON_ARGV}` },
};
const UP_WORKER: Partial<Record<keyof LocalWorkerSettings, SettingOverride>> = {
  workDir: { help: 'where the local worker caches scripts and runs jobs; never inside --data-dir (default: <data-dir>-worker, beside it)', default: undefined },
  slots: { help: 'slots of the local worker' },
  capabilities: { help: 'capabilities of the local worker, comma-separated' },
  ca: { help: 'with --tls-cert: the CA the local worker trusts for the master (default: the --tls-cert file when it is self-signed)' },
  cert: { help: "with --tls-client-ca: the local worker's client certificate (PEM)" },
  key: { help: 'the private key of --cert' },
};

type UpSettings = MasterSettings & Omit<LocalWorkerSettings, 'workDir'> & { workDir?: string };

export function registerServerCommands(program: Command): void {
  const up = settingOptions(program.command('up').description('start a master and one local worker in this process (the local cluster)'), MASTER_SETTINGS, { overrides: UP_MASTER });
  settingOptions(up, WORKER_SETTINGS, { only: UP_WORKER_SETTINGS, overrides: UP_WORKER }).action(async (o: UpSettings) => {
    // Children (the reaper, ephemeral workers, jobs) must not inherit a token from this shell.
    delete process.env.TITAN_TOKEN;
    const config = masterConfig(o, givenToken(o));
    if (!config.tls && (o.ca !== undefined || o.cert !== undefined || o.key !== undefined)) throw new UsageError('--ca, --cert and --key of `titan up` are for its local worker on a TLS master: add --tls-cert and --tls-key');
    // The local worker dials this master as any worker would, with TLS when the master serves it.
    const workerTls = config.tls ? clientTls({ tls: true, ca: o.ca ?? selfSignedCa(o.tlsCert), ...(o.cert !== undefined && { cert: o.cert }), ...(o.key !== undefined && { key: o.key }) }) : undefined;
    if (config.tls?.requestCert && workerTls?.files.cert === undefined) throw new UsageError('with --tls-client-ca the local worker needs a client certificate: add --cert and --key');
    const workDir = resolve(o.workDir ?? `${resolve(o.dataDir)}-worker`);
    refuseOverlap(o.dataDir, workDir);
    const jobs = jobSetup(o, workDir, workerTls?.files.ca);
    const m = await runMaster('titan up', config);
    const masterHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
    const log = (line: string): void => void process.stderr.write(`${dim('worker:')} ${line}
`);
    const { agent, release } = await composeWorker({
      masters: [{ host: masterHost, port: m.port }],
      token: m.token,
      tls: workerTls,
      settings: { ...o, permanent: true, name: hostname(), port: 0, executor: 'process' },
      workDir,
      jobs,
      log,
      // The local worker shares this process with the master: a shutdown only drains and disconnects it.
      onFatal: (err) => log(`stopped: ${err.message}`),
    });
    await agent.start();
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    const shown = o.host === '0.0.0.0' ? hostname() : o.host;
    print(`${bold('Titan is up.')}
    master      ${shown}:${m.port}  (clients and workers)
    dashboard   ${m.tls ? 'https' : 'http'}://${shown}:${m.httpPort}/  (log in with the token; also /api, /metrics, /healthz)${m.tls ? `
    tls         both ports${config.tls?.requestCert ? ', client certificates required (mutual TLS)' : ''}; clients use --ca <file> or TITAN_CA` : ''}
    data        ${m.dataDir}
    token       ${m.token}${m.tokenCreated ? '  (new; saved in the data directory)' : ''}
    worker      ${agent.id} with ${o.slots} slots [${splitList(o.capabilities).join(', ')}], work directory ${workDir}

  From another shell in this folder (or with TITAN_TOKEN set):
    titan run hello.py -- arg1 "two words"
    titan workers
  Press Ctrl-C to stop.`);
    await untilSignal(async () => {
      // Said at once: a drain may take up to --drain-timeout, and silence reads as a hang.
      const running = agent.runningCount;
      process.stderr.write(running > 0 ? `draining the local worker: ${running} running job(s) may finish for up to ${o.drainTimeout / 1000} s; Ctrl-C again to stop now\n` : 'stopping: no jobs are running\n');
      await agent.drain();
      release();
      await m.close();
    });
  });

  settingOptions(program.command('master').description('run the master (control plane) in the foreground'), MASTER_SETTINGS).action(async (o: MasterSettings) => {
    const m = await runMaster('titan master', masterConfig(o, givenToken(o) ?? process.env[MASTER_SETTINGS.token.env]));
    print(`titan master listening on ${o.host}:${m.port} (${m.tls ? 'https' : 'http'} ${m.httpPort}), data in ${m.dataDir}`);
    if (m.tls) print(`tls: on both ports, dashboard at https://${o.host === '0.0.0.0' ? hostname() : o.host}:${m.httpPort}/${o.tlsClientCa !== undefined ? '; client certificates required (mutual TLS)' : ''}`);
    print(`token: ${m.token}${m.tokenCreated ? ' (new; saved in the data directory)' : ''}`);
    print(`workers join with: titan worker --master <this-host>:${m.port} --token-file <a file holding the worker token: titan token --role worker>${m.tls ? ` --ca <ca-file>${o.tlsClientCa !== undefined ? ' --cert <file> --key <file>' : ''}` : ''}`);
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    await untilSignal(() => {
      process.stderr.write('stopping the master (signal again to stop now)\n');
      return m.close();
    });
  });

  settingOptions(program.command('worker').description('run a worker that joins a master and executes jobs'), WORKER_SETTINGS).action(async (o: WorkerSettings) => {
    const masters = o.master ?? workerMastersFromEnv();
    const token = findToken(o);
    // Read once: the worker's children (its reaper, ephemeral workers, jobs) must not inherit it.
    delete process.env.TITAN_TOKEN;
    const tls = clientTls(o);
    if (!token) throw new UsageError('a worker needs the worker token: pass --token-file <file>, set TITAN_TOKEN, or run it where the master keeps titan-data');
    if (o.spawnedBy !== undefined && o.permanent) throw new UsageError('--spawned-by marks an ephemeral worker; it cannot be --permanent');
    const workDir = resolve(o.workDir);
    // A master's data directory named here, or found in this folder, is local: jobs must not run inside it.
    const dataDir = o.dataDir ?? process.env[WORKER_SETTINGS.dataDir.env] ?? (existsSync('titan-data') ? 'titan-data' : undefined);
    if (dataDir !== undefined) refuseOverlap(dataDir, workDir);
    const jobs = jobSetup(o, workDir, tls.files.ca);
    const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const { agent, release } = await composeWorker({
      masters,
      token,
      tls,
      settings: o,
      workDir,
      jobs,
      log,
      onShutdown: () => {
        release();
        process.exit(0);
      },
      // Joined once, then refused (a changed token or certificate): exit with an error, so a supervisor notices.
      onFatal: (err) => {
        process.stderr.write(`titan worker: ${err.message}\n`);
        release();
        process.exit(3);
      },
    });
    const stop = async (): Promise<void> => {
      process.stderr.write(`draining: ${agent.runningCount} running job(s) may finish for up to ${o.drainTimeout / 1000} s, then what still runs is handed back (signal again to stop now)\n`);
      await agent.drain();
      release();
    };
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    // The work directory grows (cached scripts, attempt folders): say where, so that it is found and ignored.
    log(`titan worker starting: work directory ${workDir}, joining ${masters.length > 1 ? `the leader among ${masters.map(formatMaster).join(', ')}` : formatMaster(masters[0] as MasterEndpoint)}`);
    agent.start().catch((err: Error) => {
      process.stderr.write(`titan worker: ${err.message}\n`);
      process.exit(3);
    });
    await untilSignal(stop);
  });
}

/** The masters of a worker started without --master: TITAN_MASTERS, else the local one. */
function workerMastersFromEnv(): MasterEndpoint[] {
  const env = process.env[WORKER_SETTINGS.master.env];
  if (!env) return [{ host: '127.0.0.1', port: DEFAULT_MASTER_PORT }];
  const parsed = masterList.safeParse(env);
  if (!parsed.success) throw new UsageError(`${WORKER_SETTINGS.master.env}: ${parsed.error.issues[0]?.message ?? 'not a list of master addresses'}`);
  return parsed.data;
}

/** Starts the master; a port or address it cannot listen on is bad input, said in one line. */
async function runMaster(command: string, config: MasterConfig): Promise<RunningMaster> {
  const { startMaster, ListenError } = await loadPart(command, 'the master bundle or a Titan checkout', () => import('../server/start.js'));
  try {
    return await startMaster(config);
  } catch (err) {
    if (err instanceof ListenError) throw new UsageError(err.message);
    throw err;
  }
}

/** The --tls-cert file as the local worker's CA when it is self-signed; otherwise `titan up` needs --ca. */
function selfSignedCa(certFile: string | undefined): string | undefined {
  if (certFile === undefined) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch {
    return certFile; // Unreadable or not PEM: the master's own check names the file.
  }
  if (cert.checkIssued(cert)) return certFile;
  throw new UsageError(`--tls-cert ${certFile} is signed by a CA (${cert.issuer.replaceAll('\n', ', ')}): give the local worker that CA with --ca <file>`);
}

/** Runs `stop` on the first SIGINT/SIGTERM; a second signal exits at once. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolvePromise) => {
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) process.exit(130);
      stopping = true;
      stop().then(
        () => {
          resolvePromise();
          process.exit(0);
        },
        (err: Error) => {
          process.stderr.write(`titan: error while stopping: ${err.message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
