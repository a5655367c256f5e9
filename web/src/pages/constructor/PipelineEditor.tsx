/** The side editor when no single node is selected: the pipeline's name, tags and schedule, its problems, and what to do first on a blank canvas. */
import FieldError from './FieldError.tsx';
import type { Model } from './model.ts';
import type { PipelineField } from './useConstructorModel.ts';
import type { Issue } from './validate.ts';

export default function PipelineEditor({ model, issues: all, onEdit, selectedCount }: { model: Model; issues: Issue[]; onEdit: (f: PipelineField, v: string) => void; selectedCount: number }) {
  const hints = all.filter((i) => i.level === 'hint');
  const issues = all.filter((i) => i.level !== 'hint');
  const general = issues.filter((i) => !i.key && !i.field);
  return (
    <div className="c-editor">
      <h2>Pipeline</h2>
      {selectedCount > 1 && <p className="c-hint">{selectedCount} nodes selected (select one to edit it).</p>}
      {hints.map((h) => (
        <p key={h.message} className="c-hint" data-testid="c-first-hint">
          {h.message}
        </p>
      ))}
      <div className="field">
        <label htmlFor="c-p-name">Name</label>
        <input id="c-p-name" type="text" value={model.name} onChange={(e) => onEdit('name', e.target.value)} />
        <FieldError issues={issues} field="name" />
      </div>
      <div className="field">
        <label htmlFor="c-p-tags">Tags</label>
        <input id="c-p-tags" type="text" value={model.tags} onChange={(e) => onEdit('tags', e.target.value)} placeholder="nightly, team=data" />
        <FieldError issues={issues} field="tags" />
      </div>
      <div className="field">
        <label htmlFor="c-p-schedule">Schedule (cron, UTC)</label>
        <input id="c-p-schedule" type="text" value={model.schedule} onChange={(e) => onEdit('schedule', e.target.value)} placeholder="0 2 * * *  (empty: run once)" />
        <FieldError issues={issues} field="schedule" />
      </div>
      <h3>Problems</h3>
      {issues.length === 0 ? (
        <p className="c-hint">None.</p>
      ) : (
        <ul className="c-issues">
          {[...general, ...issues.filter((i) => i.key || i.field)].slice(0, 30).map((i, n) => (
            <li key={n} className={`c-field-${i.level}`}>
              {i.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
