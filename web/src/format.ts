/** Small formatting helpers (pure, unit-tested). */

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`, `3 d 4 h`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.floor(s)} s`;
  const totalS = Math.floor(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${String(totalS % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** `just now`, `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; `in 5 s` for the future. */
export function formatRelative(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return '—';
  const diff = now - at;
  const future = diff < 0;
  const s = Math.floor(Math.abs(diff) / 1000);
  if (s < 2) return 'just now';
  let text: string;
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86400) text = `${Math.floor(s / 3600)} h`;
  else text = `${Math.floor(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local `HH:MM` (or `HH:MM:SS`) for chart axes. */
export function formatClock(at: number, seconds = false): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Terminal colour and cursor escapes, which a log view shows as text otherwise. */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Splits `text` at the case-insensitive occurrences of `needle`, for highlighting; at most `limit` matches. */
export function splitMatches(text: string, needle: string, limit = 2000): { parts: { text: string; match: boolean }[]; count: number; capped: boolean } {
  if (needle === '') return { parts: [{ text, match: false }], count: 0, capped: false };
  const hay = text.toLowerCase();
  const n = needle.toLowerCase();
  const parts: { text: string; match: boolean }[] = [];
  let from = 0;
  let count = 0;
  for (;;) {
    const at = hay.indexOf(n, from);
    if (at < 0 || count >= limit) break;
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + n.length), match: true });
    count++;
    from = at + n.length;
  }
  if (from < text.length) parts.push({ text: text.slice(from), match: false });
  return { parts, count, capped: count >= limit && hay.indexOf(n, from) >= 0 };
}
