/**
 * The commands that run a server in the foreground: `titan up` (a master and a local worker in one
 * process), `titan master` and `titan worker`.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULT_CAPABILITY } from '../core/defaults.js';
import { tlsEnvFor } from '../protocol/tls-dial.js';
import type { MasterConfig, RunningMaster } from '../server/start.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../worker/stop-policy.js';
import { drainTimeout, int, seconds, stopAfterDisconnect } from './arguments.js';
import { type ClusterFlags, clusterConfig, clusterOptions } from './cluster-options.js';
import { clientTls, findToken, givenToken, loadPart, ON_ARGV, parseHostPort, print, type TlsFlags, tlsOptions, UsageError } from './connection.js';
import { bold, dim } from './format.js';
import { type JobFlags, jobOptions, jobSetup, layOutWorkDir, refuseOverlap } from './job-options.js';
import { writePidFile } from './pid-file.js';

export function registerServerCommands(program: Command): void {
  clusterOptions(jobOptions(
    program
    .command('up')
    .description('start a master and one local worker in this process (the local cluster)')
    .option('--data-dir <dir>', 'where state, logs and the token live', 'titan-data')
    .option('--work-dir <dir>', 'where the local worker caches scripts and runs jobs; never inside --data-dir (default: <data-dir>-worker, beside it)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'TCP port for clients and workers').default(9090).argParser(int('--port', 0, 65535)))
    .addOption(new Option('--http-port <port>', 'HTTP port').default(5000).argParser(int('--http-port', 0, 65535)))
    .addOption(new Option('--slots <n>', 'slots of the local worker').default(4).argParser(int('--slots', 1, 1024)))
    .option('--capabilities <list>', 'capabilities of the local worker, comma-separated', DEFAULT_CAPABILITY)
    .option('--token <token>', `cluster token (generated on first start when omitted); ${ON_ARGV}`)
    .option('--token-file <file>', 'read the cluster token from the first line of this file (kept out of ps)')
    .option('--ca <file>', 'with --tls-cert: the CA the local worker trusts for the master (default: the --tls-cert file when it is self-signed)')
    .option('--cert <file>', "with --tls-client-ca: the local worker's client certificate (PEM)")
    .option('--key <file>', 'the private key of --cert')
    .addOption(drainTimeoutOption()),
  )).action(async (o: ClusterFlags & JobFlags & Omit<TlsFlags, 'tls'> & { dataDir: string; workDir?: string; host: string; port: number; httpPort: number; slots: number; capabilities: string; token?: string; tokenFile?: string; drainTimeout: number }) => {
      // Children (the reaper, ephemeral workers, jobs) must not inherit a token from this shell.
      delete process.env.TITAN_TOKEN;
      const config = clusterConfig(o);
      if (!config.tls && (o.ca !== undefined || o.cert !== undefined || o.key !== undefined)) throw new UsageError('--ca, --cert and --key of `titan up` are for its local worker on a TLS master: add --tls-cert and --tls-key');
      // The local worker dials this master as any worker would, with TLS when the master serves it.
      const workerTls = config.tls ? clientTls({ tls: true, ca: o.ca ?? selfSignedCa(o.tlsCert), ...(o.cert !== undefined && { cert: o.cert }), ...(o.key !== undefined && { key: o.key }) }) : undefined;
      if (config.tls?.requestCert && workerTls?.files.cert === undefined) throw new UsageError('with --tls-client-ca the local worker needs a client certificate: add --cert and --key');
      const workDir = resolve(o.workDir ?? `${resolve(o.dataDir)}-worker`);
      refuseOverlap(o.dataDir, workDir);
      const jobs = jobSetup(o, workDir, workerTls?.files.ca);
      const { WorkerAgent, ProcessExecutor, Reaper, spawnEphemeralWorker } = await loadWorker();
      const m = await runMaster('titan up', { dataDir: o.dataDir, host: o.host, port: o.port, httpPort: o.httpPort, ...config, ...(givenToken(o) !== undefined && { token: givenToken(o) }) });
      const masterHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
      const log = (line: string): void => void process.stderr.write(`${dim('worker:')} ${line}\n`);
      for (const line of [...jobs.notices, ...layOutWorkDir(workDir, jobs)]) log(line);
      const reaper = Reaper.start();
      const agent = new WorkerAgent({
        masterHost,
        masterPort: m.port,
        token: m.token,
        ...(workerTls?.tls && { tls: workerTls.tls, tlsFiles: workerTls.files }),
        capabilities: splitList(o.capabilities),
        slots: o.slots,
        permanent: true,
        host: hostname(),
        port: 0,
        workDir,
        jobs: jobs.settings,
        executor: new ProcessExecutor({ reaper, pidDir: pidDir(workDir) }),
        log,
        // The local worker shares this process with the master: a shutdown only drains and disconnects it.
        drainTimeoutMs: o.drainTimeout,
        onFatal: (err) => log(`stopped: ${err.message}`),
        onSpawnWorker: (request) => void spawnEphemeralWorker({ entry: process.argv[1] ?? '', master: `${masterHost}:${m.port}`, token: m.token, name: hostname(), workDir, env: workerTls ? tlsEnvFor(workerTls.files) : {}, jobArgs: jobs.args }, agent.id ?? '', request, log),
      });
      await agent.start();
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
        reaper.close();
        await m.close();
      });
    });

  clusterOptions(
    program
    .command('master')
    .description('run the master (control plane) in the foreground')
    .option('--data-dir <dir>', 'where state, logs and the token live', 'titan-data')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .addOption(new Option('--port <port>', 'TCP port for clients and workers').default(9090).argParser(int('--port', 0, 65535)))
    .addOption(new Option('--http-port <port>', 'HTTP port').default(5000).argParser(int('--http-port', 0, 65535)))
    .option('--token <token>', `cluster token (default: TITAN_TOKEN, else generated on first start); ${ON_ARGV}`)
    .option('--token-file <file>', 'read the cluster token from the first line of this file (kept out of ps)')
    .addOption(new Option('--worker-timeout <seconds>', 'declare a silent worker dead after this long').default(10).argParser(seconds))
    .addOption(new Option('--reclaim-grace <seconds>', 'after a restart, how long running attempts wait for their workers').default(15).argParser(seconds))
    .addOption(new Option('--max-artifact-mb <n>', 'the largest artifact accepted, in MiB').default(512).argParser(int('--max-artifact-mb', 1, 1_048_576)))
    .addOption(new Option('--max-log-mb <n>', "the most output one attempt keeps on the master, in MiB (the rest is dropped with a note)").default(128).argParser(int('--max-log-mb', 1, 1_048_576)))
    .option('--pid-file <path>', 'write this process id there once listening (removed on exit)'),
  ).action(async (o: ClusterFlags & { dataDir: string; host: string; port: number; httpPort: number; token?: string; tokenFile?: string; workerTimeout: number; reclaimGrace: number; maxArtifactMb: number; maxLogMb: number; pidFile?: string }) => {
      const token = givenToken(o) ?? process.env.TITAN_TOKEN;
      const m = await runMaster('titan master', {
        dataDir: o.dataDir,
        host: o.host,
        port: o.port,
        httpPort: o.httpPort,
        workerTimeoutMs: o.workerTimeout * 1000,
        reclaimGraceMs: o.reclaimGrace * 1000,
        maxArtifactBytes: o.maxArtifactMb * 1024 * 1024,
        maxLogBytes: o.maxLogMb * 1024 * 1024,
        ...clusterConfig(o),
        ...(token !== undefined && { token }),
      });
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

  jobOptions(tlsOptions(
    program
    .command('worker')
    .description('run a worker that joins a master and executes jobs')
    .option('--master <host:port>', 'the master to join', '127.0.0.1:9090')
    .option('--token <token>', `the worker token or the cluster token (default: TITAN_TOKEN, or the token file in ./titan-data); ${ON_ARGV}`)
    .option('--token-file <file>', 'read the token from the first line of this file (kept out of ps)')
    .option('--data-dir <dir>', 'data directory whose token file to use')
    .option('--capabilities <list>', 'capabilities, comma-separated (e.g. GPU,HIGH_MEM)', DEFAULT_CAPABILITY)
    .addOption(new Option('--slots <n>', 'jobs run at once').default(4).argParser(int('--slots', 1, 1024)))
    .option('--permanent', 'never scaled down or shut down automatically', false)
    .addOption(new Option('--port <port>', 'advertised port in the worker name host:port (0: the master picks)').default(0).argParser(int('--port', 0, 65535)))
    .option('--name <host>', 'advertised host name', hostname())
    .option('--work-dir <dir>', 'where scripts are cached and attempts run', 'titan-worker')
    .addOption(new Option('--executor <kind>', 'process (default) or noop (benchmarks: completes without running anything)').choices(['process', 'noop']).default('process').hideHelp())
    .option('--spawned-by <worker>', 'set by the autoscaler on the ephemeral workers it starts: the permanent worker that spawned this one')
    .addOption(new Option('--keep-runs-hours <n>', 'remove run folders (attempt outputs, unpacked archives) and cached scripts untouched this long').default(72).argParser(int('--keep-runs-hours', 1, 87_600)))
    .option('--pid-file <path>', 'write this process id there at start (removed on exit)')
    .addOption(drainTimeoutOption())
    .addOption(
      new Option('--stop-after-disconnect <seconds|never>', "stop running jobs once the master has been unreachable this long (it has run them elsewhere by then); they are reported lost when it is back (default: the master's --worker-timeout)").argParser(stopAfterDisconnect),
    ),
  )).action(async (o: TlsFlags & JobFlags & { master: string; token?: string; dataDir?: string; capabilities: string; slots: number; permanent: boolean; port: number; name: string; workDir: string; executor: string; spawnedBy?: string; pidFile?: string; keepRunsHours: number; drainTimeout: number; stopAfterDisconnect?: number | 'never' }) => {
      const { host, port } = parseHostPort(o.master, 9090);
      const token = findToken(o);
      // Read once: the worker's children (its reaper, ephemeral workers, jobs) must not inherit it.
      delete process.env.TITAN_TOKEN;
      const tls = clientTls(o);
      if (!token) throw new UsageError('a worker needs the worker token: pass --token-file <file>, set TITAN_TOKEN, or run it where the master keeps titan-data');
      if (o.spawnedBy !== undefined && o.permanent) throw new UsageError('--spawned-by marks an ephemeral worker; it cannot be --permanent');
      const workDir = resolve(o.workDir);
      // A master's data directory named here, or found in this folder, is local: jobs must not run inside it.
      const dataDir = o.dataDir ?? process.env.TITAN_DATA_DIR ?? (existsSync('titan-data') ? 'titan-data' : undefined);
      if (dataDir !== undefined) refuseOverlap(dataDir, workDir);
      const jobs = jobSetup(o, workDir, tls.files.ca);
      const { WorkerAgent, ProcessExecutor, NoopExecutor, Reaper, spawnEphemeralWorker } = await loadWorker();
      const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      for (const line of [...jobs.notices, ...layOutWorkDir(workDir, jobs)]) log(line);
      const reaper = o.executor === 'process' ? Reaper.start() : null;
      const agent = new WorkerAgent({
        masterHost: host,
        masterPort: port,
        token,
        ...(tls.tls && { tls: tls.tls, tlsFiles: tls.files }),
        capabilities: splitList(o.capabilities),
        slots: o.slots,
        permanent: o.permanent,
        host: o.name,
        port: o.port,
        workDir,
        jobs: jobs.settings,
        executor: o.executor === 'noop' ? new NoopExecutor() : new ProcessExecutor({ ...(reaper && { reaper }), pidDir: pidDir(workDir) }),
        log,
        drainTimeoutMs: o.drainTimeout,
        ...(o.stopAfterDisconnect !== undefined && { stopAfterDisconnect: o.stopAfterDisconnect }),
        onShutdown: () => {
          reaper?.close();
          process.exit(0);
        },
        // Joined once, then refused (a changed token or certificate): exit with an error, so a supervisor notices.
        onFatal: (err) => {
          process.stderr.write(`titan worker: ${err.message}\n`);
          reaper?.close();
          process.exit(3);
        },
        ...(o.spawnedBy !== undefined && { spawnedBy: o.spawnedBy }),
        keepRunsMs: o.keepRunsHours * 3600_000,
        ...(o.permanent && {
          onSpawnWorker: (request) => void spawnEphemeralWorker({ entry: process.argv[1] ?? '', master: `${host}:${port}`, token, name: o.name, workDir, env: tls.tls ? tlsEnvFor(tls.files) : {}, jobArgs: jobs.args }, agent.id ?? '', request, log),
        }),
      });
      const stop = async (): Promise<void> => {
        process.stderr.write(`draining: ${agent.runningCount} running job(s) may finish for up to ${o.drainTimeout / 1000} s, then what still runs is handed back (signal again to stop now)\n`);
        await agent.drain();
        reaper?.close();
      };
      if (o.pidFile !== undefined) writePidFile(o.pidFile);
      // The work directory grows (cached scripts, attempt folders): say where, so that it is found and ignored.
      log(`titan worker starting: work directory ${workDir}, joining ${host}:${port}`);
      agent.start().catch((err: Error) => {
        process.stderr.write(`titan worker: ${err.message}\n`);
        process.exit(3);
      });
      await untilSignal(stop);
    });
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

/** `--drain-timeout` of a worker process, `titan worker`'s or `titan up`'s own. */
const drainTimeoutOption = (): Option =>
  new Option('--drain-timeout <seconds>', 'when the worker drains to stop (a signal, titan workers shutdown), how long running jobs may finish; those still running then are handed back and run elsewhere without spending a retry')
    .default(DEFAULT_DRAIN_TIMEOUT_MS, String(DEFAULT_DRAIN_TIMEOUT_MS / 1000))
    .argParser(drainTimeout);

/** Where a worker records its attempts' process groups, for its next life to stop what this one leaves. */
const pidDir = (workDir: string): string => join(workDir, 'pids');

/**
 * The worker's modules, loaded only by the commands that run one: a worker forks a process per
 * attempt, and fork time grows with the parent's memory, so it must not carry the master's.
 */
async function loadWorker(): Promise<typeof import('../worker/agent.js') & typeof import('../worker/executor.js') & typeof import('../worker/reaper.js') & typeof import('../worker/spawner.js')> {
  const [agent, executor, reaper, spawner] = await Promise.all([import('../worker/agent.js'), import('../worker/executor.js'), import('../worker/reaper.js'), import('../worker/spawner.js')]);
  return { ...agent, ...executor, ...reaper, ...spawner };
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

function splitList(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('give at least one capability');
  return items;
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
