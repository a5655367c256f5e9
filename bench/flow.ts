/**
 * What flow control costs at dispatch: the same 10,000 no-op jobs through one cluster, plain, then
 * each holding one of 1,000 concurrency keys whose limit never throttles (so only the bookkeeping
 * is measured), then split across 100 runs that take turns (fair queueing) instead of one run.
 * The three run interleaved in each repetition, in alternating order, so that drift in the
 * machine's speed affects them alike; the ratios are taken within a repetition.
 */
import type { JobInput, TitanClient } from '../src/sdk/client.js';
import { type BenchCluster, withCluster } from './cluster.js';
import { infoRow, type Row, targetRow } from './report.js';
import { type Context, independentJobs, NOOP_SCRIPT, runToCompletion, type Scenario } from './scenarios.js';
import { fmt, median, now } from './stats.js';

/** Jobs per key: 10,000 jobs over 1,000 keys. */
const JOBS_PER_KEY = 10;
/** Above the jobs per key, so no job ever waits for its key. */
const KEY_LIMIT = 100;
const RUNS = 100;
/** DESIGN §13: keyed dispatch at no less than 80 % of the plain rate. */
const TARGET_PERCENT = 80;

interface Pass {
  /** Jobs per second, submit → every run done. */
  rate: number;
  /** The master's CPU per job, µs. */
  masterUs: number;
}

interface Repetition {
  plain: Pass;
  keyed: Pass;
  fair: Pass;
}

const keyedJobs = (n: number): JobInput[] => independentJobs(n, NOOP_SCRIPT).map((job, i) => ({ ...job, concurrency: { key: `k${Math.floor(i / JOBS_PER_KEY)}`, limit: KEY_LIMIT } }));

/** `n` jobs in `runs` runs submitted together; each must complete. */
async function manyRuns(client: TitanClient, n: number, runs: number): Promise<void> {
  const per = n / runs;
  const jobs = independentJobs(per, NOOP_SCRIPT);
  const submitted = await Promise.all(Array.from({ length: runs }, (_, i) => client.submit({ name: `fair-${i}`, jobs })));
  const finals = await Promise.all(submitted.map(({ runId }) => client.waitForRun(runId)));
  const bad = finals.find((f) => f.run.status !== 'COMPLETED');
  if (bad) throw new Error(`run ${bad.run.runId} ended ${bad.run.status}`);
}

async function timed(cluster: BenchCluster, n: number, work: () => Promise<unknown>): Promise<Pass> {
  const cpu0 = cluster.master.cpuMs();
  const t0 = now();
  await work();
  const ms = now() - t0;
  return { rate: n / (ms / 1000), masterUs: ((cluster.master.cpuMs() - cpu0) * 1000) / n };
}

const describe = (r: Repetition): string =>
  (['plain', 'keyed', 'fair'] as const).map((k) => `${k} ${fmt(r[k].rate)} jobs/s (master ${fmt(r[k].masterUs)} µs/job)`).join(', ') +
  `; keyed/plain ${fmt((100 * r.keyed.rate) / r.plain.rate)}%`;

export const flow: Scenario = {
  name: 'flow',
  description: 'dispatch with flow control: 1,000 concurrency keys, and 100 runs taking turns, beside plain dispatch',
  async run(ctx: Context) {
    const n = ctx.quick ? 2000 : 10_000;
    const keys = n / JOBS_PER_KEY;
    return withCluster('flow', { profileDir: ctx.profileDir }, async (cluster) => {
      await cluster.startWorker({ slots: 512, executor: 'noop' });
      const client = cluster.client();
      const once = async (reversed: boolean): Promise<Repetition> => {
        const r = {} as Repetition;
        const steps: (() => Promise<void>)[] = [
          async () => void (r.plain = await timed(cluster, n, () => runToCompletion(client, { name: 'plain', jobs: independentJobs(n, NOOP_SCRIPT) }))),
          async () => void (r.keyed = await timed(cluster, n, () => runToCompletion(client, { name: 'keyed', jobs: keyedJobs(n) }))),
          async () => void (r.fair = await timed(cluster, n, () => manyRuns(client, n, RUNS))),
        ];
        for (const step of reversed ? steps.reverse() : steps) await step();
        return r;
      };
      for (let i = 0; i < ctx.warmups; i++) ctx.log(`[flow] warm-up: ${describe(await once(false))}`);
      const results: Repetition[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const r = await once(i % 2 === 1);
        ctx.log(`[flow] run ${i + 1}/${ctx.runs}: ${describe(r)}`);
        results.push(r);
      }
      const rate = (k: keyof Repetition): number => median(results.map((r) => r[k].rate));
      const cpu = (k: keyof Repetition): string => fmt(median(results.map((r) => r[k].masterUs)));
      const rows: Row[] = [
        infoRow(`7. flow: ${n} no-op jobs, one run, no keys (plain dispatch, same cluster)`, `${fmt(rate('plain'))} jobs/s`),
        infoRow(`7. flow: ${n} jobs over ${keys} concurrency keys (limit ${KEY_LIMIT}, never reached)`, `${fmt(rate('keyed'))} jobs/s`),
        targetRow('7. flow: keyed / plain dispatch rate (same repetition)', median(results.map((r) => (100 * r.keyed.rate) / r.plain.rate)), '%', 'atLeast', TARGET_PERCENT),
        infoRow(`7. fair queue: ${n} jobs in ${RUNS} runs of ${n / RUNS} submitted together`, `${fmt(rate('fair'))} jobs/s`),
        infoRow('7. fair queue: 100 runs / one run (same repetition)', `${fmt(median(results.map((r) => (100 * r.fair.rate) / r.plain.rate)))} %`),
        infoRow('   master CPU per job: plain / keyed / 100 runs', `${cpu('plain')} / ${cpu('keyed')} / ${cpu('fair')} µs`),
      ];
      return rows;
    });
  },
};
