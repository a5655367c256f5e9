/** A name typed into an access dialog (a secret's, a token's): its help, and the error that names what is wrong with it. */
import { type ReactNode, useId } from 'react';

export interface NameFieldProps {
  value: string;
  onChange: (value: string) => void;
  error: string | null;
  help: ReactNode;
}

export function NameField({ value, onChange, error, help }: NameFieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        type="text"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-name-help${error ? ` ${id}-name-error` : ''}`}
      />
      <p className="help" id={`${id}-name-help`}>
        {help}
      </p>
      {error ? (
        <p className="pg-field-error" id={`${id}-name-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
