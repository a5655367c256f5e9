/** A job's durable steps as a timeline: one bar per step over the span from the first start to the last end, with how each ended. */
import type { StepView } from '../../types.ts';
import { formatBytes, formatDuration, formatTime } from '../../format.ts';
import { Icon, TONE_ICONS } from '../../icons.ts';

export default function StepTimeline({ steps }: { steps: readonly StepView[] }) {
  if (steps.length === 0) return null;
  const start = Math.min(...steps.map((s) => s.startedAt));
  const span = Math.max(1, Math.max(...steps.map((s) => s.finishedAt)) - start);
  const pct = (ms: number): string => `${((ms / span) * 100).toFixed(2)}%`;
  return (
    <section aria-labelledby="steps-title" className="panel-section">
      <h3 id="steps-title">Steps</h3>
      <ol className="step-timeline">
        {steps.map((s) => (
          <li key={s.name} className={`step-row step-${s.status.toLowerCase()}`}>
            <div className="step-label">
              <code className="wrap">{s.name}</code>
              <span className="small muted">
                {' '}
                <Icon icon={TONE_ICONS[s.status === 'COMPLETED' ? 'completed' : 'dead']} /> {formatDuration(s.durationMs)}, run in attempt {s.attempt}
                {s.cachedIn !== null && <>, cached in attempt {s.cachedIn}</>}
                {s.status === 'COMPLETED' && <>, result {formatBytes(s.resultBytes)}</>}
              </span>
              {s.error && <div className="small text-bad">{s.error}</div>}
            </div>
            <div className="step-track" aria-hidden="true" title={`${formatTime(s.startedAt)} – ${formatTime(s.finishedAt)}`}>
              <span className="step-bar" style={{ marginLeft: pct(s.startedAt - start), width: pct(Math.max(s.durationMs, span / 200)) }} />
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
