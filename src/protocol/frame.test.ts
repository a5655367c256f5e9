import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../test/helpers/random.js';
import { DEFAULT_LIMITS, type DecoderLimits, encodeFrame, type Frame, FrameDecoder, FrameError, HEADER_SIZE, V1, V1_MAX_PAYLOAD, V2 } from './frame.js';


const randInt = (rand: () => number, n: number): number => Math.floor(rand() * n);

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = randInt(rand, 256);
  return b;
}

/** Splits a buffer into random chunks, empty ones included. */
function chunk(rand: () => number, data: Buffer, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const n = randInt(rand, maxChunk + 1);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  if (rand() < 0.3) out.splice(randInt(rand, out.length + 1), 0, Buffer.alloc(0));
  return out;
}

interface Plain {
  version: number;
  opcode: number;
  flags: number;
  payload: string;
}

const plain = (f: Frame): Plain => ({ version: f.version, opcode: f.opcode, flags: f.flags, payload: f.payload.toString('hex') });

function decodeAll(decoder: FrameDecoder, chunks: readonly Buffer[]): Plain[] {
  const out: Plain[] = [];
  for (const c of chunks) out.push(...decoder.push(c).map(plain));
  return out;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const smallLimits = (v1: number, v2: number): DecoderLimits => ({
  maxPayload: new Map([
    [V1, v1],
    [V2, v2],
  ]),
});

describe('encodeFrame', () => {
  it('writes the header: version, opcode, flags, reserved zero, big-endian length', () => {
    const f = encodeFrame(V2, 0x21, 'hi', 7);
    expect([...f]).toEqual([2, 0x21, 7, 0, 0, 0, 0, 2, 0x68, 0x69]);
  });

  it('encodes strings as UTF-8 and counts bytes, not characters', () => {
    const f = encodeFrame(V1, 1, 'é€');
    expect(f.readUInt32BE(4)).toBe(5);
    expect(f.subarray(HEADER_SIZE).toString('utf8')).toBe('é€');
  });

  it('encodes a large length big-endian', () => {
    const f = encodeFrame(V1, 1, Buffer.alloc(0x010203));
    expect([...f.subarray(4, 8)]).toEqual([0, 1, 2, 3]);
  });
});

describe('FrameDecoder', () => {
  it('round-trips a frame', () => {
    const payload = Buffer.from([0, 1, 2, 255, 254]);
    const frames = new FrameDecoder().push(encodeFrame(V1, 0x42, payload, 3));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.version).toBe(V1);
    expect(frames[0]?.opcode).toBe(0x42);
    expect(frames[0]?.flags).toBe(3);
    expect(frames[0]?.payload.equals(payload)).toBe(true);
  });

  it('round-trips an empty payload', () => {
    const decoder = new FrameDecoder();
    const frames = decoder.push(encodeFrame(V2, 0x23, ''));
    expect(frames.map(plain)).toEqual([{ version: 2, opcode: 0x23, flags: 0, payload: '' }]);
    expect(decoder.pending).toBe(0);
  });

  const stream = Buffer.concat([
    encodeFrame(V2, 0x20, '{"hello":1}'),
    encodeFrame(V1, 0x01, ''),
    encodeFrame(V2, 0x21, Buffer.from([9, 8, 7, 6, 5, 4, 3, 2, 1]), 1),
    encodeFrame(V2, 0x22, 'x'),
    encodeFrame(V1, 0xff, 'last one', 0xff),
  ]);
  const expected = new FrameDecoder().push(stream).map(plain);

  it('decodes many frames in one chunk', () => {
    expect(expected).toHaveLength(5);
    expect(expected[0]).toEqual({ version: 2, opcode: 0x20, flags: 0, payload: Buffer.from('{"hello":1}').toString('hex') });
    expect(expected[4]).toEqual({ version: 1, opcode: 0xff, flags: 0xff, payload: Buffer.from('last one').toString('hex') });
  });

  it('decodes identically when split at every byte boundary', () => {
    for (let i = 0; i <= stream.length; i++) {
      const decoder = new FrameDecoder();
      expect(decodeAll(decoder, [stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(expected);
      expect(decoder.pending).toBe(0);
    }
  });

  it('decodes identically when split at every pair of boundaries', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const got = decodeAll(new FrameDecoder(), [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]);
        if (JSON.stringify(got) !== JSON.stringify(expected)) expect(got, `split at ${i} and ${j}`).toEqual(expected);
      }
    }
  });

  it('decodes identically when fed one byte at a time', () => {
    const decoder = new FrameDecoder();
    const chunks = [...stream].map((b) => Buffer.from([b]));
    expect(decodeAll(decoder, chunks)).toEqual(expected);
    expect(decoder.pending).toBe(0);
  });

  it('reports the bytes of an incomplete frame as pending', () => {
    const decoder = new FrameDecoder();
    const f = encodeFrame(V2, 0x21, 'abcdef');
    expect(decoder.push(f.subarray(0, 3))).toEqual([]);
    expect(decoder.pending).toBe(3);
    expect(decoder.push(f.subarray(3, 10))).toEqual([]);
    expect(decoder.pending).toBe(10);
    expect(decoder.push(f.subarray(10)).map(plain)).toEqual([{ version: 2, opcode: 0x21, flags: 0, payload: Buffer.from('abcdef').toString('hex') }]);
    expect(decoder.pending).toBe(0);
  });

  it('does not let a returned payload change when more bytes arrive', () => {
    const decoder = new FrameDecoder();
    const first = decoder.push(Buffer.concat([encodeFrame(V2, 1, 'aaaa'), encodeFrame(V2, 1, 'bb').subarray(0, 4)]));
    decoder.push(encodeFrame(V2, 1, 'bb').subarray(4));
    expect(first[0]?.payload.toString()).toBe('aaaa');
  });

  describe('limits', () => {
    it('allows a payload of exactly the limit', () => {
      const decoder = new FrameDecoder(smallLimits(100, 50));
      expect(decoder.push(encodeFrame(V1, 1, Buffer.alloc(100, 1)))[0]?.payload.length).toBe(100);
      expect(decoder.push(encodeFrame(V2, 1, Buffer.alloc(50, 1)))[0]?.payload.length).toBe(50);
    });

    it('rejects limit + 1 from the header alone, before the payload arrives', () => {
      const decoder = new FrameDecoder(smallLimits(100, 50));
      const header = encodeFrame(V2, 1, Buffer.alloc(51)).subarray(0, HEADER_SIZE);
      const err = thrown(() => decoder.push(header));
      expect(err).toBeInstanceOf(FrameError);
      const fe = err as FrameError;
      expect(fe.code).toBe('TOO_LARGE');
      expect(fe.version).toBe(V2);
      expect(fe.message).toContain('51');
      expect(fe.message).toContain('50');
    });

    it('applies the default v1 limit of exactly 10 MiB', () => {
      const atLimit = encodeFrame(V1, 1, Buffer.alloc(V1_MAX_PAYLOAD));
      expect(new FrameDecoder().push(atLimit)[0]?.payload.length).toBe(V1_MAX_PAYLOAD);
      const header = Buffer.from(atLimit.subarray(0, HEADER_SIZE));
      header.writeUInt32BE(V1_MAX_PAYLOAD + 1, 4);
      const err = thrown(() => new FrameDecoder().push(header));
      expect(err).toBeInstanceOf(FrameError);
      expect((err as FrameError).code).toBe('TOO_LARGE');
    });

    it('rejects a hostile 4 GiB length without allocating', () => {
      const header = Buffer.from([V2, 1, 0, 0, 0xff, 0xff, 0xff, 0xff]);
      const err = thrown(() => new FrameDecoder().push(header));
      expect((err as FrameError).code).toBe('TOO_LARGE');
    });

    it('rejects an oversized frame that follows valid ones in the same chunk', () => {
      const decoder = new FrameDecoder(smallLimits(10, 10));
      const data = Buffer.concat([encodeFrame(V1, 1, 'ok'), encodeFrame(V1, 1, Buffer.alloc(11))]);
      expect((thrown(() => decoder.push(data)) as FrameError).code).toBe('TOO_LARGE');
    });
  });

  describe('versions', () => {
    it('rejects an unsupported version, naming it', () => {
      const bad = encodeFrame(7, 1, 'x');
      const err = thrown(() => new FrameDecoder().push(bad));
      expect(err).toBeInstanceOf(FrameError);
      const fe = err as FrameError;
      expect(fe.code).toBe('BAD_VERSION');
      expect(fe.version).toBe(7);
      expect(fe.message).toContain('version 7');
    });

    it('rejects a version the limits leave out', () => {
      const v2only: DecoderLimits = { maxPayload: new Map([[V2, 1000]]) };
      const err = thrown(() => new FrameDecoder(v2only).push(encodeFrame(V1, 1, 'x')));
      expect((err as FrameError).code).toBe('BAD_VERSION');
      expect((err as FrameError).message).toContain('version 1');
    });

    it('waits for a whole header before judging it', () => {
      const decoder = new FrameDecoder();
      const bad = encodeFrame(9, 1, 'x');
      expect(decoder.push(bad.subarray(0, HEADER_SIZE - 1))).toEqual([]);
      expect((thrown(() => decoder.push(bad.subarray(HEADER_SIZE - 1))) as FrameError).code).toBe('BAD_VERSION');
    });
  });

  describe('fuzz', () => {
    /** A straightforward reference decoder over the whole input. */
    function reference(data: Buffer, limits: DecoderLimits): { frames: Plain[]; error: string | null; rest: number } {
      const frames: Plain[] = [];
      let at = 0;
      while (data.length - at >= HEADER_SIZE) {
        const version = data[at] as number;
        const length = data.readUInt32BE(at + 4);
        const max = limits.maxPayload.get(version);
        if (max === undefined) return { frames, error: 'BAD_VERSION', rest: data.length - at };
        if (length > max) return { frames, error: 'TOO_LARGE', rest: data.length - at };
        if (data.length - at < HEADER_SIZE + length) break;
        frames.push({
          version,
          opcode: data[at + 1] as number,
          flags: data[at + 2] as number,
          payload: data.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length).toString('hex'),
        });
        at += HEADER_SIZE + length;
      }
      return { frames, error: null, rest: data.length - at };
    }

    /** Random bytes, often shaped like frames so decoding gets past the first header. */
    function garbage(rand: () => number): Buffer {
      const parts: Buffer[] = [];
      const count = 1 + randInt(rand, 4);
      for (let i = 0; i < count; i++) {
        const r = rand();
        if (r < 0.4) {
          parts.push(randomBytes(rand, randInt(rand, 40)));
        } else {
          const header = randomBytes(rand, HEADER_SIZE);
          const payload = randomBytes(rand, randInt(rand, 70));
          header[0] = r < 0.9 ? 1 + randInt(rand, 2) : randInt(rand, 256);
          const shape = rand();
          // Mostly a consistent length, sometimes a lie, sometimes absurd.
          header.writeUInt32BE(shape < 0.6 ? payload.length : shape < 0.9 ? randInt(rand, 80) : randInt(rand, 2 ** 32), 4);
          parts.push(header, payload);
        }
      }
      return Buffer.concat(parts);
    }

    it('2,000 random byte strings in random chunkings only ever raise FrameError and respect the limits', () => {
      const rand = mulberry32(0x7e57);
      const limits = smallLimits(64, 32);
      let errors = 0;
      let decoded = 0;
      for (let n = 0; n < 2000; n++) {
        const data = garbage(rand);
        const ref = reference(data, limits);
        const decoder = new FrameDecoder(limits);
        const got: Plain[] = [];
        let error: string | null = null;
        for (const c of chunk(rand, data, 1 + randInt(rand, 40))) {
          try {
            for (const f of decoder.push(c)) {
              const max = limits.maxPayload.get(f.version);
              expect(max).toBeDefined();
              expect(f.payload.length).toBeLessThanOrEqual(max ?? -1);
              got.push(plain(f));
            }
          } catch (err) {
            expect(err, `input ${n}: ${data.toString('hex')}`).toBeInstanceOf(FrameError);
            error = (err as FrameError).code;
            break;
          }
        }
        // Frames before an error may be lost with the chunk that held the bad header, never invented.
        expect(ref.frames.slice(0, got.length)).toEqual(got);
        expect(error).toBe(ref.error);
        decoded += got.length;
        if (error === null) {
          expect(got).toEqual(ref.frames);
          expect(decoder.pending).toBe(ref.rest);
        } else {
          errors++;
        }
      }
      // The corpus exercises both paths.
      expect(errors).toBeGreaterThan(100);
      expect(decoded).toBeGreaterThan(100);
    });

    it('random valid frames survive arbitrary chunking', () => {
      const rand = mulberry32(42);
      for (let round = 0; round < 200; round++) {
        const frames: Plain[] = [];
        const encoded: Buffer[] = [];
        const count = 1 + randInt(rand, 30);
        for (let i = 0; i < count; i++) {
          const version = rand() < 0.5 ? V1 : V2;
          const opcode = randInt(rand, 256);
          const flags = randInt(rand, 256);
          const payload = randomBytes(rand, rand() < 0.1 ? 2000 + randInt(rand, 5000) : randInt(rand, 100));
          frames.push({ version, opcode, flags, payload: payload.toString('hex') });
          encoded.push(encodeFrame(version, opcode, payload, flags));
        }
        const data = Buffer.concat(encoded);
        const decoder = new FrameDecoder(DEFAULT_LIMITS);
        expect(decodeAll(decoder, chunk(rand, data, 1 + randInt(rand, 300)))).toEqual(frames);
        expect(decoder.pending).toBe(0);
      }
    });
  });
});
