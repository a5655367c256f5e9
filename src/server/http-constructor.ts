/**
 * The constructor page's API: its saved drafts, the script library (Titan's registry of
 * scripts on the master), the catalog of every script the cluster knows (library, uploads, past
 * runs) and pipelines written there: parsed for the editor, or deployed with every job's `file`
 * resolved through the catalog. docs/http-api.md ("Constructor") is the contract.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TitanError } from '../core/errors.js';
import { LIMITS, RunSpecSchema, Sha256Schema } from '../core/model.js';
import { MAX_PIPELINE_YAML } from '../core/pipeline-yaml.js';
import { Drafts, MAX_DRAFT_BYTES } from '../master/drafts.js';
import { FileArea } from '../master/file-area.js';
import type { Master } from '../master/master.js';
import { ScriptCatalog } from '../master/script-catalog.js';
import { COMMANDS, performCall } from './commands/table.js';
import type { Gatekeeper } from './gatekeeper.js';
import { bodyObject, callOf, parseWith } from './http-common.js';
import { refusal } from '../protocol/access.js';

/** Library scripts larger than this are not sent for viewing. */
export const MAX_VIEW_BYTES = 1024 * 1024;

const NameParam = z.object({ name: z.string() });
const ContentBody = z.object({ content: z.unknown().refine((c) => c !== undefined, 'required') });
const RenameBody = z.object({ to: z.string(), overwrite: z.boolean().default(false) });
const YamlBody = z.object({ yaml: z.string().min(1).max(MAX_PIPELINE_YAML) });
const CatalogQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(500) });
const HashParam = z.object({ sha256: Sha256Schema });

/** A pipeline's text (up to MAX_PIPELINE_YAML characters) inside its JSON body. */
const PIPELINE_BODY_LIMIT = 2 * MAX_PIPELINE_YAML;

const nameOf = (params: unknown): string => parseWith(NameParam, params, 'path').name;

export function registerConstructorRoutes(app: FastifyInstance, master: Master, gate: Gatekeeper, dataDir: string): void {
  const catalog = new ScriptCatalog({ store: master.store, blobs: master.blobs, library: master.registry, uploads: master.uploads });
  const drafts = new Drafts(join(dataDir, 'drafts'), Date.now, (line) => void process.stderr.write(`titan master: ${line}\n`));

  // ---- drafts -----------------------------------------------------------------------------------

  app.get('/api/drafts', { config: { access: 'drafts.list' } }, async () => ({ drafts: drafts.list() }));
  app.get('/api/drafts/:name', { config: { access: 'drafts.get' } }, async (req) => drafts.get(nameOf(req.params)));
  app.put('/api/drafts/:name', { config: { access: 'drafts.put' }, bodyLimit: MAX_DRAFT_BYTES + 64 * 1024 }, async (req) => {
    const name = Drafts.check(nameOf(req.params));
    return drafts.put(name, parseWith(ContentBody, bodyObject(req), 'draft').content);
  });
  app.post('/api/drafts/:name/rename', { config: { access: 'drafts.rename' } }, async (req) => {
    const p = parseWith(RenameBody, bodyObject(req), 'rename');
    return drafts.rename(nameOf(req.params), p.to, p.overwrite);
  });
  app.delete('/api/drafts/:name', { config: { access: 'drafts.delete' } }, async (req) => {
    const name = nameOf(req.params);
    drafts.delete(name);
    return { name, deleted: true };
  });

  // ---- script library ---------------------------------------------------------------------------

  app.get('/api/scripts', { config: { access: 'files.list' } }, async (req) => ({ scripts: (await performCall('files.list', callOf(req, master, gate), { area: 'scripts' })).files }));
  app.get('/api/scripts/:name', { config: { access: 'files.get' } }, async (req, reply) => {
    const name = FileArea.check(nameOf(req.params));
    const data = master.registry.get(name);
    if (data === null) throw new TitanError('NOT_FOUND', `no script ${name} in the library`);
    if (data.length > MAX_VIEW_BYTES) return reply.code(413).send({ code: 'BAD_REQUEST', message: `${name} is ${data.length} bytes; only scripts up to ${MAX_VIEW_BYTES} bytes are shown` });
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(data);
  });
  void app.register(async (raw) => {
    // The script's bytes as sent: text/plain is not decoded, application/octet-stream is accepted.
    raw.removeContentTypeParser('text/plain');
    raw.addContentTypeParser(['text/plain', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: LIMITS.maxScriptBytes }, (_req, body, done) => done(null, body));
    raw.put('/api/scripts/:name', { config: { access: 'files.put' }, bodyLimit: LIMITS.maxScriptBytes }, async (req) => {
      const name = FileArea.check(nameOf(req.params));
      if (!Buffer.isBuffer(req.body)) throw new TitanError('BAD_REQUEST', 'send the script as the body (content-type: text/plain or application/octet-stream)');
      master.registry.put(name, req.body);
      return { name, size: req.body.length };
    });
  });

  // ---- every script the cluster knows ----------------------------------------------------------

  app.get('/api/script-catalog', { config: { access: 'files.list' } }, async (req) => catalog.list(parseWith(CatalogQuery, req.query, 'query').limit));
  app.get('/api/script-catalog/:sha256', { config: { access: 'files.get' } }, async (req, reply) => {
    const { sha256 } = parseWith(HashParam, req.params, 'path');
    const data = await catalog.content(sha256);
    if (data === null) throw new TitanError('NOT_FOUND', `the cluster has no script with hash ${sha256}`);
    if (data.length > MAX_VIEW_BYTES) return reply.code(413).send({ code: 'BAD_REQUEST', message: `the script is ${data.length} bytes; only scripts up to ${MAX_VIEW_BYTES} bytes are shown` });
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(data);
  });

  // ---- pipelines --------------------------------------------------------------------------------

  app.post('/api/pipelines/parse', { config: { access: 'pipeline.parse' }, bodyLimit: PIPELINE_BODY_LIMIT }, async (req) => {
    const { yaml } = parseWith(YamlBody, bodyObject(req), 'pipeline');
    return performCall('pipeline.parse', callOf(req, master, gate), { text: yaml });
  });

  app.post('/api/pipelines/deploy', { config: { access: 'submit' }, bodyLimit: PIPELINE_BODY_LIMIT }, async (req) => {
    const { yaml } = parseWith(YamlBody, bodyObject(req), 'pipeline');
    const { doc, projectAt } = await master.pipelines.read(yaml, 'pipeline.yaml');
    if (doc.project) throw new TitanError('BAD_REQUEST', `${projectAt}: project mode is not available here: the script library has no folders; set "project: false" and name library scripts in "file"`);
    const resolve = await catalog.resolver();
    const jobs = doc.jobs.map(({ file, fileAt, ...job }) => {
      if (file === undefined) return job;
      const name = file.replace(/^\.\//, '');
      const where = `${fileAt ?? 'pipeline.yaml'}: job "${job.id}"`;
      if (!FileArea.valid(name)) throw new TitanError('BAD_REQUEST', `${where}: "${file}" is not a script of the library (a bare file name)`);
      const found = resolve(name);
      if (found === null) throw new TitanError('BAD_REQUEST', `${where}: the cluster has no script ${name}: it is not in the library or the uploads, and no past run's script of that name is in the blob store; upload it first`);
      const data = found.source === 'run' ? null : (found.source === 'library' ? master.registry : master.uploads).get(name);
      // A file of the master's is taken as it is now; a past run's script is already a blob.
      const sha256 = data === null ? found.sha256 : master.blobs.putBuffer(data);
      return { ...job, script: { name, sha256 } };
    });
    const run = parseWith(RunSpecSchema, { name: doc.name, tags: doc.tags, ...(doc.fairness && { fairness: doc.fairness }), jobs }, 'pipeline');
    const ctx = callOf(req, master, gate);
    if (doc.schedule !== undefined) {
      const refused = refusal(ctx.principal, 'schedule.put');
      if (refused !== null) throw new TitanError('FORBIDDEN', refused);
      const { schedule } = await COMMANDS['schedule.put'].handle(ctx, { name: doc.name, schedule: doc.schedule, run });
      return { schedule: schedule.name, nextAt: schedule.nextAt };
    }
    const { runId } = await COMMANDS.submit.handle(ctx, { run });
    return { runId };
  });
}
