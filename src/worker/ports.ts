/**
 * Free TCP ports for service attempts that did not ask for a fixed one. A probe only says the
 * port was free a moment ago; the service may still lose a race for it, which then shows up as a
 * failed start or readiness check, not as a silent clash.
 */
import { createServer } from 'node:net';

const MAX_PORT = 65535;

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_PORT;

/**
 * True when a server could listen on the port on all interfaces. Binding 0.0.0.0 (not just
 * loopback) because a service may bind either, and on Linux it also collides with a listener
 * on 127.0.0.1 or on a dual-stack ::.
 */
export function portIsFree(port: number): Promise<boolean> {
  // listen(0) would succeed on some other port and wrongly report this one free.
  if (!isPort(port)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const server = createServer();
    // EADDRINUSE, EACCES or anything else: in every case no service could listen there.
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      // Resolve only once closed, so the caller's service does not race the probe for the port.
      server.close(() => resolve(true));
    });
  });
}

/**
 * The first free port in [lo, hi] not in `taken`, or null. Starts at a random offset and wraps
 * around, so workers sharing a host rarely probe (and pick) the same port at the same moment.
 */
export async function pickFreePort(
  range: readonly [number, number],
  taken: ReadonlySet<number>,
  random: () => number = Math.random,
): Promise<number | null> {
  const [lo, hi] = range;
  if (!isPort(lo) || !isPort(hi) || lo > hi) {
    throw new RangeError(`port range must be two integers with 1 <= lo <= hi <= ${MAX_PORT}, got [${lo}, ${hi}]`);
  }
  const size = hi - lo + 1;
  // min() guards against a random() that returns exactly 1.
  const start = Math.min(Math.floor(random() * size), size - 1);
  for (let i = 0; i < size; i++) {
    const port = lo + ((start + i) % size);
    if (taken.has(port)) continue;
    if (await portIsFree(port)) return port;
  }
  return null;
}
