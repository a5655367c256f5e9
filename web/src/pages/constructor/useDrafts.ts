/**
 * The constructor's drafts: the list on the server, the draft being edited (autosaved 1.5 s after
 * the last change once it has a name), and save, load, rename and delete.
 */
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../../components/ui.tsx';
import { deleteDraft, DRAFT_NAME, type DraftInfo, listDrafts, loadDraft, renameDraft, saveDraft } from './drafts.ts';
import type { Model } from './model.ts';
import type { Tone } from './useConstructorModel.ts';

export function useDrafts(model: Model, say: (text: string, tone?: Tone) => void, onLoaded: (model: Model) => void) {
  const [draftName, setDraftName] = useState<string>('');
  const [savedModel, setSavedModel] = useState<Model | null>(null);
  const [drafts, setDrafts] = useState<DraftInfo[]>([]);
  const [nameInput, setNameInput] = useState('');

  const refresh = useCallback(() => {
    listDrafts()
      .then(setDrafts)
      .catch(() => setDrafts([]));
  }, []);
  useEffect(refresh, [refresh]);

  const dirty = savedModel === null ? model.nodes.length > 0 : savedModel !== model;

  useEffect(() => {
    if (!draftName || savedModel === null || savedModel === model) return;
    const timer = window.setTimeout(() => {
      saveDraft(draftName, model)
        .then(() => {
          setSavedModel(model);
          say(`Draft ${draftName} saved automatically`);
        })
        .catch((err: unknown) => say(`Autosave failed: ${errorText(err)}`, 'error'));
    }, 1500);
    return () => window.clearTimeout(timer);
  }, [draftName, model, savedModel, say]);

  const saveAs = async (): Promise<void> => {
    const name = nameInput.trim() || draftName;
    if (!DRAFT_NAME.test(name)) {
      say('A draft name holds letters, digits and _ - . (at most 100)', 'error');
      return;
    }
    try {
      await saveDraft(name, model);
      setDraftName(name);
      setSavedModel(model);
      say(`Saved draft ${name}`, 'good');
      refresh();
    } catch (err) {
      say(`Save failed: ${errorText(err)}`, 'error');
    }
  };

  const open = async (name: string): Promise<void> => {
    try {
      const m = await loadDraft(name);
      onLoaded(m);
      setSavedModel(m);
      setDraftName(name);
      setNameInput(name);
      say(`Loaded draft ${name}`, 'good');
    } catch (err) {
      say(`Load failed: ${errorText(err)}`, 'error');
    }
  };

  const rename = async (): Promise<void> => {
    const to = nameInput.trim();
    if (!draftName || !DRAFT_NAME.test(to) || to === draftName) {
      say('Load a draft, then type its new name', 'error');
      return;
    }
    try {
      await renameDraft(draftName, to);
      setDraftName(to);
      say(`Renamed to ${to}`, 'good');
      refresh();
    } catch (err) {
      say(`Rename failed: ${errorText(err)}`, 'error');
    }
  };

  const remove = async (name: string): Promise<void> => {
    if (!window.confirm(`Delete the draft ${name}?`)) return;
    try {
      await deleteDraft(name);
      if (name === draftName) {
        setDraftName('');
        setSavedModel(null);
      }
      say(`Deleted draft ${name}`, 'good');
      refresh();
    } catch (err) {
      say(`Delete failed: ${errorText(err)}`, 'error');
    }
  };

  return { draftName, dirty, drafts, nameInput, setNameInput, saveAs, open, rename, remove };
}

export type Drafts = ReturnType<typeof useDrafts>;
