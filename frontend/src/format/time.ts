// Market times are shown in UTC (bars and replayed history are UTC); wall-clock moments relative.

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : null;
}

/** `2020-06-30 22:00 UTC`; dates only for daily bars (`2009-01-02`). */
export function formatMarketTime(iso: string | number | null | undefined, dateOnly = false): string {
  const ms = typeof iso === 'number' ? iso : parseTime(iso);
  if (ms == null) return '—';
  const text = new Date(ms).toISOString();
  return dateOnly ? text.slice(0, 10) : `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
}

/** `12 s ago`, `5 min ago`, `3 h ago`, else the date. */
export function formatAgo(iso: string | null | undefined, nowMs = Date.now()): string {
  const ms = parseTime(iso);
  if (ms == null) return 'never';
  const s = Math.round((nowMs - ms) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return formatMarketTime(ms);
}

/** Local wall-clock time with seconds, for "when did this happen here". */
export function formatClock(iso: string | null | undefined): string {
  const ms = parseTime(iso);
  if (ms == null) return '—';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
