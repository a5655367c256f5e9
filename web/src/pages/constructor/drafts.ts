/** Drafts and scripts of the constructor: the server calls, and the draft content format (pure parts unit-tested). */
import { apiDelete, apiGet, apiPath, apiPost, apiPut, ApiError, getSession, loadSession } from '../../api.ts';
import { DRAFT_NAME, draftContent, parseDraft } from './draftFormat.ts';
import type { Model } from './model.ts';

export { DRAFT_NAME, draftContent, parseDraft };

export interface DraftInfo {
  name: string;
  savedAt: number | string;
}

/** A script of `GET /api/script-catalog`. */
export interface KnownScript {
  name: string;
  sha256: string;
  size: number | null;
  source: 'library' | 'upload' | 'run';
  at: number;
  runId?: string;
  runName?: string;
  /** False when the blob store no longer has a past run's script. */
  available: boolean;
  /** The version a node naming this script deploys. */
  current: boolean;
}

export async function listDrafts(): Promise<DraftInfo[]> {
  return (await apiGet<{ drafts: DraftInfo[] }>('/api/drafts')).drafts;
}

export async function loadDraft(name: string): Promise<Model> {
  const d = await apiGet<{ content: unknown }>(apiPath('drafts', name));
  return parseDraft(typeof d.content === 'string' ? d.content : JSON.stringify(d.content));
}

export async function saveDraft(name: string, model: Model): Promise<void> {
  await apiPut(apiPath('drafts', name), { content: draftContent(model) });
}

export async function renameDraft(name: string, to: string): Promise<void> {
  await apiPost(`${apiPath('drafts', name)}/rename`, { to });
}

export async function deleteDraft(name: string): Promise<void> {
  await apiDelete(apiPath('drafts', name));
}

/** A library script's source, or (with `sha256`) a known script's by its content hash. */
export async function scriptSource(name: string, sha256?: string): Promise<string> {
  const res = await fetch(sha256 ? apiPath('script-catalog', sha256) : apiPath('scripts', name), { credentials: 'same-origin' });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, text.slice(0, 300) || res.statusText);
  return text;
}

/** Uploads a script's raw bytes (PUT with the session's CSRF header). */
export async function uploadScript(name: string, body: Blob | string): Promise<void> {
  if (!getSession()) await loadSession().catch(() => undefined);
  const csrf = getSession()?.csrf;
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(apiPath('scripts', name), { method: 'PUT', headers, credentials: 'same-origin', body });
  if (!res.ok) {
    const text = await res.text();
    let message = text.slice(0, 300) || res.statusText;
    try {
      const e = JSON.parse(text) as { message?: unknown };
      if (typeof e.message === 'string') message = e.message;
    } catch {
      // not JSON: the text itself
    }
    throw new ApiError(res.status, `HTTP_${res.status}`, message);
  }
}
