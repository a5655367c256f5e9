/**
 * Pipeline files for the CLI: core/pipeline-yaml.ts parses and validates the YAML (the same
 * parser the master runs for `pipeline.parse`); this module reads the file and turns each job's
 * `file` into what it runs: a script relative to the pipeline's folder or, with `project: true`,
 * an entry of the folder zipped once (see project-zip.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { type PipelineJob, PipelineYamlError, readPipelineYaml } from '../core/pipeline-yaml.js';
import { validateDag } from '../core/dag.js';
import type { ScheduleSpec } from '../core/schedule.js';
import type { ArchiveSource, JobInput, RunInput } from '../sdk/client.js';
import { UsageError } from './connection.js';
import { buildProjectZip, IGNORE_FILE, ProjectZipError } from './project-zip.js';
import { pipelineNameProblem } from './schedule-commands.js';

/** A pipeline file: the run it describes and, when it has one, the schedule it is submitted on. */
export type Pipeline = RunInput & { schedule?: ScheduleSpec };

/** A pipeline file that cannot be used: bad command-line input as far as the exit code goes. */
export class PipelineError extends UsageError {}

/** Reads a pipeline file; in project mode its folder is zipped (see project-zip.ts). */
export function loadPipeline(path: string): Pipeline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PipelineError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const pipeline = parsePipeline(text, path, { readProject: true });
  for (const job of pipeline.jobs) {
    if (typeof job.script === 'string' && !existsSync(job.script)) throw new PipelineError(`${path}: job "${job.id}": cannot read ${job.script}: no such file`);
  }
  return pipeline;
}

/**
 * A pipeline file checked as far as it can be without a master, all that `titan submit` checks
 * before it sends and `titan validate` reports: the file (YAML, scripts, the project zip), the
 * job graph as the master checks it (duplicate ids, unknown parents, cycles) and the name a
 * schedule is registered under. Every problem of the last two is listed, one per line.
 */
export function checkedPipeline(path: string): Pipeline {
  const pipeline = loadPipeline(path);
  const problems = validateDag(pipeline.jobs.map((j) => ({ id: j.id, dependsOn: j.dependsOn ?? [] }))).map((p) => p.message);
  // A schedule is registered under the pipeline's name (its cron was checked with the YAML).
  const badName = pipeline.schedule ? pipelineNameProblem(pipeline.name ?? 'pipeline') : null;
  if (badName !== null) problems.push(badName);
  if (problems.length > 0) throw new PipelineError(problems.map((p) => `${path}: ${p}`).join('\n'));
  return pipeline;
}

/**
 * Parses pipeline text; `path` places it (scripts are relative to its folder) and names it in
 * errors. `project: true` zips the folder, which only callers that pass `readProject` allow.
 */
export function parsePipeline(text: string, path: string, options: { readProject?: boolean } = {}): Pipeline {
  let source: ReturnType<typeof readPipelineYaml>;
  try {
    source = readPipelineYaml(text, path);
  } catch (err) {
    if (err instanceof PipelineYamlError) throw new PipelineError(err.message);
    throw err;
  }
  const { doc, named, projectAt, yamlIndex } = source;
  const base = dirname(resolve(path));
  if (doc.project && !options.readProject) throw new PipelineError(`${projectAt}: project mode zips the pipeline's folder, which is not read here; submit it with "titan submit", or set "project: false"`);
  const archives = doc.project ? projectArchives(doc.jobs, yamlIndex, base, `${zipBaseName(named ? doc.name : basename(base))}.zip`, projectAt) : null;
  const jobs = doc.jobs.map(({ file, fileAt: _at, ...job }): JobInput => {
    if (file === undefined) return job;
    return { ...job, ...(archives ? { archive: archives.get(job.id) as ArchiveSource } : { script: resolve(base, file) }) };
  });
  return {
    name: doc.name,
    ...(doc.tags.length > 0 && { tags: doc.tags }),
    ...(doc.fairness !== undefined && { fairness: doc.fairness }),
    ...(doc.schedule !== undefined && { schedule: doc.schedule }),
    ...(doc.singleton !== undefined && { singleton: doc.singleton }),
    ...(doc.debounce !== undefined && { debounce: doc.debounce }),
    ...(doc.on !== undefined && { on: doc.on }),
    jobs,
  };
}

/**
 * Project mode: zips `folder` once and gives each job that runs something the archive with its
 * `file` as entry: relative to the folder, `/`-separated, inside it, and present in the zip.
 */
function projectArchives(jobs: readonly PipelineJob[], yamlIndex: readonly (number | null)[], folder: string, zipName: string, projectAt: string): Map<string, ArchiveSource> {
  let zip: ReturnType<typeof buildProjectZip>;
  try {
    zip = buildProjectZip(folder);
  } catch (err) {
    if (err instanceof ProjectZipError) throw new PipelineError(`${projectAt}: ${err.message}`);
    throw err;
  }
  const files = new Set(zip.files);
  const archives = new Map<string, ArchiveSource>();
  jobs.forEach((j, k) => {
    if (j.file === undefined) return;
    const where = `${j.fileAt ?? folder}: "jobs.${yamlIndex[k] ?? k}.file"`;
    const entry = posix.normalize(j.file.replace(/\\/g, '/'));
    if (entry.startsWith('/') || /^[A-Za-z]:/.test(entry) || entry === '.' || entry === '..' || entry.startsWith('../')) throw new PipelineError(`${where} must be a file inside the project folder ${folder}, got ${j.file}`);
    if (!files.has(entry)) {
      const why = existsSync(join(folder, entry)) ? `is left out of the project zip (by ${IGNORE_FILE}, or as .git, .env, node_modules or __pycache__, or as not a regular file)` : 'names no file in the project folder';
      throw new PipelineError(`${where} ${entry} ${why}`);
    }
    archives.set(j.id, { name: zipName, content: zip.content, entry });
  });
  return archives;
}

/** A pipeline (or folder) name as a bare zip file name: letters, digits, "_", "-" and ".". */
function zipBaseName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '').slice(0, 200) || 'project';
}
