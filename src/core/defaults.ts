/**
 * What a job gets for a field its submission leaves out, whichever door it came through (pipeline
 * YAML, the TypeScript and Python SDKs, the MCP tools, `titan run`, Titan's v1 clients, the
 * dashboard's constructor). Defined here once; the Python SDK mirrors them (python/titan_sdk/jobs.py,
 * kept equal by test/integration/defaults.test.ts). Plain constants with no imports, so the
 * dashboard's bundle takes them without the schemas of model.ts.
 */

/** Retries after a failed attempt, each after an exponential backoff (core/retry.ts). */
export const DEFAULT_RETRIES = 3;

/** Higher runs first; FIFO within a priority. */
export const DEFAULT_PRIORITY = 1;

/** The capability a job needs when it names none. */
export const DEFAULT_CAPABILITY = 'GENERAL';

/** How long an approval gate waits for a decision before it fails: Titan's 48 hours. */
export const DEFAULT_GATE_WAIT_MS = 48 * 3600 * 1000;
