/** The content of a constructor draft (pure, unit-tested). */
import { EMPTY_FIELDS, emptyModel, type Model } from './model.ts';

/** What a draft stores: the whole model (positions included), as JSON. */
export function draftContent(model: Model): string {
  return JSON.stringify({ version: 1, model });
}

/** The model of a draft's content; throws with a message when it is not one. */
export function parseDraft(content: string): Model {
  const doc = JSON.parse(content) as { version?: unknown; model?: Partial<Model> };
  if (!doc || typeof doc !== 'object' || !doc.model || !Array.isArray(doc.model.nodes) || !Array.isArray(doc.model.edges)) throw new Error('not a constructor draft');
  // A draft saved before a field existed has that field empty.
  const model = { ...emptyModel(), ...doc.model } as Model;
  return { ...model, nodes: model.nodes.map((n) => ({ ...n, fields: { ...EMPTY_FIELDS, ...n.fields } })) };
}

export const DRAFT_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
