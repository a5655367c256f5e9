/**
 * A job's output: live from the log stream while the job is not finished, read in pages
 * otherwise; one attempt at a time, with follow, search and a download link. What the job wrote
 * to stderr is marked (log-streams.tsx).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { apiGet, apiPath, type JobView, type LogChunk, query } from '../../api.ts';
import { ErrorBox } from '../../components/ui.tsx';
import { formatBytes, splitMatches } from '../../format.ts';
import { ACTION_ICONS, Icon } from '../../icons.ts';
import { isTerminalStatus, jobStatusInfo } from '../../status.ts';
import { matchingLines, type Range, renderSegments, segmentsOf, shiftRanges } from './log-streams.tsx';

/** Characters of one attempt's output kept for display; older output is dropped (and counted). */
const KEEP_CHARS = 4 * 1024 * 1024;
/** Pages of 1 MiB read for a finished attempt before stopping (the download has it all). */
const MAX_PAGES = 4;

interface Buffer {
  text: string;
  /** The parts of `text` from stderr, [start, length] in characters. */
  stderr: Range[];
  /** Bytes (or characters) before `text` that are not shown. */
  dropped: number;
  /** True when the whole attempt has been read (it ended). */
  complete: boolean;
  /** True when this buffer is fed by the live stream. */
  live: boolean;
}

const emptyBuffer = (live: boolean): Buffer => ({ text: '', stderr: [], dropped: 0, complete: false, live });

/** `stderr`: the parts of `data` from stderr. */
function append(b: Buffer | undefined, data: string, live: boolean, stderr: readonly Range[] = []): Buffer {
  const base = b ?? emptyBuffer(live);
  let text = base.text + data;
  let ranges = [...base.stderr, ...shiftRanges(stderr, base.text.length)];
  let dropped = base.dropped;
  if (text.length > KEEP_CHARS) {
    const cut = text.length - KEEP_CHARS;
    const nl = text.indexOf('\n', cut);
    const at = nl >= 0 && nl - cut < 4096 ? nl + 1 : cut;
    dropped += at;
    text = text.slice(at);
    ranges = shiftRanges(ranges, -at);
  }
  return { ...base, text, stderr: ranges, dropped, live: base.live || live };
}

export interface LogViewerProps {
  runId: string;
  job: JobView;
  /** The attempt to show, or null for the latest. */
  attempt: number | null;
  onAttempt: (attempt: number | null) => void;
}

export default function LogViewer({ runId, job, attempt, onAttempt }: LogViewerProps) {
  const jobId = job.spec.id;
  const terminal = isTerminalStatus(job.status);
  const [buffers, setBuffers] = useState<Map<number, Buffer>>(() => new Map());
  const [streamState, setStreamState] = useState<'off' | 'connecting' | 'live' | 'ended'>('off');
  const [error, setError] = useState<unknown>(undefined);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState('');
  const [onlyMatching, setOnlyMatching] = useState(false);
  const [current, setCurrent] = useState(0);
  const preRef = useRef<HTMLPreElement>(null);
  const pending = useRef<{ attempt: number; data: string; stderr: boolean }[]>([]);
  const flushTimer = useRef<number | undefined>(undefined);

  const latest = Math.max(job.attempt, ...buffers.keys(), 0);
  const shown = attempt ?? latest;

  // A new job: start again.
  useEffect(() => {
    setBuffers(new Map());
    setError(undefined);
    setSearch('');
  }, [runId, jobId]);

  // Live output, while the job may still write some. Data is applied at most every 150 ms.
  const streamable = !terminal && job.attempt > 0;
  useEffect(() => {
    if (!streamable) return;
    let resetNext = false;
    let opened = false;
    let closed = false;
    const flush = (): void => {
      flushTimer.current = undefined;
      const chunks = pending.current;
      pending.current = [];
      if (chunks.length === 0) return;
      setBuffers((prev) => {
        const next = new Map(prev);
        for (const c of chunks) next.set(c.attempt, append(next.get(c.attempt), c.data, true, c.stderr ? [[0, c.data.length]] : []));
        return next;
      });
    };
    const queue = (a: number, data: string, stderr = false): void => {
      if (resetNext) {
        // After a reconnect the stream starts the attempt over: drop what we had of it.
        resetNext = false;
        flush();
        setBuffers((prev) => {
          const next = new Map(prev);
          next.set(a, emptyBuffer(true));
          return next;
        });
      }
      pending.current.push({ attempt: a, data, stderr });
      if (flushTimer.current === undefined) flushTimer.current = window.setTimeout(flush, 150);
    };
    setStreamState('connecting');
    const es = new EventSource(`${apiPath('runs', runId, 'jobs', jobId, 'logs', 'stream')}`, { withCredentials: true });
    es.onopen = () => {
      if (opened) resetNext = true;
      opened = true;
      setStreamState('live');
    };
    es.addEventListener('log', (ev) => {
      const m = JSON.parse((ev as MessageEvent<string>).data) as { attempt: number; data: string; stream?: 'stderr' };
      queue(m.attempt, m.data, m.stream === 'stderr');
    });
    es.addEventListener('truncated', (ev) => {
      const m = JSON.parse((ev as MessageEvent<string>).data) as { attempt: number; bytes: number };
      queue(m.attempt, '');
      flush();
      setBuffers((prev) => {
        const next = new Map(prev);
        const b = next.get(m.attempt) ?? emptyBuffer(true);
        next.set(m.attempt, { ...b, dropped: b.dropped + m.bytes });
        return next;
      });
    });
    es.addEventListener('end', () => {
      closed = true;
      es.close();
      flush();
      setBuffers((prev) => new Map([...prev].map(([k, b]) => [k, { ...b, complete: true }])));
      setStreamState('ended');
    });
    es.addEventListener('failed', (ev) => {
      closed = true;
      es.close();
      const m = JSON.parse((ev as MessageEvent<string>).data) as { code: string; message: string };
      setError(new Error(`${m.message} (${m.code})`));
      setStreamState('off');
    });
    es.onerror = () => {
      if (closed) return;
      setStreamState(es.readyState === EventSource.CLOSED ? 'off' : 'connecting');
    };
    return () => {
      closed = true;
      es.close();
      window.clearTimeout(flushTimer.current);
      flushTimer.current = undefined;
      pending.current = [];
      setStreamState('off');
    };
  }, [streamable, runId, jobId]);

  // An attempt the stream does not carry (an earlier one, or any of a finished job): read it.
  const have = buffers.get(shown);
  const needRead = shown > 0 && have === undefined;
  const [reading, setReading] = useState(false);
  const readAttempt = useCallback(
    async (n: number, replace = false): Promise<void> => {
      setReading(true);
      setError(undefined);
      try {
        let offset = 0;
        let buffer = emptyBuffer(false);
        for (let page = 0; page < MAX_PAGES; page++) {
          const chunk = await apiGet<LogChunk>(`${apiPath('runs', runId, 'jobs', jobId, 'logs')}${query({ attempt: n, offset })}`);
          buffer = append(buffer, chunk.data, false, chunk.stderr);
          offset = chunk.nextOffset;
          if (chunk.complete || chunk.data === '') {
            buffer.complete = chunk.complete;
            break;
          }
        }
        setBuffers((prev) => {
          const existing = prev.get(n);
          if (existing?.live && !replace) return prev;
          const next = new Map(prev);
          next.set(n, buffer);
          return next;
        });
      } catch (err) {
        setError(err);
      } finally {
        setReading(false);
      }
    },
    [runId, jobId],
  );
  const streamCovers = streamable && shown >= job.attempt;
  useEffect(() => {
    if (needRead && !streamCovers) void readAttempt(shown);
  }, [needRead, streamCovers, shown, readAttempt]);
  // The job finished before its stream said so: read the attempt again, whole.
  const incomplete = terminal && have !== undefined && !have.complete;
  useEffect(() => {
    if (!incomplete) return;
    const t = window.setTimeout(() => void readAttempt(shown, true), 300);
    return () => window.clearTimeout(t);
  }, [incomplete, shown, readAttempt]);

  const segments = useMemo(() => segmentsOf(have?.text ?? '', have?.stderr ?? []), [have?.text, have?.stderr]);
  const shownSegments = useMemo(() => (!onlyMatching || search === '' ? segments : matchingLines(segments, search)), [segments, onlyMatching, search]);
  const visible = useMemo(() => shownSegments.map((s) => s.text).join(''), [shownSegments]);
  const matches = useMemo(() => splitMatches(visible, search), [visible, search]);

  // Follow: keep the end in view as output arrives.
  useEffect(() => {
    if (!follow || search !== '') return;
    const pre = preRef.current;
    if (pre) pre.scrollTop = pre.scrollHeight;
  }, [visible, follow, search]);

  // Search: bring the current match into view.
  useEffect(() => {
    if (matches.count === 0) return;
    const pre = preRef.current;
    const marks = pre?.querySelectorAll('mark');
    const el = marks?.[Math.min(current, marks.length - 1)];
    // Scrolls the log box only (scrollIntoView would scroll the page too).
    if (pre && el) pre.scrollTop = Math.max(0, el.offsetTop - pre.clientHeight / 2);
  }, [current, matches.count, search]);
  useEffect(() => setCurrent(0), [search]);

  const onScroll = (): void => {
    const pre = preRef.current;
    if (!pre || !follow) return;
    if (pre.scrollTop + pre.clientHeight < pre.scrollHeight - 40) setFollow(false);
  };

  const attempts = Array.from({ length: latest }, (_, i) => latest - i);
  const downloadHref = `${apiPath('runs', runId, 'jobs', jobId, 'logs', 'download')}${query({ attempt: shown })}`;
  const step = (d: number): void => setCurrent((c) => (matches.count === 0 ? 0 : (c + d + matches.count) % matches.count));
  let markIndex = -1;

  if (job.attempt === 0 && latest === 0) {
    return (
      <section className="logs" aria-labelledby="logs-title">
        <h3 id="logs-title">Output</h3>
        <p className="muted">No attempt has started yet ({jobStatusInfo(job.status).label.toLowerCase()}).</p>
      </section>
    );
  }

  return (
    <section className="logs" aria-labelledby="logs-title">
      <div className="logs-head">
        <h3 id="logs-title">Output</h3>
        <span className={`live-tag live-${streamState}`} role="status">
          {streamState === 'live' && shown === latest ? 'live' : streamState === 'connecting' ? 'connecting…' : ''}
        </span>
      </div>
      <div className="logs-toolbar">
        <label className="field-inline">
          <span className="visually-hidden">Attempt</span>
          <select value={attempt === null ? '' : String(attempt)} onChange={(e) => onAttempt(e.target.value === '' ? null : Number(e.target.value))}>
            <option value="">Latest attempt ({latest})</option>
            {attempts.map((n) => (
              <option key={n} value={n}>
                Attempt {n}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <a className="btn btn-small" href={downloadHref} download>
          Download
        </a>
      </div>
      <div className="logs-search" role="search">
        <label htmlFor="log-search" className="visually-hidden">
          Search the output
        </label>
        <input
          id="log-search"
          type="search"
          placeholder="Search output"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              step(e.shiftKey ? -1 : 1);
            }
          }}
        />
        <span className="muted small" aria-live="polite">
          {search === '' ? '' : matches.count === 0 ? 'no match' : `${Math.min(current + 1, matches.count)} of ${matches.count}${matches.capped ? '+' : ''}`}
        </span>
        <button type="button" className="btn btn-small" onClick={() => step(-1)} disabled={matches.count === 0} aria-label="Previous match">
          <Icon icon={ACTION_ICONS.previous} />
        </button>
        <button type="button" className="btn btn-small" onClick={() => step(1)} disabled={matches.count === 0} aria-label="Next match">
          <Icon icon={ACTION_ICONS.next} />
        </button>
        <label className="check">
          <input type="checkbox" checked={onlyMatching} onChange={(e) => setOnlyMatching(e.target.checked)} /> Matching lines only
        </label>
      </div>
      <ErrorBox error={error} onRetry={() => void readAttempt(shown)} />
      {have && have.dropped > 0 && (
        <p className="muted small">
          The first {formatBytes(have.dropped)} are not shown: <a href={downloadHref}>download the whole output</a>.
        </p>
      )}
      <pre ref={preRef} className="log" tabIndex={0} onScroll={onScroll} aria-label={`Output of attempt ${shown}`} aria-busy={reading}>
        {visible === ''
          ? reading
            ? 'Loading…'
            : have?.complete
              ? '(no output)'
              : ''
          : renderSegments(shownSegments, matches.parts, (text, key) => {
              markIndex++;
              return (
                <mark key={key} className={markIndex === current ? 'current' : undefined}>
                  {text}
                </mark>
              );
            })}
      </pre>
    </section>
  );
}
