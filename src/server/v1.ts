/**
 * A v1 connection: Titan's clients send one frame and read one reply, then the server closes.
 * Frames over 10 MiB or in another version get an ERROR reply naming the problem before the
 * close (Titan closed silently), a request that never completes is dropped after a while, and so
 * is a peer that keeps the connection open after the reply. v1 carries no token: only loopback
 * and the addresses of --legacy-v1-allow are read beyond the first byte.
 */
import { BlockList, isIPv4, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, FrameError, V1, V1_MAX_PAYLOAD } from '../protocol/frame.js';
import { V1_ACK, V1_ERROR, type V1Reply } from '../protocol/v1.js';
import { endWith } from './limits.js';

/** How long a client has to send its whole request. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface V1Access {
  enabled: boolean;
  /** Peers allowed besides loopback (v1 carries no token). */
  allow: BlockList;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Parses `--legacy-v1-allow` CIDRs (`10.0.0.0/8`, `fd00::/8`, or a single address). */
export function allowList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    try {
      list.addSubnet(address, prefix, type);
    } catch {
      throw new Error(`"${cidr}" is not an IP address or CIDR block (e.g. 10.0.0.0/8)`);
    }
  }
  return list;
}

/** Address blocks no host on the internet can come from: loopback, private, carrier-grade NAT, link-local, unique-local. */
const PRIVATE_BLOCKS: readonly [string, number][] = [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
];

/** The blocks of `cidrs` (checked by allowList) that reach beyond private networks. */
export function publicBlocks(cidrs: readonly string[]): string[] {
  return cidrs.filter((cidr) => {
    const [address = '', bits] = cidr.split('/');
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    // Inside a private block when its own network address is, and it is no wider.
    return !PRIVATE_BLOCKS.some(([net, size]) => isIPv4(net) === (type === 'ipv4') && prefix >= size && allowList([`${net}/${size}`]).check(address, type));
  });
}

/** Why a v1 peer is refused, or null when it may talk. */
export function v1Refusal(access: V1Access, remote: string | undefined): string | null {
  if (!access.enabled) return 'ERROR: the Titan v1 protocol is not enabled on this master (start it with --legacy-v1)';
  const address = (remote ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const type = isIPv4(address) ? 'ipv4' : 'ipv6';
  if (address !== '' && (LOOPBACK.check(address, type) || access.allow.check(address, type))) return null;
  return `ERROR: the Titan v1 protocol cannot authenticate, so it is accepted only from loopback; allow ${address || 'this peer'} with --legacy-v1-allow <CIDR>`;
}

export function serveV1(socket: Socket, first: Buffer, handle: (opcode: number, payload: string) => Promise<V1Reply>): void {
  const decoder = new FrameDecoder({ maxPayload: new Map([[V1, V1_MAX_PAYLOAD]]) });
  let done = false;
  const reply = (r: V1Reply): void => {
    done = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    endWith(socket, encodeFrame(V1, r.ok ? V1_ACK : V1_ERROR, r.text));
  };
  const timer = setTimeout(() => reply({ ok: false, text: `ERROR: the request was not complete within ${REQUEST_TIMEOUT_MS / 1000} s` }), REQUEST_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    if (done) return;
    let frame;
    try {
      frame = decoder.push(chunk)[0];
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      reply({ ok: false, text: err.code === 'TOO_LARGE' ? `ERROR: Packet too large: ${err.length}` : 'ERROR: Version Mismatch! Server expects v1' });
      return;
    }
    if (!frame) return;
    done = true;
    socket.pause();
    void handle(frame.opcode, frame.payload.toString('utf8')).then(reply, (err: unknown) => reply({ ok: false, text: `SERVER_ERROR: ${(err as Error).message}` }));
  };
  socket.on('data', onData);
  onData(first);
}
