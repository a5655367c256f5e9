/**
 * Creates a named token (`POST /api/tokens`) with roles and an expiry, then shows the token the
 * one time it can be seen: the master keeps only its hash.
 */
import { useId, useState } from 'react';
import { apiPost } from '../../api.ts';
import { errorText } from '../../components/ui.tsx';
import { NameSchema } from '../../../../src/protocol/access-methods.ts';
import { GRANTABLE_ROLES, type GrantableRole } from '../../../../src/protocol/roles.ts';
import { ConfirmDialog } from '../parts/confirm.tsx';
import { NameField } from './NameField.tsx';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The expiries offered, in days (null: never); the first is the CLI's default. */
const EXPIRIES: readonly (readonly [string, number | null])[] = [
  ['90 days', 90],
  ['30 days', 30],
  ['7 days', 7],
  ['1 year', 365],
  ['never', null],
];

const ROLE_HELP: Record<GrantableRole, string> = {
  admin: 'everything, including tokens, users, secrets and the audit log',
  operator: 'submit, cancel, retry, drain workers',
  approver: 'approve or reject gates',
  read: 'look only',
};

export interface TokenDialogProps {
  /** After the dialog closed on a created token: what to tell the user. */
  onDone: (done: string) => void;
  onCancel: () => void;
}

export default function TokenDialog({ onDone, onCancel }: TokenDialogProps) {
  const [name, setName] = useState('');
  const [roles, setRoles] = useState<GrantableRole[]>(['read']);
  const [expiry, setExpiry] = useState(0);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const create = async (): Promise<void> => {
    const parsed = NameSchema.safeParse(name.trim());
    setNameError(parsed.success ? null : (parsed.error.issues[0]?.message ?? 'not a name'));
    if (!parsed.success) return;
    if (roles.length === 0) {
      setError('Choose at least one role.');
      return;
    }
    const days = EXPIRIES[expiry]?.[1] ?? null;
    setBusy(true);
    setError(null);
    try {
      const answer = await apiPost<{ token: string }>('/api/tokens', { name: parsed.data, roles, expiresAt: days === null ? null : Date.now() + days * DAY_MS });
      setCreated({ name: parsed.data, token: answer.token });
    } catch (err) {
      setError(`The token was not created: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  if (created !== null) {
    return (
      <ConfirmDialog title={`Token ${created.name}`} confirmLabel="Done" focusField onConfirm={() => onDone(`Created the token ${created.name}.`)} onCancel={() => onDone(`Created the token ${created.name}.`)}>
        <div className="field">
          <label htmlFor={`${id}-token`}>Token</label>
          <input id={`${id}-token`} type="text" readOnly value={created.token} onFocus={(e) => e.target.select()} aria-describedby={`${id}-token-help`} />
          <p className="help" id={`${id}-token-help`}>
            Copy it now: this is the only time it is shown. Use it as <code>TITAN_TOKEN</code> or <code>--token-file</code>.
          </p>
        </div>
      </ConfirmDialog>
    );
  }

  const toggle = (role: GrantableRole, on: boolean): void => setRoles((r) => (on ? [...r, role] : r.filter((x) => x !== role)));
  return (
    <ConfirmDialog title="Create a token" confirmLabel="Create token" busy={busy} error={error} focusField onConfirm={() => void create()} onCancel={onCancel}>
      <div className="pg-limit-form">
        <NameField value={name} onChange={setName} error={nameError} help="Who or what uses it, e.g. ci-deploy: the audit log shows this name for what it does." />
        <fieldset className="field">
          <legend>Roles</legend>
          {GRANTABLE_ROLES.map((role) => (
            <label key={role} className="check">
              <input type="checkbox" checked={roles.includes(role)} onChange={(e) => toggle(role, e.target.checked)} /> {role} <span className="muted small">({ROLE_HELP[role]})</span>
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-expiry`}>Expires after</label>
          <select id={`${id}-expiry`} value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRIES.map(([label], i) => (
              <option key={label} value={i}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
    </ConfirmDialog>
  );
}
