/**
 * Attacks on notifications out: anyone who may submit a run chooses the URLs the master POSTs to.
 * Each test is one attempt to make the master reach what it must not, or hang on, or be steered
 * by, a hostile receiver: cloud metadata addresses written in every form a URL allows, a name
 * that resolves to one, a redirect, an endless answer, a receiver that never answers, and URLs
 * that are not http(s) at all.
 */
import { createServer, type Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunSpecSchema } from '../../src/core/model.js';
import { forbiddenAddress, MAX_RESPONSE_BYTES, notificationPoster } from '../../src/server/notify-post.js';

const request = (url: string) => ({ url, body: '{"event":"success"}', headers: { 'content-type': 'application/json' } });

describe('notification POSTs from the master', () => {
  const hits: string[] = [];
  let endlessSent = 0;
  let base = '';
  let port = 0;
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/inside' });
      return res.end();
    }
    if (req.url === '/endless') {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed) {
          endlessSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      return pump();
    }
    // '/silent' never answers
    if (req.url !== '/silent') res.end('ok');
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const post = notificationPoster({ timeoutMs: 1000 });

  it('refuses link-local and metadata addresses written in the URL, in every spelling', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://2852039166/', // 169.254.169.254 as one number
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://169.254.1.1:8080/',
      'http://[fe80::1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
    ]) {
      const outcome = await post(request(url));
      expect(outcome, url).toMatchObject({ status: null, final: true });
      expect(outcome.error, url).toMatch(/link-local/);
    }
    expect(forbiddenAddress('127.0.0.1')).toBeNull();
    expect(forbiddenAddress('10.0.0.1')).toBeNull();
  });

  it('refuses a name that resolves to a metadata address (checked after DNS, on the address connected to)', async () => {
    const resolvesTo = (address: string) => (_host: string, _o: { all: true }, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => cb(null, [{ address, family: 4 }]);
    const toMetadata = notificationPoster({ timeoutMs: 1000, lookup: resolvesTo('169.254.169.254') });
    const outcome = await toMetadata(request(`http://metadata.example.test:${port}/via-dns`));
    expect(outcome).toMatchObject({ status: null, final: true });
    expect(outcome.error).toMatch(/metadata\.example\.test resolves to 169\.254\.169\.254/);
    // The same name resolving to an allowed address is posted to: the check is the lookup's.
    const toReceiver = notificationPoster({ timeoutMs: 1000, lookup: resolvesTo('127.0.0.1') });
    expect(await toReceiver(request(`http://metadata.example.test:${port}/allowed`))).toEqual({ status: 200, error: null });
    expect(hits).toContain('/allowed');
    expect(hits).not.toContain('/via-dns');
  });

  it('never follows a redirect', async () => {
    const outcome = await post(request(`${base}/redirect`));
    expect(outcome).toMatchObject({ status: 302, final: true });
    expect(outcome.error).toMatch(/redirect to \/inside\), which is not followed/);
    expect(hits).not.toContain('/inside');
  });

  it('reads a bounded part of an endless answer and returns at once', async () => {
    const started = Date.now();
    expect(await post(request(`${base}/endless`))).toEqual({ status: 200, error: null });
    const took = Date.now() - started;
    console.log(`endless answer: returned after ${took} ms; the receiver wrote ${endlessSent} bytes before the master hung up (cap ${MAX_RESPONSE_BYTES})`);
    expect(took).toBeLessThan(1000);
  });

  it('gives up on a receiver that never answers at the deadline', async () => {
    const started = Date.now();
    const outcome = await post(request(`${base}/silent`));
    const took = Date.now() - started;
    console.log(`silent receiver: given up after ${took} ms (deadline 1000 ms)`);
    expect(outcome).toEqual({ status: null, error: 'no answer within 1 s' });
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3000);
  });

  it('refuses URLs that are not http or https, at submission and at sending', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1:6379/_FLUSHALL', 'ftp://example.com/x', 'not a url']) {
      const parsed = RunSpecSchema.safeParse({ on: { failure: url }, jobs: [{ id: 'a', kind: 'approval' }] });
      expect(parsed.success, url).toBe(false);
      expect(parsed.error?.issues[0]?.path, url).toEqual(['on', 'failure']);
      expect((await post(request(url))).final, url).toBe(true);
    }
  });
});
