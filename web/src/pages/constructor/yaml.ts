/** The YAML the constructor emits (docs/pipeline-yaml.md). Pure, unit-tested. */
// `.js`, not `.ts`: the root tsconfig compiles this module too (test/integration/defaults.test.ts).
import { dependsOnIds, flowSettings, type Model, num, parseEnv, parseSecrets, splitTags } from './model.js';

const PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
const NUMERIC = /^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i;

/** A YAML scalar that reads back as exactly this string: plain when safe, else double-quoted (JSON is valid YAML). */
export function yamlString(s: string): string {
  if (PLAIN.test(s) && !RESERVED.test(s) && !NUMERIC.test(s)) return s;
  return JSON.stringify(s);
}

export function toYaml(model: Model): string {
  const lines: string[] = [];
  lines.push(`name: ${yamlString(model.name.trim() || 'pipeline')}`);
  const tags = splitTags(model.tags);
  if (tags.length > 0) lines.push(`tags: [${tags.map(yamlString).join(', ')}]`);
  if (model.schedule.trim() !== '') lines.push(`schedule: ${JSON.stringify(model.schedule.trim())}`);
  if (model.nodes.length === 0) {
    lines.push('jobs: []');
    return `${lines.join('\n')}\n`;
  }
  lines.push('jobs:');
  for (const n of model.nodes) {
    const f = n.fields;
    const put = (key: string, value: string): void => {
      lines.push(`    ${key}: ${value}`);
    };
    lines.push(`  - id: ${yamlString(n.id)}`);
    if (n.kind !== 'run') put('type', n.kind);
    if (n.kind !== 'approval' && f.file.trim() !== '') put('file', yamlString(f.file.trim()));
    if (n.kind !== 'approval' && f.args.trim() !== '') put('args', JSON.stringify(f.args.trim()));
    const deps = dependsOnIds(model, n.key);
    if (deps.length > 0) put('depends_on', `[${deps.map(yamlString).join(', ')}]`);
    if (n.kind === 'approval') {
      if (f.message.trim() !== '') put('message', JSON.stringify(f.message));
      if (num(f.maxWaitSeconds) !== undefined) put('max_wait_seconds', String(num(f.maxWaitSeconds)));
      continue;
    }
    if (f.requirement.trim() !== '') put('requirement', yamlString(f.requirement.trim()));
    for (const [key, field] of [
      ['priority', f.priority],
      ['delay', f.delay],
      ['retries', f.retries],
    ] as const) {
      const v = num(field);
      if (v !== undefined) put(key, String(v));
    }
    if (n.kind === 'run' && num(f.timeout) !== undefined) put('timeout', String(num(f.timeout)));
    if (f.affinity === 'true') put('affinity', 'true');
    if (f.affinity === 'required') put('affinity', 'required');
    if (n.kind === 'service' && num(f.port) !== undefined) put('port', String(num(f.port)));
    const env = parseEnv(f.env);
    if (env.length > 0) put('env', `{${env.map(([k, v]) => `${yamlString(k)}: ${JSON.stringify(v)}`).join(', ')}}`);
    const secrets = parseSecrets(f.secrets);
    if (secrets.length > 0) put('secrets', `[${secrets.map(yamlString).join(', ')}]`);
    if (n.kind === 'run' && f.hitlMessage.trim() !== '') put('hitl_message', JSON.stringify(f.hitlMessage));
    const { concurrency, rateLimit } = flowSettings(f);
    const flow = (v: Record<string, string | number>): string => `{${Object.entries(v).map(([k, x]) => `${k}: ${typeof x === 'number' ? String(x) : yamlString(x)}`).join(', ')}}`;
    if (concurrency) put('concurrency', flow(concurrency));
    if (rateLimit) put('rate_limit', flow(rateLimit));
  }
  return `${lines.join('\n')}\n`;
}
