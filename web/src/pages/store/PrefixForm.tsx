/** The store's key prefix form: browse the keys that start with a prefix. */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { KV_KEY_CHARS_TEXT, KV_PREFIX_PATTERN } from '../../../../src/core/data-rules.ts';

export default function PrefixForm({ applied, onApply }: { applied: string; onApply: (p: string) => void }) {
  const [text, setText] = useState(applied);
  const id = useId();
  useEffect(() => setText(applied), [applied]);
  const problem = KV_PREFIX_PATTERN.test(text) ? null : `a prefix may contain only ${KV_KEY_CHARS_TEXT}`;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!problem) onApply(text);
  };
  return (
    <form className="filters" onSubmit={submit} role="search" aria-label="Browse keys by prefix">
      <div className="field field-inline pg-grow">
        <label htmlFor={`${id}-prefix`}>Key prefix</label>
        <input
          id={`${id}-prefix`}
          type="text"
          value={text}
          placeholder="e.g. user: or reports/"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <button type="submit" className="btn" disabled={problem !== null}>
        Browse
      </button>
      {applied ? (
        <button type="button" className="btn btn-ghost" onClick={() => onApply('')}>
          All keys
        </button>
      ) : null}
      {problem ? (
        <p id={`${id}-problem`} className="pg-field-error small" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}
