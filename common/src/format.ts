/**
 * How numbers read wherever TrajLab shows them (status bar, tree views, notifications, the
 * Inspector and Dataset panels, `trajlab show`, `trajlab stats`, the CLI's progress): one look
 * for counts, tokens, money and durations, and one way to put text on one line.
 *
 * Pure (no Node or DOM API), so the extension, the daemon / CLI and the webview bundles all
 * import it. Every number formatter takes `null`, `undefined` or a non-finite number for
 * "not known" and prints UNKNOWN for it, never 0.
 */

/** Shown for a figure that is not known (the source did not record it). */
export const UNKNOWN = '–';

const MINUS = '−';

function known(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** `v` with at most `digits` decimals, trailing zeros dropped: `1.25`, `0.5`, `3`. */
function trimmed(v: number, digits: number): string {
  return String(Number(v.toFixed(digits)));
}

/** A count with thousands separators, rounded to an integer: `950`, `12,345`. */
export function formatCount(n: number | null | undefined): string {
  return known(n) ? Math.round(n).toLocaleString('en-US') : UNKNOWN;
}

/** A rate in [0, 1] as a percentage with one decimal: `0.4286` → `42.9%`. */
export function formatPercent(rate: number | null | undefined): string {
  return known(rate) ? `${(rate * 100).toFixed(1)}%` : UNKNOWN;
}

/**
 * A token count, compact: `950`, `1.2k`, `12.3k`, `123k`, `1.2M`, `45M` (one decimal below a
 * hundred of the unit, trailing `.0` dropped). The caller adds a unit word where the context
 * does not say "tokens" (`1.2k tok`).
 */
export function formatTokens(n: number | null | undefined): string {
  if (!known(n)) return UNKNOWN;
  const sign = n < 0 ? MINUS : '';
  const a = Math.abs(n);
  if (Math.round(a) < 1000) return `${sign}${Math.round(a)}`;
  for (const [unit, size] of [['k', 1e3], ['M', 1e6], ['B', 1e9]] as const) {
    const v = a / size;
    const text = trimmed(v, v < 100 ? 1 : 0);
    if (Number(text) < 1000 || unit === 'B') return `${sign}${text}${unit}`;
  }
  return UNKNOWN; // not reached
}

/**
 * An amount in USD: `$0`, `$0.50`, `$12.35`, `$1,234.50` (two decimals from a cent up); under a
 * cent two significant digits, so small costs still read: `$0.0042`, `$0.000012`. Negative
 * amounts start with a minus sign: `−$0.50`.
 */
export function formatCost(usd: number | null | undefined): string {
  if (!known(usd)) return UNKNOWN;
  if (usd === 0) return '$0';
  const sign = usd < 0 ? MINUS : '';
  const a = Math.abs(usd);
  if (a >= 0.01) return `${sign}$${a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const digits = Math.min(20, 1 - Math.floor(Math.log10(a)));
  return `${sign}$${a.toFixed(digits)}`;
}

/**
 * A duration in ms: `850 ms`, `4.2 s`, `12.3 s`, `2 min 03 s`, `1 h 02 min` (milliseconds
 * below a second, seconds with one decimal below a minute, then whole seconds or minutes).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (!known(ms)) return UNKNOWN;
  const a = Math.max(0, ms);
  if (Math.round(a) < 1000) return `${Math.round(a)} ms`;
  if (Number((a / 1000).toFixed(1)) < 60) return `${(a / 1000).toFixed(1)} s`;
  const s = Math.round(a / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * `text` on one line: trimmed, each line break (with the blanks around it) replaced by `joiner`,
 * by default ` ⏎ ` so that the reader still sees where lines broke; then clipped to `max`.
 */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY, joiner = ' ⏎ '): string {
  return clip(text.trim().replace(/[ \t]*\r?\n\s*/g, joiner), max);
}

/**
 * `text` cut to at most `max` characters (code points, so a surrogate pair is never split), the
 * last one an ellipsis when it was cut.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * `text` cut to at most `max` characters at a white-space boundary, `…` appended when cut: a word
 * cut at the limit is dropped whole, so a token that straddles it (an API key in a command) never
 * shows half of itself where a secret scanner no longer recognises it. Pure.
 */
export function clipAtSpace(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max + 1).replace(/\S*$/, '').trimEnd()}…`;
}

/**
 * A UTC time as a file-name stamp `yyyymmdd-hhmmss` (`20261121-101500`): what run ids, export
 * file names and `validate --gold` run ids start with. Sorts by time.
 */
export function utcStamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `s` escaped for an HTML attribute value in double quotes (and for element text): `&`, `"`, `<`, `>`. Pure. */
export function escapeHtmlAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
