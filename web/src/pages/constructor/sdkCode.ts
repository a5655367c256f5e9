/** The pipeline as Python and TypeScript SDK code. Pure, unit-tested. */
import { dependsOnIds, flowSettings, type Model, type NodeKind, num, parseEnv, parseSecrets, splitTags } from './model.ts';

function pyStr(s: string): string {
  return JSON.stringify(s);
}

const PY_TYPE: Record<NodeKind, string> = { run: 'RUN_PAYLOAD', service: 'SERVICE', approval: 'APPROVAL' };

/** The pipeline as Python SDK code (`titan_sdk.TitanJob` + `submit_dag`). */
export function toPython(model: Model): string {
  const out = ['from titan_sdk import TitanClient, TitanJob', '', 'client = TitanClient()', 'jobs = ['];
  for (const n of model.nodes) {
    const f = n.fields;
    const parts = [pyStr(n.id)];
    if (n.kind !== 'approval') parts.push(`filename=${pyStr(f.file)}`);
    if (n.kind !== 'run') parts.push(`job_type=${pyStr(PY_TYPE[n.kind])}`);
    if (f.args.trim()) parts.push(`args=${pyStr(f.args.trim())}`);
    const deps = dependsOnIds(model, n.key);
    if (deps.length) parts.push(`parents=[${deps.map(pyStr).join(', ')}]`);
    if (n.kind === 'service' && num(f.port) !== undefined) parts.push(`port=${num(f.port)}`);
    if (f.requirement.trim()) parts.push(`requirement=${pyStr(f.requirement.trim())}`);
    if (num(f.priority) !== undefined) parts.push(`priority=${num(f.priority)}`);
    if (num(f.delay) !== undefined) parts.push(`delay=${num(f.delay)}`);
    if (num(f.retries) !== undefined) parts.push(`retries=${num(f.retries)}`);
    if (n.kind === 'run' && num(f.timeout) !== undefined) parts.push(`timeout=${num(f.timeout)}`);
    if (f.affinity === 'true') parts.push('affinity=True');
    if (f.affinity === 'required') parts.push('affinity="required"');
    if (n.kind === 'run' && f.hitlMessage.trim()) parts.push(`hitl_message=${pyStr(f.hitlMessage)}`);
    // An approval gate's question and wait travel in Titan's gate parameters.
    if (n.kind === 'approval' && f.message.trim()) parts.push(`hitl_message=${pyStr(f.message)}`);
    if (n.kind === 'approval' && num(f.maxWaitSeconds) !== undefined) parts.push(`max_wait_seconds=${num(f.maxWaitSeconds)}`);
    const flow = n.kind === 'approval' ? {} : flowSettings(f);
    // JSON of strings and numbers is a Python dict literal too.
    if (flow.concurrency) parts.push(`concurrency=${JSON.stringify(flow.concurrency)}`);
    if (flow.rateLimit) parts.push(`rate_limit=${JSON.stringify(flow.rateLimit)}`);
    const secrets = n.kind === 'approval' ? [] : parseSecrets(f.secrets);
    if (secrets.length) parts.push(`secrets=[${secrets.map(pyStr).join(', ')}]`);
    out.push(`    TitanJob(${parts.join(', ')}),`);
  }
  out.push(']');
  const tags = splitTags(model.tags);
  out.push(`result = client.submit_dag(${pyStr(model.name.trim() || 'pipeline')}, jobs${tags.length ? `, tags=[${tags.map(pyStr).join(', ')}]` : ''})`);
  out.push('print(result.run_id)');
  return `${out.join('\n')}\n`;
}

/** The pipeline as TypeScript SDK code (`TitanClient.submit`). */
export function toTypeScript(model: Model): string {
  const out = ["import { TitanClient } from 'titan-ts/sdk';", '', 'const client = new TitanClient();', 'const { runId } = await client.submit({', `  name: ${JSON.stringify(model.name.trim() || 'pipeline')},`];
  const tags = splitTags(model.tags);
  if (tags.length) out.push(`  tags: ${JSON.stringify(tags)},`);
  out.push('  jobs: [');
  for (const n of model.nodes) {
    const f = n.fields;
    const parts = [`id: ${JSON.stringify(n.id)}`];
    if (n.kind !== 'run') parts.push(`kind: '${n.kind}'`);
    if (n.kind !== 'approval') parts.push(`script: ${JSON.stringify(f.file)}`);
    if (n.kind === 'approval' && f.message.trim()) parts.push(`message: ${JSON.stringify(f.message)}`);
    if (f.args.trim()) parts.push(`args: ${JSON.stringify(splitShell(f.args))}`);
    const deps = dependsOnIds(model, n.key);
    if (deps.length) parts.push(`dependsOn: ${JSON.stringify(deps)}`);
    if (f.requirement.trim()) parts.push(`requirement: ${JSON.stringify(f.requirement.trim())}`);
    if (num(f.priority) !== undefined) parts.push(`priority: ${num(f.priority)}`);
    if (num(f.delay) !== undefined) parts.push(`delayMs: ${Math.round((num(f.delay) as number) * 1000)}`);
    if (num(f.retries) !== undefined) parts.push(`retries: ${num(f.retries)}`);
    if (n.kind === 'run' && num(f.timeout) !== undefined) parts.push(`timeoutMs: ${Math.round((num(f.timeout) as number) * 1000)}`);
    if (n.kind === 'approval' && num(f.maxWaitSeconds) !== undefined) parts.push(`timeoutMs: ${Math.round((num(f.maxWaitSeconds) as number) * 1000)}`);
    if (f.affinity === 'true') parts.push("affinity: 'soft'");
    if (f.affinity === 'required') parts.push("affinity: 'required'");
    if (n.kind === 'service' && num(f.port) !== undefined) parts.push(`service: { port: ${num(f.port)} }`);
    const env = parseEnv(f.env);
    if (env.length) parts.push(`env: ${JSON.stringify(Object.fromEntries(env))}`);
    const secrets = n.kind === 'approval' ? [] : parseSecrets(f.secrets);
    if (secrets.length) parts.push(`secrets: ${JSON.stringify(secrets)}`);
    const flow = n.kind === 'approval' ? {} : flowSettings(f);
    if (flow.concurrency) parts.push(`concurrency: ${JSON.stringify(flow.concurrency)}`);
    if (flow.rateLimit) parts.push(`rateLimit: ${JSON.stringify(flow.rateLimit)}`);
    out.push(`    { ${parts.join(', ')} },`);
  }
  out.push('  ],', '});', 'console.log(runId);');
  return `${out.join('\n')}\n`;
}

/** Splits Titan's string form of args like a POSIX shell (quotes, backslashes; no expansion). */
export function splitShell(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (q === "'") {
      if (c === "'") q = '';
      else cur += c;
    } else if (q === '"') {
      if (c === '"') q = '';
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1] as string)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur !== '') out.push(cur);
  return out;
}
