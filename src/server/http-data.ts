/**
 * The data bus over HTTP.
 *
 * Keys: `GET /api/kv?prefix&limit` lists keys; `GET`, `PUT` (JSON `{value, ttlMs?}`) and
 * `DELETE` on `/api/kv/<key>`. Artifacts: `GET /api/artifacts?prefix&runId&limit` lists them;
 * `GET /api/artifacts/download/<key>` streams one as an attachment with its exact length and its
 * sha256 in `X-Titan-Sha256`. Keys may contain "/", so each is the rest of the path. Errors go
 * through the app's handler (`{code, message}` with 400/404/409).
 */
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ARTIFACT_CHUNK_BYTES, DATA_LIMITS } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { checkParams, perform } from './commands/table.js';
import type { Gatekeeper } from './gatekeeper.js';
import { attachment, callOf, numberOf, queryOf } from './http-common.js';

/** A 1 MiB value may grow sixfold as JSON (\u escapes). */
const PUT_BODY_LIMIT = 6 * DATA_LIMITS.maxValueBytes + 64 * 1024;

const keyOf = (req: FastifyRequest): string => (req.params as { '*': string })['*'];

export function registerDataRoutes(app: FastifyInstance, master: Master, gate: Gatekeeper): void {
  app.get('/api/kv', { config: { access: 'kv.keys' } }, async (req) => {
    const q = queryOf(req);
    return perform('kv.keys', callOf(req, master, gate), { prefix: q.prefix, limit: numberOf(q.limit) });
  });
  app.get('/api/kv/*', { config: { access: 'kv.get' } }, async (req) => {
    const key = keyOf(req);
    const entry = await perform('kv.get', callOf(req, master, gate), { key });
    if (entry.version === 0) throw new TitanError('NOT_FOUND', `no key "${key}"`);
    return { key, ...entry };
  });
  app.put('/api/kv/*', { config: { access: 'kv.set' }, bodyLimit: PUT_BODY_LIMIT }, async (req) => {
    const body = typeof req.body === 'object' && req.body !== null ? req.body : { value: req.body };
    return perform('kv.set', callOf(req, master, gate), { ...body, key: keyOf(req) });
  });
  app.delete('/api/kv/*', { config: { access: 'kv.del' } }, async (req) => perform('kv.del', callOf(req, master, gate), { key: keyOf(req) }));

  app.get('/api/artifacts', { config: { access: 'artifact.list' } }, async (req) => {
    const q = queryOf(req);
    return perform('artifact.list', callOf(req, master, gate), { prefix: q.prefix, runId: q.runId, limit: numberOf(q.limit) });
  });
  app.get('/api/artifacts/download/*', { config: { access: 'artifact.get' } }, async (req, reply) => {
    const { key } = checkParams('artifact.get', { key: keyOf(req) });
    const first = await master.artifacts.read(key, 0, ARTIFACT_CHUNK_BYTES);
    const { artifact } = first;
    // Every later chunk must come from the same content: a key replaced meanwhile fails the download.
    async function* chunks(): AsyncGenerator<Buffer> {
      if (first.data.length > 0) yield first.data;
      for (let offset = first.nextOffset; offset < artifact.size; ) {
        const chunk = await master.artifacts.read(key, offset, ARTIFACT_CHUNK_BYTES, artifact.sha256);
        if (chunk.data.length === 0) throw new TitanError('INTERNAL', `artifact "${key}" ended at ${offset} of ${artifact.size} bytes`);
        offset = chunk.nextOffset;
        yield chunk.data;
      }
    }
    return reply
      .type('application/octet-stream')
      .header('content-length', String(artifact.size))
      .header('content-disposition', attachment(basename(key)))
      .header('x-titan-sha256', artifact.sha256)
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks(), { objectMode: false }));
  });
}
