/**
 * An action a person confirms in a ConfirmDialog: what is being asked about, whether the action
 * runs, the error shown in the dialog, and the outcome line the page shows after it.
 */
import { useState } from 'react';
import { errorText } from '../../components/ui.tsx';

export interface Confirmation<T> {
  /** What the dialog asks about; null while it is closed. */
  pending: T | null;
  busy: boolean;
  error: string | null;
  done: string | null;
  setDone: (done: string | null) => void;
  /** Opens the dialog about `what`, without the error of an earlier attempt. */
  ask: (what: T) => void;
  cancel: () => void;
  /** Runs `act` on what is pending: its answer becomes the outcome, a failure stays in the dialog. */
  confirm: (act: (what: T) => Promise<string>) => Promise<void>;
}

/** `reload` refreshes the page's list once an action succeeded. */
export function useConfirmation<T>(reload: () => unknown): Confirmation<T> {
  const [pending, setPending] = useState<T | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return {
    pending,
    busy,
    error,
    done,
    setDone,
    ask: (what) => {
      setError(null);
      setPending(what);
    },
    cancel: () => setPending(null),
    confirm: async (act) => {
      if (pending === null) return;
      setBusy(true);
      setError(null);
      try {
        setDone(await act(pending));
        setPending(null);
        void reload();
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(false);
      }
    },
  };
}
