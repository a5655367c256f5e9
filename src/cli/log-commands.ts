/**
 * `titan logs`: a job's output. When the master could not keep all of it (output it could not
 * store, e.g. on a full disk, or a run's output removed under --max-logs-mb) it says so on stderr
 * and exits 1, so that a script never takes a partial log for the whole one; likewise `-f` exits 1
 * when the job it followed ended without completing.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { LogOutput } from '../sdk/client.js';
import { type ConnectionFlags, connectionOptions, json, jsonOption, print, withClient } from './connection.js';
import { dim, outcome } from './format.js';

const attemptNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('--attempt must be an integer from 1 to 1000');
  return n;
};

/** Says on stderr what is missing from the output, and makes the exit code 1; nothing when it is whole. */
function reportGaps(ref: string, out: Omit<LogOutput, 'data'>): void {
  if (out.removed !== undefined) process.stderr.write(`titan logs: ${ref}: ${out.removed}\n`);
  if (out.lost) process.stderr.write(`titan logs: ${ref}: ${out.lost.bytes} bytes of the output of attempt ${out.attempt} are missing: the master could not store them (${out.lost.reason})\n`);
  if (out.removed !== undefined || out.lost) process.exitCode = 1;
}

export function registerLogsCommand(program: Command): void {
  connectionOptions(
    program
      .command('logs')
      .description("print a job's output (exit code 1 when the master could not keep all of it, or with -f when the job did not complete)")
      .argument('<job>')
      .option('-f, --follow', 'keep printing new output until the job finishes; exit 1 if it ends DEAD, CANCELLED or SKIPPED', false)
      .addOption(new Option('--attempt <n>', 'which attempt (default: the latest)').argParser(attemptNumber))
      .addOption(jsonOption('print {attempt, data} (with lost and removed when output is missing; with -f: one such line per chunk, then {status})')),
  ).action(async (ref: string, o: ConnectionFlags & { follow: boolean; attempt?: number; json: boolean }) => {
    await withClient(o, async (client) => {
      if (!o.follow) {
        const attempt = o.json ? (o.attempt ?? (await client.getJob(ref)).job.attempt) : o.attempt;
        if (attempt === 0) return json({ attempt, data: '' });
        const out = await client.readLogs(ref, attempt);
        if (o.json) json(out);
        else process.stdout.write(out.data);
        return reportGaps(ref, out);
      }
      const it = client.followLogs(ref);
      for (;;) {
        const next = await it.next();
        if (!next.done) {
          process.stdout.write(o.json ? `${JSON.stringify(next.value)}\n` : next.value.data);
          continue;
        }
        // The job did not complete: a script that follows it must see it failed, and why.
        const ended = next.value === 'COMPLETED' ? null : (await client.getJob(ref)).job;
        if (o.json) print(JSON.stringify({ status: next.value }));
        else process.stderr.write(ended ? `[job ${outcome(ended)}]\n` : dim(`[job ${next.value}]\n`));
        if (ended) process.exitCode = 1;
        return reportGaps(ref, await client.logGaps(ref));
      }
    });
  });
}
