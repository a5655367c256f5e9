/**
 * The data tools: keys of the data bus, the master's script library, and artifacts (files kept on
 * the master). Content travels in the tool call itself; nothing is written on this machine.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TitanError } from '../core/errors.js';
import type { TitanClient } from '../sdk/client.js';
import { DeployScriptInput, GetArtifactInput, ListArtifactsInput, ListKeysInput, NoInput, PutArtifactInput, StoreGetInput, StorePutInput } from './schemas.js';
import { type DefineTool, readOnly, writes } from './tool.js';
import { keyView } from './views.js';

export function registerDataTools(tool: DefineTool, client: TitanClient): void {
  tool('store_get', { title: 'Read a key', description: "A data bus key's value (null when absent) and version.", annotations: readOnly }, StoreGetInput, async (p) => {
    const e = await client.getVersioned(p.key);
    return { key: p.key, exists: e.value !== null, value: e.value, version: e.version, expiresAt: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString() };
  });

  tool('store_put', { title: 'Write a key', description: 'Sets a data bus key to a string value, optionally expiring; returns its new version.', annotations: writes }, StorePutInput, async (p) => {
    const version = await client.set(p.key, p.value, p.ttl_seconds === undefined ? {} : { ttlMs: Math.max(1, Math.round(p.ttl_seconds * 1000)) });
    return { key: p.key, version };
  });

  tool('list_store_keys', { title: 'List keys', description: 'Data bus keys starting with prefix, in key order, with type (string or set), version and expiry; truncated is true when there are more than limit.', annotations: readOnly }, ListKeysInput, async (p) => {
    const { keys, truncated } = await client.call('kv.keys', { prefix: p.prefix, limit: p.limit });
    return { keys: keys.map(keyView), truncated };
  });

  // Names and dates only. No tool sets a secret: its value would pass through the model's context.
  tool('list_secrets', { title: 'List secrets', description: "The cluster's secrets by name, with when each was created and last set; values are never shown. A job receives those it declares (secrets: [NAME]). Setting one is for a person, with `titan secrets set NAME`.", annotations: readOnly }, NoInput, async () => {
    const { secrets } = await client.call('secrets.list', {});
    return secrets.map((s) => ({ name: s.name, createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString() }));
  });

  tool('deploy_script', { title: 'Deploy a script', description: "Stores a script in the master's script library under a bare file name, replacing one of the same name.", annotations: writes }, DeployScriptInput, async (p) => {
    const stored = await client.putFile('scripts', { name: p.name, content: p.content });
    return { deployed: stored.name, size: stored.size };
  });

  tool('list_artifacts', { title: 'List artifacts', description: "Artifacts (files kept on the master) with size, sha256 and the job attempt that produced them; run_id lists a run's output files.", annotations: readOnly }, ListArtifactsInput, async (p) => {
    const list = await client.listArtifacts({ prefix: p.prefix, limit: p.limit, ...(p.run_id !== undefined && { runId: p.run_id }) });
    return list.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() }));
  });

  tool(
    'get_artifact',
    { title: 'Read an artifact', description: "An artifact's content as text, or base64 when it is binary; refused above max_bytes. The first content item describes it, the second is the content.", annotations: readOnly },
    GetArtifactInput,
    async (p) => {
      const head = await client.call('artifact.get', { key: p.key, offset: 0, limit: 1 });
      const tooBig = (size: number): TitanError => new TitanError('BAD_REQUEST', `artifact "${p.key}" is ${size} bytes, more than max_bytes (${p.max_bytes}); raise max_bytes (up to 4 MiB) or fetch it with titan artifacts get`);
      if (head.artifact.size > p.max_bytes) throw tooBig(head.artifact.size);
      const parts: Buffer[] = [];
      let total = 0;
      const info = await client.readArtifact(p.key, (chunk) => {
        total += chunk.length;
        if (total > p.max_bytes) throw tooBig(total);
        parts.push(chunk);
      });
      const data = Buffer.concat(parts);
      const text = p.encoding === 'base64' ? null : asText(data);
      if (p.encoding === 'text' && text === null) throw new TitanError('BAD_REQUEST', `artifact "${p.key}" is not UTF-8 text; ask for encoding "base64"`);
      const encoding = text === null ? 'base64' : 'text';
      const meta = { key: info.key, size: info.size, sha256: info.sha256, encoding, runId: info.runId, jobId: info.jobId, attempt: info.attempt, createdAt: new Date(info.createdAt).toISOString() };
      return { content: [{ type: 'text', text: JSON.stringify(meta, null, 2) }, { type: 'text', text: text ?? data.toString('base64') }] } satisfies CallToolResult;
    },
  );

  tool('put_artifact', { title: 'Write an artifact', description: 'Stores content (text, or base64 with encoding "base64") as an artifact under a key, replacing one with the same key.', annotations: writes }, PutArtifactInput, async (p) => {
    const data = p.encoding === 'base64' ? Buffer.from(p.content, 'base64') : Buffer.from(p.content, 'utf8');
    const info = await client.publishArtifact(p.key, data);
    return { key: info.key, size: info.size, sha256: info.sha256 };
  });
}

/** The bytes as a string when they are valid UTF-8 without NUL bytes, else null. */
function asText(data: Buffer): string | null {
  if (data.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return null;
  }
}
