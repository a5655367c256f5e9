/**
 * The data bus over HTTP: `GET /api/kv?prefix&limit` lists keys; `GET`, `PUT` (JSON
 * `{value, ttlMs?}`) and `DELETE` on `/api/kv/<key>`. A key may contain "/", so it is the rest of
 * the path. Errors go through the app's handler (`{code, message}` with 400/404/409).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DATA_LIMITS } from '../core/data.js';
import { TitanError } from '../core/errors.js';
import type { Master } from '../master/master.js';
import { parseData } from './handlers-data.js';

/** A 1 MiB value may grow sixfold as JSON (\u escapes). */
const PUT_BODY_LIMIT = 6 * DATA_LIMITS.maxValueBytes + 64 * 1024;

const keyOf = (req: FastifyRequest): string => (req.params as { '*': string })['*'];

export function registerDataRoutes(app: FastifyInstance, master: Master): void {
  app.get('/api/kv', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const p = parseData('kv.keys', { prefix: q.prefix, limit: q.limit === undefined ? undefined : Number(q.limit) });
    return master.kv.keys(p.prefix, p.limit);
  });
  app.get('/api/kv/*', async (req) => {
    const { key } = parseData('kv.get', { key: keyOf(req) });
    const entry = await master.kv.get(key);
    if (entry.version === 0) throw new TitanError('NOT_FOUND', `no key "${key}"`);
    return { key, ...entry };
  });
  app.put('/api/kv/*', { bodyLimit: PUT_BODY_LIMIT }, async (req) => {
    const body = typeof req.body === 'object' && req.body !== null ? req.body : { value: req.body };
    const p = parseData('kv.set', { ...body, key: keyOf(req) });
    return master.kv.set(p.key, p.value, p.ttlMs ?? null);
  });
  app.delete('/api/kv/*', async (req) => master.kv.del(parseData('kv.del', { key: keyOf(req) }).key));
}
