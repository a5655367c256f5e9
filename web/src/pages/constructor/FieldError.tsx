/** A field's problems, under the field (errors are announced). */
import type { Issue } from './validate.ts';

export default function FieldError({ issues, field }: { issues: Issue[]; field: Issue['field'] }) {
  const mine = issues.filter((i) => i.field === field);
  if (mine.length === 0) return null;
  return (
    <>
      {mine.map((i) => (
        <span key={i.message} className={`c-field-${i.level}`} role={i.level === 'error' ? 'alert' : undefined}>
          {i.message}
        </span>
      ))}
    </>
  );
}
