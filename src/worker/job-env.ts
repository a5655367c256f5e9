/**
 * The environment a job runs with: the worker's own (copied once, without its TLS settings), the
 * job's variables, and what the SDKs need to reach the master from inside the job as the worker
 * does: address, the attempt's token, TLS files, its ids and folders, and this install's SDKs.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dispatch } from '../protocol/methods.js';
import { TLS_ENV, type TlsFiles, tlsEnvFor } from '../protocol/tls-dial.js';

/**
 * The compiled SDK entry of this worker's own install, given to every job as TITAN_SDK so a Node
 * script can `await import(process.env.TITAN_SDK)` with nothing installed. From dist/ it sits
 * beside this module; run from source (tsx), the build's copy is used.
 */
const SDK_ENTRY = [new URL('../sdk/index.js', import.meta.url), new URL('../../dist/src/sdk/index.js', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(p)) ?? fileURLToPath(new URL('../sdk/index.js', import.meta.url));

/**
 * The Python SDK (`titan_sdk`) shipped with this install, put on every job's PYTHONPATH so job
 * scripts can `import titan_sdk` with nothing installed; null when this install has none.
 */
const PYTHON_SDK_DIR = [new URL('../../../python/', import.meta.url), new URL('../../python/', import.meta.url)].map((u) => fileURLToPath(u)).find((p) => existsSync(join(p, 'titan_sdk', '__init__.py'))) ?? null;

export class JobEnvironment {
  /**
   * The worker's own environment, copied once: reading process.env enumerates the real
   * environment on every access, which cost tens of microseconds per attempt.
   */
  private readonly base: Record<string, string> = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  private readonly tls: Record<string, string>;

  /** `tlsFiles`: set when the worker dials with TLS (its jobs then do too, with the same files). */
  constructor(private readonly master: { host: string; port: number }, tlsFiles: TlsFiles | null) {
    // Jobs connect as this worker does: TLS settings of the worker's own environment are replaced, never mixed in.
    for (const name of TLS_ENV) delete this.base[name];
    this.tls = tlsFiles ? tlsEnvFor(tlsFiles) : {};
    if (PYTHON_SDK_DIR !== null) this.base.PYTHONPATH = [PYTHON_SDK_DIR, this.base.PYTHONPATH].filter((p) => p).join(delimiter);
  }

  for(d: Dispatch, dirs: { shared: string; output: string }, workerId: string | null): Record<string, string> {
    return {
      ...this.base,
      ...d.env,
      TITAN_HOST: this.master.host,
      TITAN_PORT: String(this.master.port),
      TITAN_TOKEN: d.token,
      ...this.tls,
      TITAN_RUN_ID: d.runId,
      TITAN_JOB_ID: d.jobId,
      TITAN_ATTEMPT: String(d.attempt),
      TITAN_SHARED_DIR: dirs.shared,
      TITAN_OUTPUT_DIR: dirs.output,
      TITAN_WORKER_ID: workerId ?? '',
      TITAN_SDK: SDK_ENTRY,
    };
  }
}
