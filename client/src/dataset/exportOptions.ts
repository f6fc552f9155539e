/**
 * The Export… wizard's answers checked and turned into ExportOptions fields. Pure (no
 * `vscode`), so unit-tested; the daemon validates again (export/select.ts).
 */
import type { ExportFormat, SplitSpec } from '../../../common/src/dataset';

/** `<format>-<UTC yyyymmdd-hhmmss>.<ext>` (the daemon's defaultExportPath naming). */
export function defaultFileName(format: ExportFormat, ext: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${format}-${stamp}.${ext}`;
}

/** A finite number from user text, else undefined. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** `train=0.9,val=0.1` → splits, or the problem as a sentence (what `trajlab export --split` accepts). */
export function parseSplit(spec: string): SplitSpec[] | string {
  const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return 'name=fraction,… e.g. train=0.9,val=0.1';
  const out: SplitSpec[] = [];
  for (const p of parts) {
    const m = /^([A-Za-z0-9_-]+)=([0-9]*\.?[0-9]+)$/.exec(p);
    if (!m) return `"${p}" is not name=fraction (e.g. train=0.9)`;
    const fraction = Number(m[2]);
    if (!(fraction > 0 && fraction <= 1)) return `the fraction of "${m[1]}" must be in (0, 1]`;
    if (out.some((s) => s.name === m[1])) return `"${m[1]}" is named twice`;
    out.push({ name: m[1]!, fraction });
  }
  const sum = out.reduce((a, s) => a + s.fraction, 0);
  if (Math.abs(sum - 1) > 1e-6) return `the fractions sum to ${+sum.toFixed(6)}, not 1`;
  return out;
}
