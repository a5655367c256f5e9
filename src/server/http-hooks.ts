/**
 * `POST /hooks/NAME`: the one route of the HTTP port that no cluster token guards. The trigger
 * authenticates its deliveries (master/triggers.ts); this door treats every byte as hostile: it
 * takes no body parser of the app, refuses a declared or streamed body over the trigger's limit
 * as soon as it is known (413, closing the connection rather than reading the rest), and hands
 * the raw bytes on, which a signature is computed over.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Master } from '../master/master.js';
import type { HookAnswer } from '../master/triggers.js';

/** The body, or how many bytes had arrived (or were declared) when it went over `limit`. */
function readLimited(req: IncomingMessage, limit: number): Promise<{ body: Buffer } | { over: number }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ over: declared });
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve({ over: size });
        return;
      }
      parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve({ body: Buffer.concat(parts) }));
    req.once('error', reject);
  });
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function send(reply: FastifyReply, answer: HookAnswer, close = false): FastifyReply {
  if (answer.retryAfterS !== undefined) reply.header('retry-after', String(answer.retryAfterS));
  if (close) reply.header('connection', 'close');
  return reply.code(answer.status).send(answer.body);
}

export function registerHookRoutes(app: FastifyInstance, master: Master): void {
  void app.register(async (hooks) => {
    // The raw request stream is read here, against the trigger's own limit, never by a parser.
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
    hooks.post('/hooks/:name', async (req, reply) => {
      const { name } = req.params as { name: string };
      const triggers = master.triggers;
      const limit = triggers.maxBodyOf(name);
      if (limit === null) return send(reply, triggers.unknown(name));
      const key = header(req.raw, 'idempotency-key') ?? header(req.raw, 'x-github-delivery');
      const read = await readLimited(req.raw, limit);
      if ('over' in read) return send(reply, await triggers.tooLarge(name, read.over, key), true);
      const answer = await triggers.deliver(name, {
        signature: header(req.raw, 'x-hub-signature-256'),
        authorization: header(req.raw, 'authorization'),
        idempotencyKey: key,
        event: header(req.raw, 'x-github-event'),
        body: read.body,
      });
      return send(reply, answer);
    });
  });
}
