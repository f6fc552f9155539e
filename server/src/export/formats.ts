/**
 * The export formats (common/src/dataset.ts EXPORT_FORMATS) and how each one is laid out on
 * disk: JSON Lines (one row per line) or one JSON document whose array is streamed. The rows
 * themselves are built by one module per format family, each citing its source:
 * openaiChat.ts (openai, samples), shareGpt.ts, sweSmith.ts (xml, ticks, tool), atif.ts,
 * legacyJson.ts (examples-json, trajectories-json).
 */
import type { ExportFormat } from '../../../common/src/dataset';
import type { Trajectory } from '../../../common/src/trajectory';
import type { Drop } from '../dataset/select';
import { TRAJLAB_EXTRA_KEY } from '../import/atif';
import { toAtif } from './atif';
import type { RowContext } from './chat';
import { LEGACY_DOCUMENTS, toExample, toLegacyTrajectory } from './legacyJson';
import { toOpenAiRow, toSampleRows } from './openaiChat';
import { shareGptRefusal, toShareGptRow } from './shareGpt';
import { toSweSmithRow } from './sweSmith';

type Json = Record<string, unknown>;

export interface FormatSpec {
  /** `jsonl`: one row per line; `document`: `{"<key>": [rows…], …}`. */
  layout: 'jsonl' | 'document';
  /** The array key of a document format. */
  documentKey?: string;
  /** Whether a document format ends with a `metadata` object describing the export. */
  documentMetadata?: boolean;
  /** Default file extension ('' for ATIF: a folder of documents, see atifOutputLayout). */
  ext: '.jsonl' | '.json' | '';
  /** The rows of one trajectory (one, or one per LLM call for `samples`). Pure. */
  rows(t: Trajectory, ctx: RowContext): Json[];
  /** Why the format cannot hold trajectory `t` (it is dropped with that reason), or undefined. Pure. */
  refuse?(t: Trajectory, ctx: RowContext): Drop | undefined;
}

export const FORMATS: Record<ExportFormat, FormatSpec> = {
  openai: { layout: 'jsonl', ext: '.jsonl', rows: (t, c) => [toOpenAiRow(t, c)] },
  sharegpt: { layout: 'jsonl', ext: '.jsonl', rows: (t, c) => [toShareGptRow(t, c)], refuse: shareGptRefusal },
  'swesmith-xml': { layout: 'jsonl', ext: '.jsonl', rows: (t, c) => [toSweSmithRow(t, 'xml', c)] },
  'swesmith-ticks': { layout: 'jsonl', ext: '.jsonl', rows: (t, c) => [toSweSmithRow(t, 'ticks', c)] },
  'swesmith-tool': { layout: 'jsonl', ext: '.jsonl', rows: (t, c) => [toSweSmithRow(t, 'tool', c)] },
  atif: { layout: 'jsonl', ext: '', rows: (t, c) => [toAtif(t, { file: c.summary.file })] },
  samples: { layout: 'jsonl', ext: '.jsonl', rows: toSampleRows },
  'examples-json': { layout: 'document', documentKey: LEGACY_DOCUMENTS['examples-json'].key, documentMetadata: true, ext: '.json', rows: (t, c) => [toExample(t, c)] },
  'trajectories-json': { layout: 'document', documentKey: LEGACY_DOCUMENTS['trajectories-json'].key, documentMetadata: false, ext: '.json', rows: (t, c) => [toLegacyTrajectory(t, c)] },
};

/**
 * How an ATIF export is laid out on disk, from the output path the user named. Harbor reads one
 * trajectory per JSON file (`json.loads` of the whole file: a second document is "Extra data"),
 * so JSON Lines is written only when asked for by name:
 * - `*.jsonl` → `jsonl`: one ATIF document per line;
 * - `*.json` → `document`: a single ATIF document, for exactly one trajectory (more, or none,
 *   is an error: the export says so and writes nothing);
 * - anything else (`exports/atif`, `out/`) → `folder`: a folder with one `<task_id>.<attempt>.json`
 *   document per trajectory (`.<run_id>` added when two runs share a task and attempt; `.2`, `.3`…
 *   if still taken), the manifest beside the folder (`<folder>.manifest.json`), splits as
 *   `<folder>.<split>/`.
 */
export function atifOutputLayout(out: string): 'jsonl' | 'document' | 'folder' {
  const ext = out.endsWith('/') ? '' : out.slice(out.lastIndexOf('.')).toLowerCase();
  if (ext === '.jsonl') return 'jsonl';
  return ext === '.json' ? 'document' : 'folder';
}

/**
 * Records a row's token count where its format has room: `metadata.num_tokens` when the row has
 * metadata, ATIF's root `extra.trajlab.num_tokens`, else a top-level `num_tokens`.
 */
export function setRowTokens(format: ExportFormat, row: Json, tokens: number): void {
  if (format === 'atif') {
    const extra = (row.extra && typeof row.extra === 'object' ? row.extra : (row.extra = {})) as Json;
    const ours = (extra[TRAJLAB_EXTRA_KEY] && typeof extra[TRAJLAB_EXTRA_KEY] === 'object' ? extra[TRAJLAB_EXTRA_KEY] : (extra[TRAJLAB_EXTRA_KEY] = {})) as Json;
    ours.num_tokens = tokens;
  } else if (row.metadata && typeof row.metadata === 'object') {
    (row.metadata as Json).num_tokens = tokens;
  } else {
    row.num_tokens = tokens;
  }
}
