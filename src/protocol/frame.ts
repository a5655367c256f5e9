/**
 * Titan's frame: version u8 | opcode u8 | flags u8 | reserved u8 | length u32 BE | payload.
 * The decoder accumulates bytes and yields whole frames; it never trusts a length beyond the
 * configured limit, so a hostile header cannot make it allocate.
 */
import { HEADER_SIZE, V1, V1_MAX_PAYLOAD, V2, V2_MAX_PAYLOAD } from './frame-limits.js';

export { HEADER_SIZE, V1, V1_MAX_PAYLOAD, V2, V2_MAX_PAYLOAD };

export interface Frame {
  version: number;
  opcode: number;
  flags: number;
  payload: Buffer;
}

export class FrameError extends Error {
  constructor(
    readonly code: 'BAD_VERSION' | 'TOO_LARGE' | 'TRUNCATED',
    message: string,
    /** The version byte of the offending frame, so the reply can be in the peer's dialect. */
    readonly version: number,
    /** The payload length the header announced. */
    readonly length = 0,
  ) {
    super(message);
  }
}

export function encodeFrame(version: number, opcode: number, payload: Buffer | string, flags = 0): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out[0] = version;
  out[1] = opcode;
  out[2] = flags;
  out[3] = 0;
  out.writeUInt32BE(body.length, 4);
  body.copy(out, HEADER_SIZE);
  return out;
}

export interface DecoderLimits {
  /** Largest payload accepted for each supported version. */
  maxPayload: ReadonlyMap<number, number>;
}

export const DEFAULT_LIMITS: DecoderLimits = { maxPayload: new Map([[V1, V1_MAX_PAYLOAD], [V2, V2_MAX_PAYLOAD]]) };

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly limits: DecoderLimits = DEFAULT_LIMITS) {}

  /** Adds bytes and returns every complete frame. Throws FrameError on a bad header. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= HEADER_SIZE) {
      const head = this.peek(HEADER_SIZE);
      const version = head[0] as number;
      const length = head.readUInt32BE(4);
      const max = this.limits.maxPayload.get(version);
      if (max === undefined) {
        const known = [...this.limits.maxPayload.keys()].join(' or ');
        throw new FrameError('BAD_VERSION', `unsupported protocol version ${version} (this server speaks ${known})`, version);
      }
      if (length > max) throw new FrameError('TOO_LARGE', `frame payload of ${length} bytes exceeds the limit of ${max} bytes`, version, length);
      if (this.buffered < HEADER_SIZE + length) break;
      const whole = this.take(HEADER_SIZE + length);
      frames.push({ version, opcode: whole[1] as number, flags: whole[2] as number, payload: whole.subarray(HEADER_SIZE) });
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if ((this.chunks[0] as Buffer).length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] as Buffer;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
