/**
 * Who may upload which artifact, and whose provenance it carries. Keys under `runs/` are the
 * outputs of the attempts they name (`runs/<runId>/<jobId>/<attempt>/…`, see core/data.ts), and
 * an artifact's provenance puts it in its run's listings and deletion, so neither is taken on a
 * client's word where the session knows better:
 *
 * - a worker uploads only the outputs of an attempt running on it, under that attempt's key;
 * - a job's token publishes as its own attempt (a provenance naming another is refused, a missing
 *   one is filled in), and under `runs/` only within its own run.
 */
import { type AttemptClaim, isRunningOn } from '../core/attempt-claims.js';
import { outputArtifactKey } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import { type AttemptId, attemptName } from '../protocol/methods.js';
import type { UploadCheck } from './commands/session-state.js';

const OUTPUTS = 'runs/';

/** A worker's uploads: `claimOf` tells whose an attempt is (Master.attemptClaim). */
export function workerUploads(workerId: string, claimOf: (a: AttemptId) => AttemptClaim): UploadCheck {
  return (begin) => {
    const { key, runId, jobId, attempt } = begin;
    if (runId === undefined || jobId === undefined || attempt === undefined) throw new TitanError('FORBIDDEN', `artifact "${key}": a worker uploads only the outputs of its attempts, and names the attempt (runId, jobId, attempt)`);
    const a = { runId, jobId, attempt };
    if (!isRunningOn(claimOf(a), workerId)) throw new TitanError('FORBIDDEN', `artifact "${key}": attempt ${attemptName(a)} is not running on worker ${workerId}, which may upload only the outputs of its own attempts`);
    const prefix = outputArtifactKey(runId, jobId, attempt, '');
    if (!key.startsWith(prefix)) throw new TitanError('FORBIDDEN', `artifact "${key}" is not an output of attempt ${attemptName(a)}: its outputs go under ${prefix}`);
    return begin;
  };
}

/** Uploads with the token of the job attempt `own`. */
export function jobUploads(own: AttemptId): UploadCheck {
  return (begin) => {
    const claimed = { runId: begin.runId ?? own.runId, jobId: begin.jobId ?? own.jobId, attempt: begin.attempt ?? own.attempt };
    if (claimed.runId !== own.runId || claimed.jobId !== own.jobId || claimed.attempt !== own.attempt) {
      throw new TitanError('FORBIDDEN', `artifact "${begin.key}": a job's token publishes as its own attempt ${attemptName(own)}, not as ${attemptName(claimed)}`);
    }
    if (begin.key.startsWith(OUTPUTS) && !begin.key.startsWith(`${OUTPUTS}${own.runId}/`)) {
      throw new TitanError('FORBIDDEN', `artifact "${begin.key}": keys under ${OUTPUTS} hold the outputs of the run they name; a job's token writes there only under ${OUTPUTS}${own.runId}/`);
    }
    return { ...begin, ...own };
  };
}
