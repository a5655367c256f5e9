/** The constructor's drafts bar: the draft's name, save and rename, the saved drafts, and the canvas's counts. */
import { ACTION_ICONS, Icon } from '../../icons.ts';
import type { Model } from './model.ts';
import type { Drafts } from './useDrafts.ts';

export default function DraftsBar({ drafts, model }: { drafts: Drafts; model: Model }) {
  return (
    <div className="c-drafts">
      <label htmlFor="c-draft-name">Draft</label>
      <input id="c-draft-name" type="text" value={drafts.nameInput} onChange={(e) => drafts.setNameInput(e.target.value)} placeholder="name" />
      <button type="button" className="btn btn-small" onClick={() => void drafts.saveAs()}>
        Save
      </button>
      <button type="button" className="btn btn-small" onClick={() => void drafts.rename()} disabled={!drafts.draftName}>
        Rename
      </button>
      <span className="c-draft-list" aria-label="Drafts">
        {drafts.drafts.map((d) => (
          <span key={d.name} className="c-draft-item">
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void drafts.open(d.name)} title={`Load ${d.name}`}>
              {d.name}
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => void drafts.remove(d.name)} aria-label={`Delete draft ${d.name}`}>
              <Icon icon={ACTION_ICONS.close} />
            </button>
          </span>
        ))}
      </span>
      <span className="c-hint c-counts" data-testid="c-counts">
        {model.nodes.length} node{model.nodes.length === 1 ? '' : 's'} · {model.edges.length} edge{model.edges.length === 1 ? '' : 's'}
      </span>
    </div>
  );
}
