/**
 * Sets the cluster's limit on a key (`PUT /api/limits/:key`): at most N at once, a rate with its
 * period and burst, a fairness weight. Fields are checked as the master checks them before
 * anything is sent; the master's refusal, if any, stays in the dialog.
 */
import { useId, useState } from 'react';
import { apiPath, apiPut } from '../../api.ts';
import { errorText } from '../../components/ui.tsx';
import { type ClusterLimit, RATE_PERIODS, type RatePeriod } from '../../../../src/core/flow-spec.ts';
import { ConfirmDialog } from '../parts/confirm.tsx';
import { describeLimit, fieldsOf, type LimitField, type LimitFields, parseLimitFields } from './limits.ts';

export interface LimitDialogProps {
  /** The key being changed, or null to name a new one in the form. */
  keyName: string | null;
  current: ClusterLimit | null;
  /** After the master took the limit: what to tell the user. */
  onSaved: (done: string) => void;
  onCancel: () => void;
}

export default function LimitDialog({ keyName, current, onSaved, onCancel }: LimitDialogProps) {
  const [fields, setFields] = useState<LimitFields>(() => fieldsOf(keyName ?? '', current));
  const [errors, setErrors] = useState<Partial<Record<LimitField, string>>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const save = async (): Promise<void> => {
    const parsed = parseLimitFields(fields);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      setError(null);
      return;
    }
    setErrors({});
    setBusy(true);
    setError(null);
    try {
      const { key, ...body } = parsed.limit;
      await apiPut(apiPath('limits', key), body);
      onSaved(`The limit on ${key} is now ${describeLimit(parsed.limit)}; it applies at once.`);
    } catch (err) {
      setError(`The limit was not set: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  // Numbers are typed as text (with a numeric keyboard): the form's own checks word the errors, not the browser's.
  const field = (name: LimitField, label: string, help: string, numeric = true) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        type="text"
        inputMode={numeric ? 'numeric' : undefined}
        autoComplete="off"
        value={fields[name]}
        onChange={(e) => setFields((f) => ({ ...f, [name]: e.target.value }))}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={`${id}-${name}-help${errors[name] ? ` ${id}-${name}-error` : ''}`}
      />
      <p className="help" id={`${id}-${name}-help`}>
        {help}
      </p>
      {errors[name] ? (
        <p className="pg-field-error" id={`${id}-${name}-error`}>
          {errors[name]}
        </p>
      ) : null}
    </div>
  );

  return (
    <ConfirmDialog
      title={keyName === null ? 'Set a limit on a key' : `Limit on ${keyName}`}
      confirmLabel="Set limit"
      busy={busy}
      error={error}
      focusField
      onConfirm={() => void save()}
      onCancel={onCancel}
    >
      <div className="pg-limit-form">
        {keyName === null ? field('key', 'Key', 'The key as jobs name it, e.g. openai or tenant-acme.', false) : null}
        {field('concurrency', 'At once', 'At most this many jobs holding the key run at the same time, across the cluster.')}
        <div className="pg-limit-rate">
          {field('rate', 'Rate', 'Starts per period (a token bucket); empty for no rate.')}
          <div className="field">
            <label htmlFor={`${id}-per`}>Per</label>
            <select id={`${id}-per`} value={fields.per} onChange={(e) => setFields((f) => ({ ...f, per: e.target.value as RatePeriod }))}>
              {(Object.keys(RATE_PERIODS) as RatePeriod[]).map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          {field('burst', 'Burst', 'Starts allowed at once after a quiet spell (default: the rate).')}
        </div>
        {field('weight', 'Weight', 'The share of dispatch turns of the runs this key groups (fair queueing).')}
        <p className="muted small">It replaces the key's limit and wins over the limits jobs declare; it survives a restart of the master.</p>
      </div>
    </ConfirmDialog>
  );
}
