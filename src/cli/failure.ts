/**
 * How the `titan` command ends when something goes wrong: one line on standard error and the exit
 * code of the contract in main.ts. A stack trace is printed only for a fault of Titan's own,
 * never for a user's mistake or the machine's state (a missing file, a busy port, a closed pipe).
 */
import { SetupError, TitanError } from '../core/errors.js';
import { UsageError } from './connection.js';
import { printable } from './format.js';

/**
 * A reader that closes early (`titan logs x | head -1`) ends the command quietly with exit 0: it
 * has what it wanted. Another failure to write the output (a full disk) is one line and exit 1.
 */
export function endQuietlyWhenOutputCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`titan: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
  // With standard error gone there is nowhere left to say anything.
  process.stderr.on('error', () => process.exit(process.exitCode ?? 1));
}

/** Node's error for a failed system call (a file, a socket): its message already names both. */
const isSystemError = (err: unknown): err is NodeJS.ErrnoException => err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';

/** A failed system call, or an error that explains one (`cannot read the token file …: EACCES`). */
const fromSystem = (err: unknown): err is Error => isSystemError(err) || (err instanceof Error && isSystemError(err.cause));

/** Says what went wrong in one line and exits with the code of the contract. */
export function exitWithFailure(err: unknown): never {
  if (err instanceof UsageError) {
    // Several problems (a pipeline's) are one line each.
    process.stderr.write(err.message.split('\n').map((line) => `titan: ${line}\n`).join(''));
    process.exit(2);
  }
  if (err instanceof TitanError) {
    const unreachable = err.code === 'UNAVAILABLE' || err.code === 'UNAUTHORIZED';
    process.stderr.write(`titan: ${printable(err.message)}${unreachable ? '' : ` [${printable(err.code, true)}]`}\n`);
    process.exit(unreachable ? 3 : 1);
  }
  if (fromSystem(err) || err instanceof SetupError) {
    process.stderr.write(`titan: ${printable(err.message, true)}\n`);
    process.exit(err instanceof SetupError && err.usage ? 2 : 1);
  }
  process.stderr.write(`titan: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
