import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { attachment } from './http-common.js';
import { defaultWebRoot, isServerPath, registerStatic, SECURITY_HEADERS } from './http-static.js';

const dir = mkdtempSync(join(tmpdir(), 'titan-web-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaultWebRoot', () => {
  it('is dist/web beside the compiled server, and the checkout dist/web when run from source', () => {
    expect(defaultWebRoot('file:///opt/titan/dist/src/server/http-static.js')).toBe('/opt/titan/dist/web/');
    expect(defaultWebRoot('file:///home/me/titan/src/server/http-static.ts')).toBe('/home/me/titan/dist/web/');
  });
});

describe('isServerPath', () => {
  it('covers the API, /healthz and /metrics only', () => {
    for (const p of ['/api', '/api/', '/api/runs', '/healthz', '/metrics']) expect(isServerPath(p)).toBe(true);
    for (const p of ['/', '/apis', '/runs/api', '/metrics2', '/healthz/x']) expect(isServerPath(p)).toBe(false);
  });
});

describe('registerStatic', () => {
  let app: FastifyInstance;
  afterEach(() => app.close());

  const build = (root: string): FastifyInstance => {
    app = Fastify();
    app.addHook('onRequest', async (_req, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    registerStatic(app, root);
    return app;
  };

  it('serves the build, falls back to index.html for client routes, and answers JSON for API paths', async () => {
    const root = join(dir, 'built');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><div id="root">app</div>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'export {};');
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    build(root);
    const index = await app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('id="root"');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(SECURITY_HEADERS['content-security-policy']);
    // Titan's addresses too: the app replaces them with its own (web/src/routes.ts).
    for (const route of ['/runs/abc', '/runs/abc/jobs/x?tab=logs', '/assets/missing-route', '/dags', '/dags/', '/dags/new', '/dags/DAG-ml-pipeline?job=DAG-train', '/dags/DAG-v1.2', '/agents']) {
      const res = await app.inject({ url: route });
      expect(res.statusCode, route).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('id="root"');
    }
    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ url: '/favicon.svg' })).headers['cache-control']).toBe('no-cache');
    for (const path of ['/api/nothing', '/api', '/metrics', '/healthz']) {
      const res = await app.inject({ url: path });
      expect(res.statusCode, path).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await app.inject({ method: 'POST', url: '/runs/abc' })).json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await app.inject({ url: '/../../etc/passwd' })).body).not.toContain('root:');
  });

  it('says the dashboard is not built when the folder has no index.html', async () => {
    build(join(dir, 'nothing-here'));
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('npm run build');
    expect((await app.inject({ url: '/runs/abc' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/x' })).headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('attachment', () => {
  it('keeps a plain name and makes any other safe', () => {
    expect(attachment('r1-job-attempt-1.log')).toBe(`attachment; filename="r1-job-attempt-1.log"; filename*=UTF-8''r1-job-attempt-1.log`);
    expect(attachment('report "final".pdf')).toBe(`attachment; filename="report_final_.pdf"; filename*=UTF-8''report%20%22final%22.pdf`);
    expect(attachment('résumé (1).txt')).toBe(`attachment; filename="r_sum_1_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.txt`);
    expect(attachment('..\r\nx')).toBe(`attachment; filename="x"; filename*=UTF-8''_x`);
    expect(attachment('')).toBe(`attachment; filename="download"; filename*=UTF-8''download`);
  });
});
