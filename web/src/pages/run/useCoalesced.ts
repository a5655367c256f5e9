/**
 * A value that follows `value` at most once per `ms`, always ending on the latest: a run's jobs
 * change with every status event (hundreds a second on a busy run), and drawing them a few times a
 * second keeps panning and zooming smooth.
 */
import { useEffect, useRef, useState } from 'react';

export function useCoalesced<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  latest.current = value;
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      setShown(latest.current);
    }, ms);
  }, [value, ms]);
  useEffect(
    () => () => {
      window.clearTimeout(timer.current);
      timer.current = undefined;
    },
    [],
  );
  return shown;
}
