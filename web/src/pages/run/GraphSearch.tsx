/** The run graph's search box: a job id (or part of one) to find, open its group if need be, and centre. */
import { type FormEvent, useState } from 'react';

export default function GraphSearch({ onFind, message }: { onFind: (text: string) => void; message: string | null }) {
  const [text, setText] = useState('');
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (text.trim() !== '') onFind(text.trim());
  };
  return (
    <form className="graph-search" role="search" aria-label="Find a job in the graph" onSubmit={submit}>
      <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Find a job by id" aria-label="Job id to find" spellCheck={false} />
      <button type="submit" className="btn btn-small">
        Find
      </button>
      {message && (
        <span className="graph-search-message small" role="status">
          {message}
        </span>
      )}
    </form>
  );
}
