/**
 * What the list pages put around their tables: the load error and "Loading" before the first
 * answer, the Refresh button, and the select of how many rows to ask for.
 */
import type { ReactNode } from 'react';
import type { ApiState } from '../../api.ts';
import { ErrorBox, Loading } from '../../components/ui.tsx';

/** The load error with a retry, "Loading" until the first answer, then `children` of the data. */
export function Loaded<T>({ state, children }: { state: ApiState<T>; children: (data: T) => ReactNode }) {
  return (
    <>
      <ErrorBox error={state.error} onRetry={() => void state.reload()} />
      {state.data === undefined ? !state.error && <Loading /> : children(state.data)}
    </>
  );
}

export function RefreshButton({ onRefresh }: { onRefresh: () => unknown }) {
  return (
    <button type="button" className="btn" onClick={() => void onRefresh()}>
      Refresh
    </button>
  );
}

/** A labelled select of how many rows to ask for; `option` words each choice. */
export function LimitSelect({ id, label, value, limits, option, onChange }: { id: string; label: string; value: number; limits: readonly number[]; option: (n: number) => string; onChange: (n: number) => void }) {
  return (
    <div className="field field-inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {limits.map((n) => (
          <option key={n} value={n}>
            {option(n)}
          </option>
        ))}
      </select>
    </div>
  );
}
