import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pickFreePort, portIsFree } from './ports.js';

/** Every server a test opened, closed after each test. */
const servers = new Set<Server>();

afterEach(async () => {
  await Promise.all([...servers].map(close));
  servers.clear();
});

function listen(port: number, host: string): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      servers.add(server);
      resolve(server);
    });
  });
}

function close(server: Server): Promise<void> {
  servers.delete(server);
  return new Promise((resolve) => server.close(() => resolve()));
}

const portOf = (server: Server): number => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not a TCP server');
  return address.port;
};

/** Holds `n` consecutive ports with listening servers; a test frees one by closing its server. */
async function holdConsecutive(n: number): Promise<Server[]> {
  for (let tries = 0; tries < 20; tries++) {
    const first = await listen(0, '0.0.0.0');
    if (first === null) continue;
    const held = [first];
    const lo = portOf(first);
    while (held.length < n && lo + held.length <= 65535) {
      const next = await listen(lo + held.length, '0.0.0.0');
      if (next === null) break;
      held.push(next);
    }
    if (held.length === n) return held;
    await Promise.all(held.map(close));
  }
  throw new Error(`could not hold ${n} consecutive ports`);
}

describe('portIsFree', () => {
  it('is false while a server listens on the port, also on loopback only, and true once it is released', async () => {
    const [server] = await holdConsecutive(1);
    const port = portOf(server!);
    expect(await portIsFree(port)).toBe(false);
    await close(server!);
    expect(await portIsFree(port)).toBe(true);

    const loopback = await listen(port, '127.0.0.1');
    expect(loopback).not.toBeNull();
    expect(await portIsFree(port)).toBe(false);
  });

  it('releases the port before resolving, so it can be bound right away', async () => {
    const [server] = await holdConsecutive(1);
    const port = portOf(server!);
    await close(server!);
    expect(await portIsFree(port)).toBe(true);
    expect(await listen(port, '0.0.0.0')).not.toBeNull();
  });

  it('is false for numbers that are not ports', async () => {
    expect(await portIsFree(0)).toBe(false);
    expect(await portIsFree(65536)).toBe(false);
    expect(await portIsFree(1.5)).toBe(false);
  });
});

describe('pickFreePort', () => {
  it('skips taken and busy ports', async () => {
    const held = await holdConsecutive(3);
    const lo = portOf(held[0]!);
    // lo stays busy; lo + 1 is free but taken; only lo + 2 may be picked.
    await close(held[1]!);
    await close(held[2]!);
    expect(await pickFreePort([lo, lo + 2], new Set([lo + 1]), () => 0)).toBe(lo + 2);
  });

  it('starts at the random offset and wraps around to the start of the range', async () => {
    const held = await holdConsecutive(3);
    const lo = portOf(held[0]!);
    await close(held[0]!);
    // Starting in the middle: lo + 1 and lo + 2 are busy, so it wraps to lo.
    expect(await pickFreePort([lo, lo + 2], new Set(), () => 0.5)).toBe(lo);
    await close(held[2]!);
    expect(await pickFreePort([lo, lo + 2], new Set(), () => 0.5)).toBe(lo + 2);
    expect(await pickFreePort([lo, lo + 2], new Set(), () => 0)).toBe(lo);
  });

  it('returns null when every port in the range is busy or taken', async () => {
    const held = await holdConsecutive(3);
    const lo = portOf(held[0]!);
    expect(await pickFreePort([lo, lo + 2], new Set())).toBeNull();
    await close(held[1]!);
    expect(await pickFreePort([lo, lo + 2], new Set([lo + 1]))).toBeNull();
  });

  it('accepts a one-port range and a random() of exactly 1', async () => {
    const [server] = await holdConsecutive(1);
    const port = portOf(server!);
    await close(server!);
    expect(await pickFreePort([port, port], new Set(), () => 1)).toBe(port);
  });

  it('rejects an inverted or invalid range', async () => {
    await expect(pickFreePort([5001, 5000], new Set())).rejects.toThrow(RangeError);
    await expect(pickFreePort([5001, 5000], new Set())).rejects.toThrow('got [5001, 5000]');
    await expect(pickFreePort([0, 10], new Set())).rejects.toThrow(RangeError);
  });
});
