/**
 * `exportTrajectories`: runs, trajectory folders and files (native or imported) → a training
 * dataset in one of the export formats, with its manifest. The entry point of `trajlab export`
 * and of the extension's Export… command.
 *
 * Pipeline: list the source files (dataset/sources.ts) → read them one at a time
 * (dataset/reader.ts) → summarise and filter (dataset/summary.ts, dataset/select.ts) → build
 * the rows (formats.ts) → stream them into
 * the output file(s) (writer.ts) → write the manifest. Every read trajectory's curation flags
 * (dataset/flags.ts) are recorded in its manifest entry; tampered ones are dropped unless
 * `filters.keepTampered`. Without selection-wide filters or
 * splits this is one pass; with them (dedupe, best / max per task, `select`, `split`) a first pass keeps
 * only summaries (a few hundred bytes per trajectory), the decisions are made over them, and a
 * second pass reads the kept files again (a file whose sha256 changed in between is dropped as
 * `changed_during_export`). Trajectories are never held in memory together: memory is bounded by
 * the read-ahead (4 files) and two 1 MB output chunks, plus the per-file bookkeeping.
 *
 * Secrets (`ExportOptions.secrets`, dataset/secretScan.ts): each trajectory that passes the
 * per-trajectory filters is scanned and, by default, redacted in place before any format sees it,
 * so every format writes the same redacted text; counts per rule go to the manifest. With two
 * passes, `fail` stops in the first (before any row is written) and counts come from the second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  DatasetProgress,
  DropReason,
  ExportFormat,
  ExportManifest,
  ExportOptions,
  ExportResult,
  ManifestEntry,
  ManifestOutput,
} from '../../../common/src/dataset';
import { CHAT_TEMPLATE_FORMATS, EXPORT_FORMATS, EXPORT_MANIFEST_VERSION, SECRETS_MODES, TOKENIZERS, TOOL_ARGUMENT_FORMS } from '../../../common/src/dataset';
import { utcStamp } from '../../../common/src/format';
import type { Trajectory } from '../../../common/src/trajectory';
import { readSources, type ReadResult } from '../dataset/reader';
import { addToTally, describeFindings, emptyTally, scanTrajectory } from '../dataset/secretScan';
import { acrossSigner, assignSplits, compileFilter, needsWholeSelection, selectAcross, validateFilters, validateSplit, type Drop } from '../dataset/select';
import { listSources, manifestRun, type SourceFile } from '../dataset/sources';
import { candidateOf, summarize, type CandidateSummary, type TrajectorySummary } from '../dataset/summary';
import { throwIfAborted } from '../util/abort';
import { writeFileAtomic } from '../util/fsAtomic';
import { stderrLogger, type Logger } from '../util/log';
import { TRAJLAB_VERSION } from '../version';
import type { RowContext } from './chat';
import { ChatTemplateError, loadChatTemplate, renderChecked, rowConversation, type ChatTemplate } from './chatTemplate';
import { atifOutputLayout, FORMATS, setRowTokens } from './formats';
import { countRowTokens, loadTokenizer, type Encode } from './tokens';
import { OutputFile, OutputFolder, safeFileStem } from './writer';

/** An export that cannot start (bad options, an output that exists); the message says what to change. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** Path of split `name` of output `out`: `data.jsonl` → `data.train.jsonl`. */
export function splitPath(out: string, name: string): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}.${name}${ext}`;
}

/** Path of the manifest of output `out`: `data.jsonl` → `data.manifest.json`. */
export function manifestPath(out: string): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}.manifest.json`;
}

/** `out` without its extension (`x.json` → `x`): the folder to suggest instead of a file. */
function stemOf(out: string): string {
  const ext = path.extname(out);
  return out.slice(0, out.length - ext.length);
}

/** A default output path: `<root>/exports/<format>-<UTC stamp><ext>` (the extension's Export… default). */
export function defaultExportPath(root: string, format: ExportFormat, now = new Date()): string {
  return path.join(root, 'exports', `${format}-${utcStamp(now)}${FORMATS[format].ext}`);
}

/** Rows of one trajectory, with their token counts when counted. */
interface Rendered {
  rows: Record<string, unknown>[];
  tokens: number[] | undefined;
  overMax: number;
}

/**
 * Exports the trajectories behind `sources` (run folders, trajectory folders, files, export
 * manifests; see sources.ts) as `options.format` into `options.out` (one file per split), and
 * writes the manifest beside it (`<stem>.manifest.json`, see ExportManifest): filters, sources,
 * runs, outputs with sha256, counts, and every source file kept or dropped with its reason.
 *
 * A file that cannot be read as a trajectory is dropped as `corrupt` (the rest is exported).
 * `onProgress` is called at most every 100 files and at phase ends. Output files appear
 * only when complete (written under a temporary name, fsynced, renamed).
 * Throws ExportError for bad options or an existing output (without `overwrite`), SourceError
 * for a missing source path, AbortedError when `signal` fires (nothing is left behind), and the
 * fs error when writing fails. A file that a failed export cannot remove again is logged as a
 * warning on `log` (the error thrown stays the one that failed the export).
 */
export async function exportTrajectories(
  sources: string[],
  options: ExportOptions,
  onProgress?: (p: DatasetProgress) => void,
  signal?: AbortSignal,
  log: Logger = stderrLogger,
): Promise<ExportResult> {
  const format = options.format;
  if (!EXPORT_FORMATS.includes(format)) throw new ExportError(`unknown format ${JSON.stringify(format)}; use one of ${EXPORT_FORMATS.join(', ')}`);
  const spec = FORMATS[format];
  const filters = options.filters ?? {};
  const problems = validateFilters(filters);
  if (problems.length) throw new ExportError(problems.join('; '));
  if (options.split) {
    try {
      validateSplit(options.split);
    } catch (err) {
      throw new ExportError((err as Error).message);
    }
  }
  if (options.maxTokens !== undefined && (!Number.isInteger(options.maxTokens) || options.maxTokens < 1)) throw new ExportError(`maxTokens must be an integer ≥ 1 (got ${options.maxTokens})`);
  const tokenizer = options.tokenizer ?? 'o200k_base';
  if (!TOKENIZERS.includes(tokenizer)) throw new ExportError(`unknown tokenizer ${JSON.stringify(tokenizer)}; use ${TOKENIZERS.join(' or ')}`);
  if (!sources.length) throw new ExportError('no source given: name run folders, trajectory folders or files');
  const out = path.resolve(options.out);
  if (out.endsWith('.manifest.json')) throw new ExportError(`${options.out}: that is a manifest name; name the data file (e.g. data${spec.ext || '/'})`);
  // ATIF: a folder of documents, one document, or JSON Lines, by the name given (atifOutputLayout).
  const atifLayout = format === 'atif' ? atifOutputLayout(options.out) : undefined;
  if (atifLayout === 'document' && options.split) {
    throw new ExportError(`${options.out}: a .json file holds one ATIF document, and --split writes several; name a folder (e.g. ${stemOf(options.out)}) for one document per trajectory, or a .jsonl file for JSON Lines`);
  }
  const seed = options.seed ?? 0;
  const splitNames = options.split?.map((s) => s.name) ?? [null];
  const outFiles = new Map<string | null, string>(splitNames.map((n) => [n, n === null ? out : atifLayout === 'folder' ? `${out}.${n}` : splitPath(out, n)]));
  const manifestFile = atifLayout === 'folder' ? `${out}.manifest.json` : manifestPath(out);
  if (!options.overwrite) {
    for (const f of [...outFiles.values(), manifestFile]) {
      if (fs.existsSync(f)) throw new ExportError(`${f} exists; choose another --out or pass --overwrite to replace it`);
    }
  }
  const secretsMode = options.secrets ?? 'redact';
  if (!SECRETS_MODES.includes(secretsMode)) throw new ExportError(`unknown secrets mode ${JSON.stringify(secretsMode)}; use one of ${SECRETS_MODES.join(', ')}`);
  const toolArguments = options.toolArguments ?? 'string';
  if (!TOOL_ARGUMENT_FORMS.includes(toolArguments)) throw new ExportError(`unknown tool-arguments form ${JSON.stringify(toolArguments)}; use ${TOOL_ARGUMENT_FORMS.join(' or ')}`);
  if (options.strict && !options.chatTemplate) throw new ExportError('strict applies to the chat-template check; give a chat template too');
  let template: ChatTemplate | undefined;
  if (options.chatTemplate) {
    if (!CHAT_TEMPLATE_FORMATS.includes(format)) throw new ExportError(`a chat template renders messages; ${format} rows have none: use one of ${CHAT_TEMPLATE_FORMATS.join(', ')}`);
    try {
      template = await loadChatTemplate(options.chatTemplate);
    } catch (err) {
      if (err instanceof ChatTemplateError) throw new ExportError(err.message);
      throw err;
    }
  }
  const ctxBase = { includeReasoning: !!options.includeReasoning, metadata: options.metadata !== false, toolArguments };
  const counting = !!options.tokenCounts || options.maxTokens !== undefined;
  const encode: Encode | undefined = counting ? await loadTokenizer(tokenizer) : undefined;

  onProgress?.({ phase: 'list', done: 0, total: 0, kept: 0, dropped: 0 });
  const listing = await listSources(sources, signal);
  const files = listing.files;
  const entries: ManifestEntry[] = files.map((f) => ({ file: f.file, sha256: null, run_id: f.run?.runId ?? null, task_id: null, attempt: null, kept: false }));
  let kept = 0;
  let dropped = 0;
  const drop = (i: number, reason: DropReason, detail: string) => {
    Object.assign(entries[i]!, { kept: false, reason, detail });
    dropped++;
  };
  const identify = (i: number, r: ReadResult, s?: TrajectorySummary) => {
    const e = entries[i]!;
    e.sha256 = r.sha256;
    if (s) Object.assign(e, { run_id: s.run_id || e.run_id, task_id: s.task_id, attempt: s.attempt }, s.flags.length ? { flags: s.flags } : {});
  };
  const progress = (phase: DatasetProgress['phase'], done: number, total: number, force = false) => {
    if (onProgress && (force || done % 100 === 0)) onProgress({ phase, done, total, kept, dropped });
  };
  const filter = compileFilter(filters);
  // Near-duplicates and diversity selection need each candidate's MinHash signatures, made in the first pass.
  const sign = await acrossSigner(filters);
  const secrets = emptyTally(secretsMode);
  /**
   * Scans an admitted trajectory for secrets, redacting it in place unless the mode keeps them;
   * `count`: record them (in the manifest). Throws ExportError in `fail` mode, naming the file,
   * where and which rule, never the secret.
   */
  const guard = async (idx: number, r: ReadResult & { ok: true }, count: boolean) => {
    if (secretsMode === 'off') return;
    const scan = await scanTrajectory(r.trajectory, { redact: secretsMode === 'redact' });
    if (!scan.findings.length) return;
    if (secretsMode === 'fail') {
      throw new ExportError(`${r.source.file}: secrets found (${describeFindings(scan.findings)}); --secrets fail: nothing was written. Export with --secrets redact (the default) to replace them with <REDACTED:rule>, or leave this trajectory out`);
    }
    if (!count) return;
    addToTally(secrets, scan);
    entries[idx]!.secrets = scan.byType;
    if (scan.droppedTokenIds) listing.warnings.push(`${r.source.file}: it held secrets (redacted), so its steps' token ids, which encode the original text, are left out`);
  };

  /**
   * The rows of a trajectory; with a chat template, also their rendered texts, or the problem of
   * the first row that does not render (ExportError with --strict).
   */
  const render = (t: Trajectory, s: TrajectorySummary): Rendered | Drop => {
    const ctx: RowContext = { ...ctxBase, summary: s };
    const rows = spec.rows(t, ctx);
    let texts: string[] | undefined;
    if (template) {
      texts = [];
      for (let j = 0; j < rows.length; j++) {
        const conv = rowConversation(format, rows[j]!)!;
        const r = renderChecked(template, conv.messages, conv.tools);
        if ('problem' in r) {
          const detail = rows.length > 1 ? `row ${j + 1}: ${r.problem}` : r.problem;
          if (options.strict) throw new ExportError(`${s.file}: ${detail} (--strict: the export stops at the first row the chat template cannot render)`);
          return { reason: 'chat_template', detail };
        }
        texts.push(r.text);
      }
    }
    if (!encode) return { rows, tokens: undefined, overMax: 0 };
    // With a chat template the rendered text is what the model is trained on: count it.
    const tokens = texts ? texts.map(encode) : rows.map((row) => countRowTokens(format, row, encode));
    if (options.maxTokens === undefined) return { rows, tokens, overMax: 0 };
    const keep = tokens.map((n) => n <= options.maxTokens!);
    return { rows: rows.filter((_, j) => keep[j]), tokens: tokens.filter((_, j) => keep[j]), overMax: keep.filter((k) => !k).length };
  };
  const tooManyTokens = (rendered: Rendered): Drop | undefined => {
    if (options.maxTokens === undefined || rendered.overMax === 0) return undefined;
    if (format === 'samples' && rendered.rows.length > 0) return undefined;
    return { reason: 'too_many_tokens', detail: `over ${options.maxTokens} tokens (${tokenizer})` };
  };

  /**
   * Records a read source in the manifest; its summary when it passes the per-trajectory filters
   * and the format can hold it (FormatSpec.refuse), else undefined (dropped with the reason).
   */
  const admit = (idx: number, r: ReadResult): TrajectorySummary | undefined => {
    if (!r.ok) {
      identify(idx, r);
      drop(idx, r.reason, r.detail);
      return undefined;
    }
    const s = summarize(r.trajectory, r.source.file, r.sha256, idx, r.source.run);
    identify(idx, r, s);
    const d = filter(s) ?? spec.refuse?.(r.trajectory, { ...ctxBase, summary: s });
    if (d) {
      drop(idx, d.reason, d.detail);
      return undefined;
    }
    sign?.(s, r.trajectory);
    return s;
  };
  /**
   * The choices across trajectories (selectAcross) recorded in the manifest; returns the
   * candidates that stay, in order. What only the choices needed goes with them: the candidates
   * list is emptied and the chosen ones lose their signatures, so the second pass holds no more
   * than the chosen summaries (a --select of 500 out of 10,000 keeps 500).
   */
  const decideAcross = (candidates: CandidateSummary[]): CandidateSummary[] => {
    const across = selectAcross(candidates, filters);
    selection = across.selection;
    for (const [idx, d] of across.drops) {
      drop(idx, d.reason, d.detail);
      if (d.near_duplicate_of) entries[idx]!.near_duplicate_of = d.near_duplicate_of;
      if (d.not_selected) entries[idx]!.not_selected = d.not_selected;
    }
    for (const [idx, pick] of across.picks) entries[idx]!.selection = pick;
    const chosen = candidates.filter((s) => !across.drops.has(s.index));
    candidates.length = 0;
    for (const s of chosen) {
      delete s.near;
      delete s.diversity;
    }
    return chosen;
  };
  /** The rows of a trajectory, or undefined when the chat template or --max-tokens drops it (recorded). */
  const renderWithinTokens = (idx: number, t: Trajectory, s: TrajectorySummary): Rendered | undefined => {
    const rendered = render(t, s);
    if ('reason' in rendered) {
      drop(idx, rendered.reason, rendered.detail);
      return undefined;
    }
    const tm = tooManyTokens(rendered);
    if (!tm) return rendered;
    drop(idx, tm.reason, tm.detail);
    return undefined;
  };

  const outputs = new Map<string | null, { file: OutputFile | OutputFolder; tasks: Set<string>; trajectories: number }>();
  let selection: ExportManifest['selection'];
  const committed: string[] = [];
  try {
    for (const [name, file] of outFiles) {
      const o = atifLayout === 'folder' ? new OutputFolder(file) : new OutputFile(file, spec.layout === 'document' ? { kind: 'document', key: spec.documentKey! } : { kind: 'jsonl' });
      outputs.set(name, { file: o, tasks: new Set(), trajectories: 0 });
      await o.open();
    }
    const write = async (i: number, s: TrajectorySummary, rendered: Rendered, split: string | null) => {
      const o = outputs.get(split)!;
      if (atifLayout === 'document' && o.trajectories + rendered.rows.length > 1) {
        throw new ExportError(
          `${options.out}: a .json file holds one ATIF document (Harbor reads one trajectory per file), and more than one trajectory passed the filters; name a folder (e.g. ${stemOf(options.out)}) for one <task_id>.<attempt>.json per trajectory, or a .jsonl file for JSON Lines`,
        );
      }
      for (let j = 0; j < rendered.rows.length; j++) {
        const row = rendered.rows[j]!;
        if (rendered.tokens && options.tokenCounts) setRowTokens(format, row, rendered.tokens[j]!);
        if (o.file instanceof OutputFolder) {
          // Several documents under one name: the run tells them apart, then a counter (OutputFolder.uniqueName).
          const stem = safeFileStem(`${s.task_id}.${s.attempt}`);
          const name = o.file.uniqueName(o.file.documents.some((d) => d.name === `${stem}.json`) ? safeFileStem(`${s.task_id}.${s.attempt}.${s.run_id}`) : stem);
          await o.file.writeDocument(name, JSON.stringify(row, null, 2));
          entries[i]!.output = name;
        } else if (atifLayout === 'document') await o.file.writeRow(JSON.stringify(row, null, 2));
        else await o.file.writeRow(JSON.stringify(row));
      }
      o.tasks.add(s.task_id);
      o.trajectories++;
      const e = entries[i]!;
      e.kept = true;
      if (split !== null) e.split = split;
      e.rows = rendered.rows.length;
      if (rendered.overMax) e.rows_over_max_tokens = rendered.overMax;
      if (rendered.tokens) e.num_tokens = rendered.tokens.reduce((a, b) => a + b, 0);
      kept++;
    };

    // Token ids (the sidecars of --record-tokens runs) go only into ATIF rows: read them only then.
    const withTokens = { tokens: format === 'atif' };
    if (!needsWholeSelection(filters) && !options.split) {
      // One pass: read, filter, render, write.
      let i = 0;
      for await (const r of readSources(files, signal, withTokens)) {
        const idx = i++;
        if (r.ok && r.warning) listing.warnings.push(`${r.source.file}: ${r.warning}`);
        const s = admit(idx, r);
        if (s && r.ok) {
          await guard(idx, r, true);
          const rendered = renderWithinTokens(idx, r.trajectory, s);
          if (rendered) await write(idx, s, rendered, null);
        }
        progress('write', i, files.length);
      }
      progress('write', i, files.length, true);
    } else {
      // Pass 1: summaries (and token counts when --max-tokens needs them).
      // Kept until the choices across trajectories are made: candidateOf leaves out what only statistics read.
      const candidates: CandidateSummary[] = [];
      const tokenCache = new Map<number, number[]>();
      let i = 0;
      for await (const r of readSources(files, signal)) {
        const idx = i++;
        const s = admit(idx, r);
        if (s && r.ok) {
          // `fail` stops here, before any row is written; token counts below count the redacted text.
          if (secretsMode === 'fail' || options.maxTokens !== undefined || template) await guard(idx, r, false);
          if (options.maxTokens === undefined && !template) candidates.push(candidateOf(s));
          else {
            const rendered = renderWithinTokens(idx, r.trajectory, s);
            if (rendered) {
              candidates.push(candidateOf(s));
              if (rendered.tokens) tokenCache.set(idx, rendered.tokens);
            }
          }
        }
        progress('scan', i, files.length);
      }
      progress('scan', i, files.length, true);
      const chosen = decideAcross(candidates);
      const splitOf = options.split ? assignSplits(chosen.map((s) => s.task_id), options.split, seed) : undefined;

      // Pass 2: read the chosen files again and write them.
      const again: SourceFile[] = chosen.map((s) => files[s.index]!);
      let j = 0;
      for await (const r of readSources(again, signal, withTokens)) {
        const s = chosen[j++]!;
        if (r.ok && r.warning) listing.warnings.push(`${r.source.file}: ${r.warning}`);
        if (!r.ok || r.sha256 !== s.sha256) {
          drop(s.index, 'changed_during_export', r.ok ? 'the file changed between the two passes' : `${r.detail} (it was readable in the first pass)`);
        } else {
          const s2 = summarize(r.trajectory, r.source.file, r.sha256, s.index, r.source.run);
          await guard(s.index, r, true);
          const rendered = render(r.trajectory, s2);
          if ('reason' in rendered) {
            // Rendered in the first pass (the same bytes): only a template reading the clock (strftime_now) gets here.
            drop(s.index, rendered.reason, rendered.detail);
          } else {
            const cached = tokenCache.get(s.index);
            if (cached && rendered.tokens) rendered.tokens = cached;
            await write(s.index, s2, rendered, splitOf ? splitOf.get(s.task_id)! : null);
          }
        }
        progress('write', j, again.length);
      }
      progress('write', j, again.length, true);
    }
    throwIfAborted(signal);

    // Commit every output, then the manifest.
    const createdAt = new Date().toISOString();
    const manifestOutputs: ManifestOutput[] = [];
    let totalRows = 0;
    if (atifLayout === 'document' && kept === 0) {
      throw new ExportError(`${options.out}: no trajectory passed the filters, and a .json file must hold one ATIF document; nothing was written (see why each was dropped with a .jsonl or folder output's manifest)`);
    }
    for (const [name, o] of outputs) {
      totalRows += o.file.rows;
      const tail = spec.documentMetadata
        ? { metadata: { trajlab_version: TRAJLAB_VERSION, format, created_at: createdAt, split: name, examples: o.file.rows, manifest: path.basename(manifestFile) } }
        : {};
      const { bytes, sha256 } = o.file instanceof OutputFolder ? await o.file.commit() : await o.file.commit(tail);
      committed.push(o.file.file);
      manifestOutputs.push({
        split: name,
        file: o.file.file,
        rows: o.file.rows,
        trajectories: o.trajectories,
        tasks: o.tasks.size,
        bytes,
        sha256,
        ...(o.file instanceof OutputFolder ? { documents: o.file.documents } : {}),
      });
    }
    const byReason: Partial<Record<DropReason, number>> = {};
    let tokens: number | null = encode ? 0 : null;
    for (const e of entries) {
      if (!e.kept && e.reason) byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
      if (e.kept && tokens !== null) tokens += e.num_tokens ?? 0;
    }
    const manifest: ExportManifest = {
      schema_version: EXPORT_MANIFEST_VERSION,
      trajlab_version: TRAJLAB_VERSION,
      created_at: createdAt,
      format,
      command: options.command ?? null,
      filters,
      split: options.split ?? null,
      seed,
      tokenizer: encode ? tokenizer : null,
      max_tokens: options.maxTokens ?? null,
      ...(template ? { chat_template: { file: template.file, name: template.name, sha256: template.sha256 } } : {}),
      sources: listing.sources,
      runs: listing.runs.map(manifestRun),
      outputs: manifestOutputs,
      counts: { trajectories: files.length, kept, dropped, dropped_by_reason: byReason, rows: totalRows, tokens },
      secrets,
      ...(selection ? { selection } : {}),
      trajectories: entries,
    };
    await writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 1) + '\n');
    return { manifestFile, manifest, warnings: listing.warnings };
  } catch (err) {
    const leftBehind: string[] = [];
    for (const o of outputs.values()) {
      const left = await o.file.discard();
      if (left) leftBehind.push(left);
    }
    for (const f of committed) {
      await fs.promises.rm(f, { force: true, recursive: true }).catch((e: Error) => leftBehind.push(`${f}: ${e.message}`));
    }
    for (const left of leftBehind) log.warn(`export failed, and cleaning up its output did not go cleanly (a file named here may be left; remove it by hand): ${left}`);
    throw err;
  }
}
