/**
 * Sets a secret's value (`PUT /api/secrets/:name`): a new secret by name, or a new value for an
 * existing one. The value is typed into a password field, sent once and never shown again: no
 * page or route returns it.
 */
import { useId, useState } from 'react';
import { apiPath, apiPut } from '../../api.ts';
import { errorText } from '../../components/ui.tsx';
import { SecretNameSchema } from '../../../../src/core/model.ts';
import { ConfirmDialog } from '../parts/confirm.tsx';
import { NameField } from './NameField.tsx';

export interface SecretDialogProps {
  /** The secret whose value is replaced, or null to name a new one in the form. */
  name: string | null;
  onSaved: (done: string) => void;
  onCancel: () => void;
}

export default function SecretDialog({ name, onSaved, onCancel }: SecretDialogProps) {
  const [typedName, setTypedName] = useState(name ?? '');
  const [value, setValue] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const save = async (): Promise<void> => {
    const parsed = SecretNameSchema.safeParse(typedName.trim());
    setNameError(parsed.success ? null : (parsed.error.issues[0]?.message ?? 'not a secret name'));
    if (!parsed.success) return;
    if (value === '') {
      setError('The value is empty: type or paste the value to keep.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { created } = await apiPut<{ created: boolean }>(apiPath('secrets', parsed.data), { value });
      setValue('');
      onSaved(`${created ? 'Added' : 'Replaced the value of'} ${parsed.data}: jobs that declare it receive it from their next start.`);
    } catch (err) {
      setError(`The secret was not set: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog
      title={name === null ? 'Add a secret' : `New value for ${name}`}
      confirmLabel={name === null ? 'Add secret' : 'Replace value'}
      busy={busy}
      error={error}
      focusField
      onConfirm={() => void save()}
      onCancel={onCancel}
    >
      <div className="pg-limit-form">
        {name === null ? (
          <NameField
            value={typedName}
            onChange={setTypedName}
            error={nameError}
            help={
              <>
                As jobs declare it (<code>secrets: [OPENAI_API_KEY]</code>) and receive it: an environment variable's name.
              </>
            }
          />
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-value`}>Value</label>
          <input id={`${id}-value`} type="password" autoComplete="new-password" spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} aria-describedby={`${id}-value-help`} />
          <p className="help" id={`${id}-value-help`}>
            Encrypted before it is stored. Nobody can read it back, here or anywhere else; jobs that declare it get it, and their logs show it masked.
          </p>
        </div>
      </div>
    </ConfirmDialog>
  );
}
