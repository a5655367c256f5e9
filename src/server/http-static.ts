/**
 * The dashboard's files and the headers every response carries.
 *
 * The built web app (`dist/web`, made by `npm run build`) is served from `/`; a GET of any other
 * path that is neither an API path nor a file gets `index.html`, so the app's own routes
 * (`/runs/<id>`) load it, and so do Titan's (`/dags/new`, `/dags/<dag_id>?job=…`, `/agents`), which
 * the app replaces with its own. Without a build, `/` explains how to make one. Every response gets a
 * strict Content Security Policy (no inline scripts or styles, no framing, nothing from other
 * origins), `nosniff`, no referrer and no framing; unknown API paths answer JSON, never HTML.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Paths the dashboard never owns: they answer JSON (or Prometheus text), whatever happens. */
export const isServerPath = (path: string): boolean => path === '/api' || path.startsWith('/api/') || path === '/healthz' || path === '/metrics' || path.startsWith('/hooks/');

/**
 * Where the built dashboard is: `dist/web` beside the compiled server (`dist/src/server` →
 * `dist/web`); run from source (tsx, vitest), the same `dist/web` of the checkout.
 */
export function defaultWebRoot(moduleUrl: string = import.meta.url): string {
  const fromSource = moduleUrl.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../dist/web/' : '../../web/', moduleUrl));
}

export const isBuilt = (root: string): boolean => existsSync(join(root, 'index.html'));

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Titan: dashboard not built</title></head>
<body>
<h1>The Titan dashboard is not built</h1>
<p>This master serves its API (<code>/api</code>), <code>/metrics</code> and <code>/healthz</code>, but it found no dashboard files.
Run <code>npm run build</code> in the Titan checkout (it builds the web app into <code>dist/web</code>), then restart the master.</p>
</body>
</html>
`;

const pathOf = (req: FastifyRequest): string => req.url.split('?')[0] ?? '/';

/** Adds the security headers to every response, then serves the dashboard (or the page saying it is not built). */
export function registerStatic(app: FastifyInstance, webRoot: string): { built: boolean } {
  const built = isBuilt(webRoot);
  if (built) {
    void app.register(fastifyStatic, {
      root: webRoot,
      prefix: '/',
      wildcard: true,
      dotfiles: 'ignore',
      // Hashed bundles never change; everything else (index.html above all) is revalidated.
      cacheControl: false,
      setHeaders: (reply, path) => {
        const immutable = path.startsWith(join(webRoot, 'assets'));
        reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) => {
    const path = pathOf(req);
    const isGet = req.method === 'GET' || req.method === 'HEAD';
    if (isServerPath(path) || !isGet) return reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${path}` });
    if (built) return reply.header('cache-control', 'no-cache').sendFile('index.html');
    return reply
      .code(path === '/' ? 200 : 404)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(NOT_BUILT_PAGE);
  });
  return { built };
}
