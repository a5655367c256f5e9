/**
 * The constructor's state: the model with its undo/redo history, the selection, and the status
 * line; and every edit the canvas, the toolbar and the editors make to them. Typing in one field
 * (or one run of arrow-key moves) is one undo step; a drag is one step from where it began.
 */
import { useCallback, useRef, useState } from 'react';
import { commit, commitSince, type History, historyOf, redo, replacePresent, undo } from './history.ts';
import { addNode, connect as connectNodes, duplicateNodes, emptyModel, type Model, moveNodes, type NodeFields, type NodeKind, removeEdges, removeNodes, updateNode } from './model.ts';

export type Tone = 'info' | 'error' | 'good';
export interface Status {
  text: string;
  tone: Tone;
}
export type Position = { x: number; y: number };
export type NodePatch = Parameters<typeof updateNode>[2];
export type PipelineField = 'name' | 'tags' | 'schedule';

/** An edge's id on the canvas. */
export const edgeId = (e: { source: string; target: string }): string => `${e.source}>${e.target}`;

/** A set with each `key → selected` change applied. */
function toggled(prev: ReadonlySet<string>, changes: ReadonlyMap<string, boolean>): Set<string> {
  const next = new Set(prev);
  for (const [k, v] of changes) {
    if (v) next.add(k);
    else next.delete(k);
  }
  return next;
}

export function useConstructorModel() {
  const [history, setHistory] = useState<History>(() => historyOf(emptyModel()));
  const model = history.present;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());
  const [status, setStatus] = useState<Status | null>(null);
  const dragStart = useRef<Model | null>(null);
  /** What the last edit was (`key:field`, `pipeline:field`, `keys:move`), to merge a run of them into one step. */
  const lastEdit = useRef<string>('');

  const say = useCallback((text: string, tone: Tone = 'info'): void => setStatus({ text, tone }), []);

  const clearSelection = useCallback((): void => {
    setSelected(new Set());
    setSelectedEdges(new Set());
  }, []);

  /** A new undo step. */
  const apply = useCallback((next: Model): void => {
    lastEdit.current = '';
    setHistory((h) => commit(h, next));
  }, []);

  /** A model that starts a history of its own (a loaded draft). */
  const reset = (next: Model): void => {
    lastEdit.current = '';
    setHistory(historyOf(next));
    setSelected(new Set());
  };

  /** Replaces the canvas with `next` as one undo step (an import, a past run). */
  const replace = (next: Model): void => {
    apply(next);
    setSelected(new Set());
  };

  const add = (kind: NodeKind, at: Position, fields: Partial<NodeFields> = {}): void => {
    const r = addNode(model, kind, at, fields);
    apply(r.model);
    setSelected(new Set([r.key]));
    say(`Added ${r.model.nodes.find((n) => n.key === r.key)?.id ?? kind}`);
  };

  const removeSelection = (): void => {
    if (selected.size === 0 && selectedEdges.size === 0) return;
    apply(
      removeEdges(
        removeNodes(model, selected),
        model.edges.filter((e) => selectedEdges.has(edgeId(e))),
      ),
    );
    clearSelection();
    say('Deleted the selection');
  };

  /** What React Flow deleted itself (its Delete key). */
  const removeFromCanvas = (nodeKeys: string[], edges: { source: string; target: string }[]): void => {
    apply(removeEdges(removeNodes(model, nodeKeys), edges));
    clearSelection();
  };

  /** A dependency `source → target` (node keys); the error says why it was refused. */
  const connect = (source: string, target: string): { error: string | null; source?: string; target?: string } => {
    const r = connectNodes(model, source, target);
    if (r.error) return { error: r.error };
    apply(r.model);
    return { error: null, source: model.nodes.find((n) => n.key === source)?.id, target: model.nodes.find((n) => n.key === target)?.id };
  };

  const duplicate = (): void => {
    if (selected.size === 0) return;
    const r = duplicateNodes(model, selected);
    apply(r.model);
    setSelected(new Set(r.keys));
    say(`Duplicated ${r.keys.length} node${r.keys.length > 1 ? 's' : ''}`);
  };

  const doUndo = (): void => {
    lastEdit.current = '';
    setHistory((h) => undo(h));
  };
  const doRedo = (): void => {
    lastEdit.current = '';
    setHistory((h) => redo(h));
  };

  const startDrag = (): void => {
    dragStart.current = history.present;
  };
  const endDrag = (): void => {
    const before = dragStart.current;
    dragStart.current = null;
    lastEdit.current = '';
    if (before) setHistory((h) => commitSince(h, before));
  };

  const clearCanvas = (): void => {
    if (model.nodes.length === 0) return;
    if (!window.confirm(`Remove all ${model.nodes.length} nodes from the canvas? (Undo brings them back.)`)) return;
    apply(removeNodes(model, model.nodes.map((n) => n.key)));
    clearSelection();
    say('Cleared the canvas; Undo restores it');
  };

  const selectAll = (): void => {
    setSelected(new Set(model.nodes.map((n) => n.key)));
    setSelectedEdges(new Set());
  };

  /** Nodes moved on the canvas: by a drag (one step when it ends) or by the arrow keys. */
  const moveOnCanvas = useCallback((positions: ReadonlyMap<string, Position>): void => {
    // Outside a mouse drag a move comes from the arrow keys: one undo step per run of presses.
    const byKeys = dragStart.current === null;
    const step = byKeys && lastEdit.current !== 'keys:move';
    setHistory((h) => (step ? commit : replacePresent)(h, moveNodes(h.present, positions)));
    lastEdit.current = byKeys ? 'keys:move' : '';
  }, []);

  const selectNodes = useCallback((changes: ReadonlyMap<string, boolean>): void => setSelected((prev) => toggled(prev, changes)), []);
  const selectEdges = useCallback((changes: ReadonlyMap<string, boolean>): void => setSelectedEdges((prev) => toggled(prev, changes)), []);

  /** An edit of a field: typing on in the same field stays one undo step. */
  const editInPlace = (tag: string, next: Model): void => {
    if (lastEdit.current === tag) setHistory((h) => replacePresent(h, next));
    else setHistory((h) => commit(h, next));
    lastEdit.current = tag;
  };
  const editNode = (key: string, field: string, patch: NodePatch): void => editInPlace(`${key}:${field}`, updateNode(model, key, patch));
  const editPipeline = (field: PipelineField, value: string): void => editInPlace(`pipeline:${field}`, { ...model, [field]: value });

  const selectedNode = selected.size === 1 ? model.nodes.find((n) => selected.has(n.key)) : undefined;

  return {
    history,
    model,
    selected,
    selectedEdges,
    selectedNode,
    status,
    say,
    apply,
    reset,
    replace,
    add,
    connect,
    removeSelection,
    removeFromCanvas,
    duplicate,
    undo: doUndo,
    redo: doRedo,
    startDrag,
    endDrag,
    clearCanvas,
    selectAll,
    clearSelection,
    moveOnCanvas,
    selectNodes,
    selectEdges,
    editNode,
    editPipeline,
  };
}

export type ConstructorModel = ReturnType<typeof useConstructorModel>;
