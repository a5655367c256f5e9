/** Time as the master sees it: injectable so timers can be tested against a controlled clock. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

/** Node turns a wait above 2^31 - 1 ms (24.8 days) into 1 ms; longer waits are taken in steps. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const due = Date.now() + Math.max(0, ms);
    let t: NodeJS.Timeout;
    const arm = (): void => {
      const left = due - Date.now();
      t = setTimeout(left > MAX_TIMEOUT_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT_MS));
      t.unref();
    };
    arm();
    return { cancel: () => clearTimeout(t) };
  },
};
