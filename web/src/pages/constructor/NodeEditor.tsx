/** The side editor of the selected node: its id, kind, script (any the cluster knows, or an upload) and every field of its kind. */
import { useState } from 'react';
import { errorText } from '../../components/ui.tsx';
import { DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_MS, DEFAULT_PRIORITY, DEFAULT_RETRIES } from '../../../../src/core/defaults.ts';
import { RATE_PERIODS, RateLimitSchema } from '../../../../src/core/flow-spec.ts';
import { uploadScript } from './drafts.ts';
import FieldError from './FieldError.tsx';
import { KindIcon } from '../../icons.ts';
import { KIND_LABEL } from './kinds.ts';
import type { CNode, NodeFields, NodeKind } from './model.ts';
import type { NodePatch } from './useConstructorModel.ts';
import type { KnownScripts } from './useKnownScripts.ts';
import type { Issue } from './validate.ts';

/** The period a rate limit has when none is chosen: core's default, shown, not copied. */
const DEFAULT_PER = RateLimitSchema.shape.per.parse(undefined);

export default function NodeEditor({
  node,
  issues,
  pools,
  known,
  onUploaded,
  onEdit,
}: {
  node: CNode;
  issues: Issue[];
  pools: string[];
  known: KnownScripts;
  onUploaded: () => void;
  onEdit: (key: string, field: string, patch: NodePatch) => void;
}) {
  const [uploadMessage, setUploadMessage] = useState('');
  const f = node.fields;
  const set = (field: keyof NodeFields, value: string): void => onEdit(node.key, field, { fields: { [field]: value } });
  // An upload from the editor becomes this node's script at once.
  const upload = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    try {
      await uploadScript(file.name, file);
      set('file', file.name);
      setUploadMessage(`Uploaded ${file.name}`);
      onUploaded();
    } catch (err) {
      setUploadMessage(`Upload failed: ${errorText(err)}`);
    }
  };
  const text = (field: keyof NodeFields, label: string, placeholder = '', list?: string) => (
    <div className="field">
      <label htmlFor={`c-f-${field}`}>{label}</label>
      <input id={`c-f-${field}`} type="text" value={f[field]} placeholder={placeholder} list={list} onChange={(e) => set(field, e.target.value)} aria-invalid={issues.some((i) => i.field === field && i.level === 'error')} />
      <FieldError issues={issues} field={field} />
    </div>
  );
  return (
    <div className="c-editor">
      <h2>
        <KindIcon kind={node.kind} /> {KIND_LABEL[node.kind]} <span className="c-hint">{node.id}</span>
      </h2>
      <div className="field">
        <label htmlFor="c-f-id">Id</label>
        <input id="c-f-id" type="text" value={node.id} onChange={(e) => onEdit(node.key, 'id', { id: e.target.value })} aria-invalid={issues.some((i) => i.field === 'id')} />
        <FieldError issues={issues} field="id" />
      </div>
      <div className="field">
        <label htmlFor="c-f-kind">Type</label>
        <select id="c-f-kind" value={node.kind} onChange={(e) => onEdit(node.key, 'kind', { kind: e.target.value as NodeKind })}>
          <option value="run">run (task)</option>
          <option value="service">service</option>
          <option value="approval">approval</option>
        </select>
      </div>
      {node.kind !== 'approval' && (
        <>
          {text('file', 'Script (from the library)', 'extract.py', 'c-scripts')}
          <label className="btn btn-small c-upload">
            Upload a script for this node…
            <input type="file" className="visually-hidden" data-testid="c-node-upload" onChange={(e) => void upload(e.target.files?.[0]).finally(() => (e.target.value = ''))} />
          </label>
          {uploadMessage && (
            <span className="c-hint" role="status">
              {uploadMessage}
            </span>
          )}
          <datalist id="c-scripts">
            {[...(known.deployable ?? [])].map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          {text('args', 'Arguments', "--day 2026-11-24 --label 'two words'")}
          {text('requirement', 'Requirement (capability)', DEFAULT_CAPABILITY, 'c-pools')}
          <datalist id="c-pools">
            {pools.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          {text('priority', 'Priority', String(DEFAULT_PRIORITY))}
          {text('delay', 'Delay (s)', '0')}
          {text('retries', 'Retries', String(DEFAULT_RETRIES))}
          {node.kind === 'run' && text('timeout', 'Timeout (s)', 'none')}
          {node.kind === 'service' && text('port', 'Port', 'assigned')}
          <div className="field">
            <label htmlFor="c-f-affinity">Affinity</label>
            <select id="c-f-affinity" value={f.affinity} onChange={(e) => set('affinity', e.target.value)}>
              <option value="">none</option>
              <option value="true">prefer the first parent’s worker</option>
              <option value="required">required</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="c-f-env">Environment (NAME=value a line)</label>
            <textarea id="c-f-env" rows={3} value={f.env} onChange={(e) => set('env', e.target.value)} spellCheck={false} />
            <FieldError issues={issues} field="env" />
          </div>
          {text('secrets', 'Secrets (names, received as environment variables)', 'OPENAI_API_KEY')}
          {node.kind === 'run' && text('hitlMessage', 'Approval after it (hitl_message)', '')}
          <h3>Flow control</h3>
          {text('concurrencyKey', 'Concurrency key', 'openai or tenant-{tags.customer}')}
          {text('concurrencyLimit', 'Concurrency limit', "the cluster's")}
          {text('rateKey', 'Rate limit key', 'openai')}
          {text('rateLimit', 'Rate limit (starts per period)', '60')}
          <div className="field">
            <label htmlFor="c-f-ratePer">Rate period</label>
            <select id="c-f-ratePer" value={f.ratePer} onChange={(e) => set('ratePer', e.target.value)}>
              <option value="">default ({DEFAULT_PER})</option>
              {Object.keys(RATE_PERIODS).map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
            <FieldError issues={issues} field="ratePer" />
          </div>
          {text('rateBurst', 'Rate burst', 'the rate limit')}
        </>
      )}
      {node.kind === 'approval' && (
        <>
          {text('message', 'Message', 'Deploy to production?')}
          {text('maxWaitSeconds', 'Max wait (s)', String(DEFAULT_GATE_WAIT_MS / 1000))}
        </>
      )}
    </div>
  );
}
