/** The generated pipeline: YAML, Python SDK or TypeScript SDK code, with a copy button. */
import { useMemo, useState } from 'react';
import type { Model } from './model.ts';
import { toPython, toTypeScript } from './sdkCode.ts';
import type { Tone } from './useConstructorModel.ts';
import { toYaml } from './yaml.ts';

type CodeTab = 'yaml' | 'python' | 'typescript';

const TABS: readonly (readonly [CodeTab, string])[] = [
  ['yaml', 'YAML'],
  ['python', 'Python SDK'],
  ['typescript', 'TypeScript SDK'],
];

export default function CodePreview({ model, say }: { model: Model; say: (text: string, tone?: Tone) => void }) {
  const [tab, setTab] = useState<CodeTab>('yaml');
  const code = useMemo(() => (tab === 'yaml' ? toYaml(model) : tab === 'python' ? toPython(model) : toTypeScript(model)), [model, tab]);
  const copy = (): void => {
    navigator.clipboard
      .writeText(code)
      .then(() => say('Copied to the clipboard', 'good'))
      .catch(() => say('The browser refused the clipboard: select the text and copy it', 'error'));
  };
  return (
    <section className="c-code" aria-label="Generated code">
      <div className="c-tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} className={`c-tab${tab === id ? ' active' : ''}`} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
        <span className="c-sep" />
        <button type="button" className="btn btn-small" onClick={copy}>
          Copy
        </button>
      </div>
      <pre className="c-code-text" data-testid="c-code">
        {code}
      </pre>
    </section>
  );
}
