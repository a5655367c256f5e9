/**
 * Named tokens, roles and dashboard users against a real master and worker. The attacks: a
 * token read back from `titan token list` or the data directory; a revoked token kept alive on an
 * open TCP session, a fresh HELLO or an HTTP bearer; a token used after its expiry; a second token
 * under a name already taken; an operator minting tokens (an admin one included) or reading the
 * audit, over TCP or HTTP; a read, operator or approver principal calling an HTTP route beyond its role, or reading
 * a job's environment values; a removed dashboard user keeping its session cookie; a gate
 * decided under a typed name (`by: 'mallory'`); a job's own token deciding its run's gate.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GateDecision } from '../../src/core/model.js';
import type { IdentityInfo } from '../../src/protocol/access-methods.js';
import type { RunView } from '../../src/protocol/methods.js';
import { TitanClient } from '../../src/sdk/client.js';
import { Cluster, eventually, ROOT } from '../helpers/cluster.js';
import { js, RawConnection, refusal, sh, TempDir, waitJob, waitRunStatus } from '../helpers/scripts.js';

const HOLD = sh('sleep 120\n', 'hold.sh');
const TICK = sh('i=0\nwhile true; do i=$((i+1)); echo tick-$i; sleep 0.2; done\n', 'tick.sh');
const PASSWORD = 'a long enough dashboard password';
const TOKEN_SHAPE = /^tok\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/;

/**
 * A job that tries to pass a gate of its own run with its own TITAN_TOKEN, over TCP (claiming to
 * be mallory) and over HTTP (argv[2] is the HTTP port), and prints what each answered.
 */
const SELF_APPROVER = js(
  `import(${JSON.stringify(`${ROOT}/dist/src/sdk/client.js`)}).then(async ({ TitanClient }) => {
  const ref = process.env.TITAN_RUN_ID + '/' + process.argv[2];
  const client = new TitanClient();
  await client.call('gate.decide', { ref, approved: true, by: 'mallory', comment: null }).then(() => console.log('TCP DECIDED'), (e) => console.log('TCP REFUSED ' + e.code));
  client.close();
  const res = await fetch('http://127.0.0.1:' + process.argv[3] + '/api/runs/' + process.env.TITAN_RUN_ID + '/jobs/' + process.argv[2] + '/approve', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.TITAN_TOKEN, 'content-type': 'application/json' }, body: '{"by":"mallory"}' });
  console.log('HTTP ' + res.status);
});
`,
  'self-approve.js',
);

describe('named tokens, roles and dashboard users', () => {
  const cluster = new Cluster();
  const tmp = new TempDir('titan-identities-');
  let admin: TitanClient;
  const opened: TitanClient[] = [];
  const rawOpened: RawConnection[] = [];
  const as = (token: string): TitanClient => {
    const c = new TitanClient({ host: '127.0.0.1', port: cluster.port, token });
    opened.push(c);
    return c;
  };
  const raw = async (): Promise<RawConnection> => {
    const c = await RawConnection.open(cluster.port);
    rawOpened.push(c);
    return c;
  };
  const url = (path: string): string => `http://127.0.0.1:${cluster.httpPort}${path}`;
  /** The master's store (SQLite: the database and its write-ahead log), where identities live. */
  const storeFiles = (): string[] => ['titan.db', 'titan.db-wal'].map((f) => join(cluster.dir, 'data', f)).filter((f) => existsSync(f));
  const JSON_BODY = { 'content-type': 'application/json' };
  /** An HTTP request with `token` as bearer; a POST carries a JSON body. */
  const http = (token: string, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(url(path), { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && JSON_BODY) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const errorCode = async (res: Response): Promise<string> => ((await res.json()) as { code: string }).code;
  const login = async (body: Record<string, string>): Promise<{ cookie: string; csrf: string; user: string; permissions: string[] }> => {
    const res = await fetch(url('/api/login'), { method: 'POST', headers: JSON_BODY, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
    const id = /titan_session=([0-9a-f]{64})/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? expect.unreachable('no session cookie');
    return { cookie: `titan_session=${id}`, ...((await res.json()) as { csrf: string; user: string; permissions: string[] }) };
  };

  /** `titan token create` with bad arguments: exit 2, the problem named, no stack, no token made. */
  async function expectUsageErrors(cases: [string[], RegExp][]): Promise<void> {
    for (const [args, problem] of cases) {
      const out = await cluster.cli(['token', 'create', 'bad-args', ...args]);
      expect(out.stderr).toMatch(problem);
      expect(out.stderr).not.toMatch(/\n\s+at /);
      expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(2);
    }
    expect((await admin.call('token.list', {})).tokens.map((t) => t.name)).not.toContain('bad-args');
  }

  /** A run whose job holds a slot with a secret in its environment. */
  async function holding(name: string): Promise<string> {
    const { runId } = await admin.submit({ name, jobs: [{ id: 'hold', script: HOLD, retries: 0, env: { SECRET: 'hunter2' } }] });
    await waitJob(admin, `${runId}/hold`, 'RUNNING');
    return runId;
  }
  /** A run of approval gates, all waiting. */
  async function gated(name: string, ids: string[]): Promise<string> {
    const { runId } = await admin.submit({ name, jobs: ids.map((id) => ({ id, kind: 'approval' as const, message: `${id}?` })) });
    for (const id of ids) await waitJob(admin, `${runId}/${id}`, 'WAITING_APPROVAL');
    return runId;
  }

  beforeAll(async () => {
    await cluster.startMaster();
    await cluster.startWorker({ slots: 8 });
    admin = cluster.client();
  });
  afterAll(async () => {
    for (const c of opened) c.close();
    for (const c of rawOpened) c.destroy();
    await cluster.stop();
    tmp.remove();
  });

  it('prints a named token once, lists it without its secret, keeps only its hash, and it says who it is over TCP and HTTP', async () => {
    const created = await cluster.cli(['token', 'create', 'alice', '--role', 'operator,approver', '--expires', '30d']);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(TOKEN_SHAPE);
    expect(created.stdout).toBe(`${token}\n`);
    expect(created.stderr).toMatch(/shown only now/);
    const secret = token.split('.')[2] ?? expect.unreachable('no secret');

    const listed = await cluster.cli(['token', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain(secret);
    const alice = (JSON.parse(listed.stdout) as IdentityInfo[]).find((t) => t.name === 'alice') ?? expect.unreachable('alice not listed');
    expect(alice).toMatchObject({ roles: ['operator', 'approver'], createdBy: 'cluster-token' });
    expect(Math.abs((alice.expiresAt ?? 0) - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
    expect(Object.keys(alice).sort()).toEqual(['createdAt', 'createdBy', 'expiresAt', 'name', 'roles']);
    const table = await cluster.cli(['token', 'list']);
    expect(table.stdout).toContain('alice');
    expect(table.stdout).not.toContain(secret);

    // Kept in the store: its database and write-ahead log, private to the master.
    const files = storeFiles();
    const stored = files.map((f) => readFileSync(f, 'latin1')).join('');
    expect(stored).toContain('alice');
    expect(stored).not.toContain(secret);
    for (const f of files) expect(statSync(f).mode & 0o777, f).toBe(0o600);

    expect(await as(token).call('whoami', {})).toEqual({ name: 'alice', kind: 'token', permissions: ['read', 'operate', 'approve'] });
    expect((await http(token, 'GET', '/api/runs')).status).toBe(200);
    // Signing the dashboard in with it names the session after the token.
    expect(await login({ token })).toMatchObject({ user: 'alice', permissions: ['read', 'operate', 'approve'] });
    // Only the token as printed: a changed or missing secret is refused.
    expect((await refusal(as(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`).stats())).code).toBe('UNAUTHORIZED');
    expect((await http(`tok.${token.split('.')[1]}.`, 'GET', '/api/runs')).status).toBe(401);
  });

  it('refuses a revoked token on the open session’s very next request, on a new HELLO and as an HTTP bearer', async () => {
    const created = await cluster.cli(['token', 'create', 'revokee', '--role', 'operator']);
    const token = created.stdout.trim();
    const session = await raw();
    expect(await session.hello(token)).toMatchObject({ ok: true });
    expect(await session.request(2, 'whoami')).toMatchObject({ ok: true, result: { name: 'revokee' } });
    const sdk = as(token);
    expect((await sdk.stats()).uptimeMs).toBeGreaterThan(0);
    const bearerSession = await login({ token });

    const revoked = await cluster.cli(['token', 'revoke', 'revokee']);
    expect(revoked.code, revoked.stderr).toBe(0);
    // The same connection, no reconnect: refused and closed.
    expect(await session.request(3, 'whoami')).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/revokee was revoked/) } });
    expect(await session.closesWithin(5000)).toBe(true);
    expect((await refusal(sdk.stats())).code).toBe('UNAUTHORIZED');
    const again = await raw();
    expect(await again.hello(token)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    const bearer = await http(token, 'GET', '/api/runs');
    expect(bearer.status).toBe(401);
    expect(await errorCode(bearer)).toBe('UNAUTHORIZED');
    // The dashboard session it signed in ends too.
    expect((await fetch(url('/api/runs'), { headers: { cookie: bearerSession.cookie } })).status).toBe(401);
    // A new token under the same name does not bring the old one back.
    const fresh = await admin.call('token.create', { name: 'revokee', roles: ['read'], expiresAt: null });
    expect((await refusal(as(token).stats())).code).toBe('UNAUTHORIZED');
    expect((await as(fresh.token).call('whoami', {})).permissions).toEqual(['read']);
  });

  /**
   * Revokes the token `name` while `follow` streams a ticking job's output to it; returns the
   * times at which output still arrived a second or more after the revocation.
   */
  async function outputAfterRevocation(name: string, follow: (token: string, runId: string, received: number[]) => { stop: () => void; done: Promise<unknown> }): Promise<number[]> {
    const token = await cluster.namedToken(name, ['read']);
    const { runId } = await admin.submit({ name, jobs: [{ id: 'tick', script: TICK, retries: 0 }] });
    const received: number[] = [];
    const stream = follow(token, runId, received);
    try {
      await eventually(() => received.length > 0, 20_000, 'the first output');
      const revokedAt = Date.now();
      await admin.call('token.revoke', { name });
      await new Promise((r) => setTimeout(r, 2500));
      return received.filter((t) => t > revokedAt + 1000);
    } finally {
      stream.stop();
      await admin.cancelRun(runId);
      await stream.done;
    }
  }

  // Known gap: revocation is checked when a request comes in, so a session that only listens
  // (logs.follow, run.watch, the HTTP event streams) goes on receiving after the revocation.
  it('stops a revoked token’s open log subscription over TCP', async () => {
    const late = await outputAfterRevocation('tcp-listener', (token, runId, received) => {
      const client = as(token);
      const done = (async () => {
        for await (const chunk of client.followLogs(`${runId}/tick`)) if (chunk.data.length > 0) received.push(Date.now());
      })().catch(() => undefined);
      return { stop: () => client.close(), done };
    });
    expect(late).toEqual([]);
  });

  it('stops a revoked token’s open log stream over HTTP', async () => {
    const late = await outputAfterRevocation('sse-listener', (token, runId, received) => {
      const abort = new AbortController();
      const done = (async () => {
        const res = await fetch(url(`/api/runs/${runId}/jobs/tick/logs/stream`), { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
        for await (const chunk of res.body ?? []) if (Buffer.from(chunk).toString('utf8').includes('event: log')) received.push(Date.now());
      })().catch(() => undefined);
      return { stop: () => abort.abort(), done };
    });
    expect(late).toEqual([]);
  });

  it('stops a token when its expiry passes, open sessions included', async () => {
    const expiresAt = Date.now() + 3000;
    const { token } = await admin.call('token.create', { name: 'brief', roles: ['read'], expiresAt });
    const session = await raw();
    expect(await session.hello(token)).toMatchObject({ ok: true });
    expect(await session.request(2, 'whoami')).toMatchObject({ ok: true, result: { name: 'brief' } });
    expect((await http(token, 'GET', '/api/runs')).status).toBe(200);
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 300));
    expect(await session.request(3, 'whoami')).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/brief has expired/) } });
    expect((await refusal(as(token).stats())).code).toBe('UNAUTHORIZED');
    expect((await http(token, 'GET', '/api/runs')).status).toBe(401);
    // A token that would be born expired is not made.
    expect((await refusal(admin.call('token.create', { name: 'stillborn', roles: ['read'], expiresAt: Date.now() - 1000 }))).code).toBe('BAD_REQUEST');
  });

  it('refuses a taken name, token and audit management to non-admins, and a bad --role', async () => {
    await cluster.namedToken('dup', ['read']);
    expect((await refusal(admin.call('token.create', { name: 'dup', roles: ['admin'], expiresAt: null }))).code).toBe('CONFLICT');
    const cli = await cluster.cli(['token', 'create', 'dup', '--role', 'read']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/CONFLICT/);

    // An operator cannot mint itself an admin token, nor see who holds which, nor read the audit.
    const operator = as(await cluster.namedToken('op-escalate', ['operator']));
    const attempts: [string, Promise<unknown>][] = [
      ['token.create', operator.call('token.create', { name: 'backdoor', roles: ['admin'], expiresAt: null })],
      ['token.list', operator.call('token.list', {})],
      ['token.revoke', operator.call('token.revoke', { name: 'dup' })],
      ['user.add', operator.call('user.add', { name: 'backdoor', roles: ['admin'], password: PASSWORD })],
      ['user.list', operator.call('user.list', {})],
      ['audit.list', operator.call('audit.list', { limit: 10 })],
    ];
    for (const [method, attempt] of attempts) {
      const err = await refusal(attempt);
      expect(err.code, method).toBe('FORBIDDEN');
      expect(err.message).toContain(method);
    }
    const names = (await admin.call('token.list', {})).tokens.map((t) => t.name);
    expect(names).toContain('dup');
    expect(names).not.toContain('backdoor');
    expect((await admin.call('user.list', {})).users.map((u) => u.name)).not.toContain('backdoor');
    const viaCli = await cluster.cli(['audit', '--json'], { env: { TITAN_TOKEN: await cluster.namedToken('op-escalate', ['operator']) } });
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toMatch(/FORBIDDEN/);

    await expectUsageErrors([
      [['--role', 'superuser'], /unknown role superuser/],
      [['--role', 'read,root'], /unknown role root/],
    ]);
  });

  // Known gap: expiryOf throws commander's InvalidArgumentError inside the action, where main.ts
  // only maps UsageError to exit 2: the CLI prints a stack trace and exits 1.
  it('gives a bad --expires a usage error (exit 2) naming the problem', async () => {
    await expectUsageErrors([
      [['--role', 'read', '--expires', 'soon'], /give a duration/],
      [['--role', 'read', '--expires', '2020-01-31'], /2020-01-31 is in the past/],
    ]);
  });

  // Known gap: verifyToken splits with a limit of 2, so whatever follows a third "." is ignored.
  it('refuses a named token with anything appended to it', async () => {
    const token = await cluster.namedToken('suffixed', ['read']);
    expect((await refusal(as(`${token}.junk`).stats())).code).toBe('UNAUTHORIZED');
    expect((await http(`${token}.junk`, 'GET', '/api/runs')).status).toBe(401);
  });

  it('decides HTTP routes by the same table for read, operator and approver tokens', async () => {
    const reader = await cluster.namedToken('http-reader', ['read']);
    const operator = await cluster.namedToken('http-operator', ['operator']);
    const approver = await cluster.namedToken('http-approver', ['approver']);
    const runId = await holding('http-roles');
    const gates = await gated('http-roles-gate', ['gate']);
    const cancel = `/api/runs/${runId}/cancel`;
    const approve = `/api/runs/${gates}/jobs/gate/approve`;

    expect((await http(reader, 'GET', '/api/runs')).status).toBe(200);
    const refused = await http(reader, 'POST', cancel, {});
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(/run\.cancel .*http-reader/);
    expect((await http(approver, 'POST', cancel, {})).status).toBe(403);
    expect((await http(operator, 'DELETE', `/api/runs/${runId}`)).status).toBe(403);
    expect((await http(operator, 'POST', approve, {})).status).toBe(403);
    // Nothing the refused calls asked for happened.
    expect((await admin.getJob(`${runId}/hold`)).job.status).toBe('RUNNING');
    expect((await admin.getJob(`${gates}/gate`)).job.status).toBe('WAITING_APPROVAL');

    expect((await http(approver, 'POST', approve, {})).status).toBe(200);
    expect((await http(operator, 'POST', cancel, {})).status).toBe(200);
    await waitRunStatus(admin, runId, 'CANCELLED');
    await waitRunStatus(admin, gates, 'COMPLETED');
  });

  it('manages named tokens and users over HTTP for admins only: an operator can neither list nor mint one', async () => {
    const operator = await cluster.namedToken('http-token-operator', ['operator']);
    for (const [method, path, body] of [
      ['GET', '/api/tokens', undefined],
      ['POST', '/api/tokens', { name: 'minted-by-operator', roles: ['admin'], expiresAt: null }],
      ['DELETE', '/api/tokens/http-token-operator', undefined],
      ['GET', '/api/users', undefined],
    ] as const) {
      const res = await http(operator, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await errorCode(res)).toBe('FORBIDDEN');
    }
    expect((await admin.call('token.list', {})).tokens.map((t) => t.name)).not.toContain('minted-by-operator');

    const created = await http(cluster.token, 'POST', '/api/tokens', { name: 'http-made', roles: ['read'], expiresAt: null });
    expect(created.status).toBe(200);
    const { token, info } = (await created.json()) as { token: string; info: IdentityInfo };
    expect(token).toMatch(TOKEN_SHAPE);
    expect(info).toMatchObject({ name: 'http-made', roles: ['read'], expiresAt: null });
    expect((await http(token, 'GET', '/api/runs')).status).toBe(200);
    const listed = await (await http(cluster.token, 'GET', '/api/tokens')).text();
    expect(listed).toContain('http-made');
    expect(listed).not.toContain(token);
    const bad = await http(cluster.token, 'POST', '/api/tokens', { name: 'bad name!', roles: ['read'], expiresAt: null });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/name/);

    expect((await http(cluster.token, 'DELETE', '/api/tokens/http-made')).status).toBe(200);
    expect((await http(token, 'GET', '/api/runs')).status).toBe(401);
  });

  it('hides job environment values from read and approver principals over HTTP, not from an operator', async () => {
    const runId = await holding('http-env');
    const envOf = async (token: string): Promise<Record<string, string>> => {
      const res = await http(token, 'GET', `/api/runs/${runId}`);
      expect(res.status).toBe(200);
      return ((await res.json()) as RunView).jobs[0]?.spec.env ?? expect.unreachable('no job');
    };
    expect(await envOf(await cluster.namedToken('http-reader', ['read']))).toEqual({ SECRET: '(hidden)' });
    expect(await envOf(await cluster.namedToken('http-approver', ['approver']))).toEqual({ SECRET: '(hidden)' });
    expect(await envOf(await cluster.namedToken('http-operator', ['operator']))).toEqual({ SECRET: 'hunter2' });
    const job = await http(await cluster.namedToken('http-approver', ['approver']), 'GET', `/api/runs/${runId}/jobs/hold`);
    expect(await job.text()).not.toContain('hunter2');
    await admin.cancelRun(runId);
  });

  it('signs a dashboard user in with its roles only, and ends its session when the user is removed', async () => {
    const file = tmp.write('bob-password', `${PASSWORD}\n`);
    const added = await cluster.cli(['user', 'add', 'bob', '--role', 'read', '--password-file', file]);
    expect(added.code, added.stderr).toBe(0);
    expect(storeFiles().map((f) => readFileSync(f, 'latin1')).join('')).not.toContain(PASSWORD);

    const bob = await login({ user: 'bob', password: PASSWORD });
    expect(bob).toMatchObject({ user: 'bob', permissions: ['read'] });
    const session = await fetch(url('/api/session'), { headers: { cookie: bob.cookie } });
    expect(await session.json()).toEqual({ user: 'bob', csrf: bob.csrf, permissions: ['read'] });
    const runId = await holding('bob-run');
    const withSession = (method: string, path: string): Promise<Response> => fetch(url(path), { method, headers: { cookie: bob.cookie, 'x-csrf-token': bob.csrf } });
    expect((await withSession('GET', `/api/runs/${runId}`)).status).toBe(200);
    // CSRF is right, the role is not.
    const cancel = await withSession('POST', `/api/runs/${runId}/cancel`);
    expect(cancel.status).toBe(403);
    expect(await errorCode(cancel)).toBe('FORBIDDEN');
    expect((await admin.getJob(`${runId}/hold`)).job.status).toBe('RUNNING');

    const wrong = await fetch(url('/api/login'), { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ user: 'bob', password: `${PASSWORD}!` }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const removed = await cluster.cli(['user', 'remove', 'bob']);
    expect(removed.code, removed.stderr).toBe(0);
    const after = await withSession('GET', `/api/runs/${runId}`);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { message: string }).message).toMatch(/bob was removed/);
    expect((await fetch(url('/api/login'), { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ user: 'bob', password: PASSWORD }) })).status).toBe(401);

    const short = await refusal(admin.call('user.add', { name: 'carl', roles: ['read'], password: 'short-pw' }));
    expect(short.code).toBe('BAD_REQUEST');
    expect(short.message).toMatch(/at least 12 characters/);
    expect((await admin.call('user.list', {})).users.map((u) => u.name)).not.toContain('carl');
    await admin.cancelRun(runId);
  });

  it('records a gate decision under the authenticated name, never a typed one, and refuses a job’s own token', async () => {
    const approver = await cluster.namedToken('gatekeeper-tok', ['approver']);
    const runId = await gated('typed-names', ['tcp', 'http-token', 'http-user']);
    await as(approver).call('gate.decide', { ref: `${runId}/tcp`, approved: true, by: 'mallory', comment: null });
    const viaBearer = await http(approver, 'POST', `/api/runs/${runId}/jobs/http-token/approve`, { by: 'mallory' });
    expect(viaBearer.status, await viaBearer.clone().text()).toBe(200);
    const file = tmp.write('dana-password', `${PASSWORD}\n`);
    expect((await cluster.cli(['user', 'add', 'dana', '--role', 'approver', '--password-file', file])).code).toBe(0);
    const dana = await login({ user: 'dana', password: PASSWORD });
    const viaSession = await fetch(url(`/api/runs/${runId}/jobs/http-user/reject`), { method: 'POST', headers: { cookie: dana.cookie, 'x-csrf-token': dana.csrf, ...JSON_BODY }, body: JSON.stringify({ by: 'mallory', comment: 'no' }) });
    expect(viaSession.status, await viaSession.clone().text()).toBe(200);

    const history = (await admin.gates(10)).history.filter((d: GateDecision) => d.runId === runId);
    const by = Object.fromEntries(history.map((d) => [d.jobId, d.by]));
    expect(by).toEqual({ tcp: 'gatekeeper-tok', 'http-token': 'gatekeeper-tok', 'http-user': 'dana' });
    expect(JSON.stringify(history)).not.toContain('mallory');

    // A job tries to pass the gate that holds its own run back, with its own token.
    const self = await admin.submit({
      name: 'self-approval',
      jobs: [
        { id: 'gate', kind: 'approval', message: 'release?' },
        { id: 'agent', script: SELF_APPROVER, args: ['gate', String(cluster.httpPort)], retries: 0 },
      ],
    });
    await waitJob(admin, `${self.runId}/agent`, ['COMPLETED', 'DEAD'], 60_000);
    const log = await admin.logs(`${self.runId}/agent`);
    expect(log).toContain('TCP REFUSED FORBIDDEN');
    // A job's token is for the TCP port only.
    expect(log).toContain('HTTP 401');
    expect((await admin.getJob(`${self.runId}/gate`)).job.status).toBe('WAITING_APPROVAL');
    expect((await admin.gates(50)).history.filter((d) => d.runId === self.runId)).toEqual([]);
    await admin.cancelRun(self.runId);
  });
});
