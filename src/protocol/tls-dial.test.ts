import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dial, explainConnectFailure } from './tls-dial.js';

const ADDRESS = '10.0.0.7:9090';

const errno = (code: string, message = `${code} from the test`): Error => Object.assign(new Error(message), { code });

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A loopback server that does `onConnection` to every connection; resolves with its port. */
async function server(onConnection: (socket: Socket) => void): Promise<number> {
  const s = createServer(onConnection);
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as { port: number }).port;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const port = await server(() => undefined);
  await new Promise((resolve) => servers.pop()?.close(resolve));
  return port;
}

/** Dials with TLS and resolves with the error that ended the attempt and whether TLS was ever up. */
function dialError(port: number): Promise<{ err: Error; connected: boolean }> {
  return new Promise((resolve, reject) => {
    const { socket, ready } = dial('127.0.0.1', port, true);
    let connected = false;
    socket.once(ready, () => (connected = true));
    socket.once('error', (err) => {
      socket.destroy();
      resolve({ err, connected });
    });
    socket.once('close', () => reject(new Error('closed without an error')));
  });
}

describe('explainConnectFailure', () => {
  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection reset'],
    ['ETIMEDOUT', 'timed out'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'network unreachable'],
  ])('names a network failure (%s) as one, with or without TLS, and never blames TLS', (code, words) => {
    for (const tls of [false, true]) {
      const failure = explainConnectFailure(errno(code), ADDRESS, { tls, connected: false });
      expect(failure?.fatal).toBe(false);
      expect(failure?.message).toMatch(new RegExp(`^cannot reach the master at 10\\.0\\.0\\.7:9090: ${words}( before the TLS handshake)? \\(${code}\\)$`));
      expect(failure?.message).not.toMatch(/speak TLS|using TLS|certificate|--tls|--ca/);
    }
  });

  it('says a connection that was up was lost, not that the master cannot be reached', () => {
    expect(explainConnectFailure(errno('ECONNRESET'), ADDRESS, { tls: true, connected: true })).toEqual({ message: `lost the connection to the master at ${ADDRESS}: connection reset (ECONNRESET)`, fatal: false });
  });

  it('blames TLS for certificate, handshake and protocol errors, and gives up on them', () => {
    const untrusted = explainConnectFailure(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), ADDRESS, { tls: true, connected: false });
    expect(untrusted).toEqual({ message: expect.stringMatching(/^the master at 10\.0\.0\.7:9090 has a certificate this side does not trust/) as unknown, fatal: true });
    const refused = explainConnectFailure(errno('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), ADDRESS, { tls: true, connected: true });
    expect(refused).toEqual({ message: expect.stringMatching(/refused this side's client certificate/) as unknown, fatal: true });
    const plain = explainConnectFailure(errno('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), ADDRESS, { tls: true, connected: false });
    expect(plain).toEqual({ message: expect.stringMatching(/does not speak TLS/) as unknown, fatal: true });
  });

  it('suggests TLS to a plain client only when a master it reached hung up on its first frame', () => {
    const hungUp = explainConnectFailure(Object.assign(new Error('connection closed'), { code: 'UNAVAILABLE' }), ADDRESS, { tls: false, connected: true });
    expect(hungUp).toEqual({ message: expect.stringMatching(/closed the connection before answering \(connection closed\): is the master using TLS\?/) as unknown, fatal: false });
    expect(explainConnectFailure(Object.assign(new Error('connection closed'), { code: 'UNAVAILABLE' }), ADDRESS, { tls: false, connected: false })?.message).toBe(`cannot reach the master at ${ADDRESS}: connection closed`);
  });

  it('leaves other failures of a connected session to the caller', () => {
    expect(explainConnectFailure(Object.assign(new Error('wrong token'), { code: 'UNAUTHORIZED' }), ADDRESS, { tls: true, connected: true })).toBeNull();
  });

  describe('on real sockets, dialling with TLS', () => {
    it('a port where nothing listens: connection refused', async () => {
      const port = await closedPort();
      const { err, connected } = await dialError(port);
      expect(explainConnectFailure(err, `127.0.0.1:${port}`, { tls: true, connected })).toEqual({ message: `cannot reach the master at 127.0.0.1:${port}: connection refused (ECONNREFUSED)`, fatal: false });
    });

    it('a peer that closes before any TLS byte: a network failure', async () => {
      const port = await server((socket) => socket.destroy());
      const { err, connected } = await dialError(port);
      const failure = explainConnectFailure(err, `127.0.0.1:${port}`, { tls: true, connected });
      expect(failure).toEqual({ message: `cannot reach the master at 127.0.0.1:${port}: connection reset before the TLS handshake (ECONNRESET)`, fatal: false });
    });

    it('a peer that answers in plain bytes: it does not speak TLS', async () => {
      // A v2 frame, as a plain master answers: then the connection is closed.
      const port = await server((socket) => socket.end(Buffer.from([2, 0x22, 0, 0, 0, 0, 0, 2, 0x7b, 0x7d]), () => socket.destroy()));
      const { err, connected } = await dialError(port);
      const failure = explainConnectFailure(err, `127.0.0.1:${port}`, { tls: true, connected });
      expect(failure?.fatal).toBe(true);
      expect(failure?.message).toMatch(new RegExp(`^the master at 127\\.0\\.0\\.1:${port} does not speak TLS`));
    });
  });
});
