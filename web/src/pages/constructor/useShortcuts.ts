/** The constructor's keyboard shortcuts (not while typing in a field); the help lists them. */
import { useEffect, useRef } from 'react';

export const SHORTCUTS: [string, string][] = [
  ['Drag from a node’s right handle to another’s left handle', 'connect (dependency → dependent)'],
  ['Click / Shift+click', 'select / add to the selection'],
  ['Drag on the empty canvas', 'select with a rubber band'],
  ['Right or middle drag, scroll', 'pan, zoom'],
  ['Delete / Backspace', 'delete the selection'],
  ['Ctrl+Z', 'undo'],
  ['Ctrl+Shift+Z / Ctrl+Y', 'redo'],
  ['Ctrl+D', 'duplicate the selection'],
  ['Ctrl+A', 'select every node'],
  ['Arrow keys (Shift: 4×)', 'move the selected nodes'],
  ['?', 'this help'],
  ['Esc', 'close dialogs, clear the selection'],
];

export interface ShortcutActions {
  undo: () => void;
  redo: () => void;
  duplicate: () => void;
  selectAll: () => void;
  toggleHelp: () => void;
  /** Esc: close dialogs; `typing` when the key came from a field. */
  escape: (typing: boolean) => void;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

export function useShortcuts(actions: ShortcutActions): void {
  // The listener is added once; it calls the actions of the latest render.
  const latest = useRef(actions);
  latest.current = actions;
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const a = latest.current;
      if (e.key === 'Escape') {
        a.escape(isTyping(e.target));
        return;
      }
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'z' && !e.shiftKey) {
        e.preventDefault();
        a.undo();
      } else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) {
        e.preventDefault();
        a.redo();
      } else if (mod && k === 'd') {
        e.preventDefault();
        a.duplicate();
      } else if (mod && k === 'a') {
        e.preventDefault();
        a.selectAll();
      } else if (e.key === '?') {
        e.preventDefault();
        a.toggleHelp();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
