/** Time as the master sees it: injectable so timers can be tested against a controlled clock. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
