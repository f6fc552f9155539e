/**
 * Clipping texts for transport to the inspector (common/src/inspector.ts `ClippedText`).
 */
import type { ClippedText } from '../../../common/src/inspector';

/**
 * `text` cut to at most `max` UTF-16 code units (`max <= 0`: the whole text), never between the
 * two halves of a surrogate pair; `length` is the whole text's length. Pure.
 */
export function clipText(text: string, max: number): ClippedText {
  if (max <= 0 || text.length <= max) return { text, length: text.length };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return { text: text.slice(0, end), length: text.length };
}

/**
 * Like clipText, but cut at the last line break within `max` (when there is one), so that a
 * clipped diff ends with a whole line. Pure.
 */
export function clipLines(text: string, max: number): ClippedText {
  const c = clipText(text, max);
  if (c.text.length === text.length) return c;
  const nl = c.text.lastIndexOf('\n');
  return nl > 0 ? { text: c.text.slice(0, nl + 1), length: text.length } : c;
}
