/**
 * From trajectories to training data: the shapes of selection filters, exports and their
 * manifests, dataset statistics and run comparisons. Written to disk (the export manifest) and
 * meant for the protocol and the Dataset / Compare webviews (types only).
 * The work is done in server/src/export/ (selection, formats, `exportTrajectories`) and
 * server/src/stats/ (`computeStats`, `compareRuns`).
 */

/**
 * Export formats (`trajlab export --format`). Each one's source is named in its writer:
 * - `openai`: OpenAI chat fine-tuning JSONL (`{messages, tools, metadata}`), export/openaiChat.ts;
 * - `sharegpt`: ShareGPT as LLaMA-Factory reads it (`{conversations, system, tools}`), export/shareGpt.ts;
 * - `swesmith-xml` / `swesmith-ticks` / `swesmith-tool`: SWE-smith's `transform_to_ft` styles, export/sweSmith.ts;
 * - `atif`: Harbor ATIF v1.5 (v1.6 content parts for images), one trajectory per line, export/atif.ts;
 * - `samples`: one row per LLM call with its full prompt and response (SPAgent style), export/openaiChat.ts;
 * - `examples-json` / `trajectories-json`: legacy data-generation documents, export/legacyJson.ts.
 */
export const EXPORT_FORMATS = ['openai', 'sharegpt', 'swesmith-xml', 'swesmith-ticks', 'swesmith-tool', 'atif', 'samples', 'examples-json', 'trajectories-json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Tokenizers available for token counts (js-tiktoken encodings). */
export const TOKENIZERS = ['o200k_base', 'cl100k_base'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

/**
 * How OpenAI-shaped rows write tool-call arguments: `string`, the JSON string OpenAI's
 * fine-tuning API requires (default), or `object`, the dict transformers' `apply_chat_template`
 * documents (GLM and Qwen3.5 templates need it; others double-encode a string).
 */
export const TOOL_ARGUMENT_FORMS = ['string', 'object'] as const;
export type ToolArgumentsForm = (typeof TOOL_ARGUMENT_FORMS)[number];

/** The formats whose rows hold messages a chat template can render (`ExportOptions.chatTemplate`; `samples`: prompt + response). */
export const CHAT_TEMPLATE_FORMATS: readonly ExportFormat[] = ['openai', 'samples', 'swesmith-xml', 'swesmith-ticks', 'swesmith-tool', 'examples-json', 'trajectories-json'];

/**
 * Filters that compose (every one given must hold). Per trajectory: `runs` … `maxTotalTokens`,
 * `maxRepeats`, `noFlags`, `keepTampered`; over the whole selection, in this order: `dedupe`,
 * then `bestPerTask` / `maxPerTask`, then `select`.
 * Unfinished trajectories (no result yet) are dropped unless `includeUnfinished`.
 */
export interface SelectionFilters {
  /** Keep only these run ids (a trajectory's `run_id`). */
  runs?: string[];
  /** Keep only these task types (`code`, `swe`, `reasoning`, `web`; a task without one is `unknown`). */
  taskTypes?: string[];
  /** Keep trajectories whose result says `success: true`. */
  successOnly?: boolean;
  /**
   * Keep trajectories that resolved their task: the run's report.json lists the task in
   * `ids_resolved` and this attempt succeeded. Without a report.json (imported trajectories,
   * loose files), the trajectory's own `result.success`.
   */
  resolvedOnly?: boolean;
  /** Inclusive reward bounds. A trajectory whose reward is unknown fails either bound. */
  minReward?: number;
  maxReward?: number;
  /** Keep only these exit statuses (`submitted`, `step_limit`, …). */
  exitStatuses?: string[];
  /** Inclusive bounds on the number of steps (model calls). */
  minSteps?: number;
  maxSteps?: number;
  /** Inclusive bounds on prompt + completion tokens as the model provider reported them (usage). */
  minTotalTokens?: number;
  maxTotalTokens?: number;
  /** Glob over task ids (picomatch, `dot: true`; `*` does not cross `/`). */
  taskGlob?: string;
  /**
   * De-duplication within each task, the best trajectory of a group staying (`compareAttempts`:
   * reward, then fewest steps, then source order). `true` or `'exact'`: the same action sequence;
   * `'near'`: the same action sequence too (`duplicate`), then an estimated Jaccard similarity ≥
   * `nearThreshold` of both the normalised action sequence and the final diff (MinHash + LSH,
   * server/src/dataset/nearDuplicates.ts; `near_duplicate`).
   */
  dedupe?: boolean | DedupeMode;
  /** With `dedupe: 'near'`: the Jaccard threshold, in (0, 1]. Default NEAR_DUPLICATE_THRESHOLD (0.8). */
  nearThreshold?: number;
  /**
   * Drop trajectories whose loop count (the most times one action repeats with no state change in
   * between; TrajectoryFlagFacts.max_repeats) exceeds this.
   */
  maxRepeats?: number;
  /** Drop trajectories that have any of these flags (TRAJECTORY_FLAGS). */
  noFlags?: TrajectoryFlag[];
  /**
   * Keep trajectories flagged `tampered`. Exports drop them unless this is set; statistics and
   * comparisons count them (computeStats and compareRuns set it unless told otherwise).
   */
  keepTampered?: boolean;
  /** Keep one trajectory per task: highest reward, then fewest steps, then the first in source order. */
  bestPerTask?: boolean;
  /** Keep at most K trajectories per task, ranked as `bestPerTask`. */
  maxPerTask?: number;
  /** Keep trajectories whose attempt has not finished (`status: "running"`, no result). */
  includeUnfinished?: boolean;
  /**
   * Last, after every other filter (dedupe and `maxPerTask` included): keep a subset of K chosen
   * to cover the task and behaviour space (`--select K --by diversity`); the others are dropped as
   * `not_selected`. See SelectionSpec.
   */
  select?: SelectionSpec;
}

/** How `SelectionFilters.select` chooses: `diversity`, k-center greedy over MinHash distances (server/src/dataset/diversity.ts). */
export const SELECT_BY = ['diversity'] as const;
export type SelectBy = (typeof SELECT_BY)[number];

/**
 * The groups a quota is counted over: `type`, the task type (`task_type`, or `unknown`); `repo`,
 * the task's repository (`metadata.repo` as SWE-bench / SWE-smith imports keep it, else
 * `workspace.repo`, else `(none)`); `difficulty`, the bucket of the task's FAIL_TO_PASS count
 * (DIFFICULTY_BUCKETS; `none` without a FAIL_TO_PASS list). Besides these, `metadata.NAME`: the
 * task's own `metadata.NAME` (a string, number or boolean; `(none)` otherwise), for the finer
 * categories a dataset keeps there (the task schema has four task types).
 */
export const QUOTA_KEYS = ['type', 'repo', 'difficulty'] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number] | `metadata.${string}`;
/** `metadata.NAME` quota keys: NAME is one or more characters, none of them `=`, `,` or white space. */
export const METADATA_QUOTA = /^metadata\.[^\s=,]+$/;

/**
 * The buckets of `difficulty` by FAIL_TO_PASS count (SWE-bench / SWE-smith tests that the fix
 * must turn from failing to passing): `1`, `2-3`, `4-9`, `10+`, and `none` for a task without
 * the list (or an empty one).
 */
export const DIFFICULTY_BUCKETS = ['none', '1', '2-3', '4-9', '10+'] as const;

/** `--quota type=2`: pick at least `min` trajectories from every group of `key` (all of a group that has fewer). */
export interface SelectionQuota {
  key: QuotaKey;
  min: number;
}

/**
 * `--select K --by diversity [--seed N] [--quota KEY=MIN …]`: keep K of the candidates (all of
 * them when there are K or fewer), chosen by k-center greedy (farthest-point) over
 * distance = 1 − estimated Jaccard similarity of MinHash signatures of each trajectory's task
 * text and normalised actions. Quotas are filled first, each pick the farthest candidate of an
 * under-quota group. The per-task cap (SWE-smith's "at most k per instance") is `maxPerTask`,
 * applied before. The same candidates and seed always give the same selection, whatever the
 * order the sources were read in.
 */
export interface SelectionSpec {
  /** How many to keep: an integer ≥ 1. */
  k: number;
  by: SelectBy;
  /** Decides the first pick and ties between equally far candidates (default 0; an integer ≥ 0). */
  seed?: number;
  /** At most one per key. */
  quotas?: SelectionQuota[];
}

/**
 * `type=2` or `type=2,repo=1` as quotas (`trajlab export --quota`, repeatable). Returns the
 * quotas, or the problem as a sentence (`unknown quota "lang"; the quotas are type, repo, difficulty`).
 */
export function parseQuota(spec: string): SelectionQuota[] | string {
  const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return 'expected KEY=MIN,… (e.g. type=2)';
  const out: SelectionQuota[] = [];
  for (const p of parts) {
    const m = /^([^\s=,]+)=(\d+)$/.exec(p);
    if (!m) return `"${p}" is not KEY=MIN (e.g. type=2; the keys are ${QUOTA_KEYS.join(', ')}, metadata.NAME)`;
    const problem = quotaProblem({ key: m[1] as QuotaKey, min: Number(m[2]) });
    if (problem) return problem;
    out.push({ key: m[1] as QuotaKey, min: Number(m[2]) });
  }
  return out;
}

/** What is wrong with one quota (an unknown key, a minimum that is not an integer ≥ 1), or undefined. */
export function quotaProblem(q: SelectionQuota): string | undefined {
  if (typeof q.key !== 'string' || (!(QUOTA_KEYS as readonly string[]).includes(q.key) && !METADATA_QUOTA.test(q.key))) return `unknown quota ${JSON.stringify(q.key)}; the quotas are ${QUOTA_KEYS.join(', ')} and metadata.NAME (a field of the task's metadata)`;
  if (!Number.isSafeInteger(q.min) || q.min < 1) return `the minimum of quota ${q.key} must be an integer ≥ 1 (got ${JSON.stringify(q.min)})`;
  return undefined;
}

/** `SelectionFilters.dedupe` by name: `exact` (same action sequence) or `near` (that, and a MinHash estimate ≥ the threshold). */
export type DedupeMode = 'exact' | 'near';

/** The default Jaccard threshold of `dedupe: 'near'` (BigCode's near-deduplication used 0.7 over 5-grams; we keep more). */
export const NEAR_DUPLICATE_THRESHOLD = 0.8;

/**
 * What curation flags a trajectory with (server/src/dataset/flags.ts computes them, with the
 * thresholds of FLAG_THRESHOLDS there):
 * - `loop`: one action (the same command, or the same edit) repeated with no state change in between;
 * - `repeated-observation`: the same non-empty observation several times in a row;
 * - `format-errors`: replies the agent could not parse;
 * - `idle-tail`: steps after the last state change (an edit, or a command that writes files);
 * - `empty-submission`: submitted with an empty or whitespace submission (and no diff, where the task is not answered in text);
 * - `truncated-output`: an observation cut at the output cap;
 * - `tampered`: edited the evaluation's tests, or read the hidden tests or the gold solution
 *   (server/src/dataset/tampering.ts); exports drop these unless `keepTampered`.
 */
export const TRAJECTORY_FLAGS = ['loop', 'repeated-observation', 'format-errors', 'idle-tail', 'empty-submission', 'truncated-output', 'tampered'] as const;
export type TrajectoryFlag = (typeof TRAJECTORY_FLAGS)[number];

/** The measurements behind a trajectory's flags (server/src/dataset/flags.ts). */
export interface TrajectoryFlagFacts {
  /** The most times one action occurs with no state change in between (0 without actions). */
  max_repeats: number;
  /** That action, shortened to 200 characters (null without actions). */
  repeated_action: string | null;
  /** The longest run of identical non-empty observations in a row. */
  max_same_observation: number;
  format_errors: number;
  /** Steps after the last step that changed state (0 when no step did: nothing to measure from). */
  idle_tail_steps: number;
  empty_submission: boolean;
  /** Observations cut at the output cap. */
  truncated_outputs: number;
  /** Why the trajectory is `tampered`, one line each (empty when it is not). */
  tampered: string[];
  /**
   * Per raised flag, the step (0-based position, as the inspector numbers steps) where it shows:
   * `loop` / `repeated-observation` / `format-errors` where the count reached its threshold,
   * `idle-tail` the first idle step, `empty-submission` the submit step, `truncated-output` the
   * first cut output, `tampered` the first action naming a hidden path or editing a graded test
   * file. Absent when no step shows it (a diff-only `tampered`, a trajectory without steps).
   */
  steps: Partial<Record<TrajectoryFlag, number>>;
}

/** One split of `--split train=0.9,val=0.1`: a name and its fraction of the tasks. */
export interface SplitSpec {
  name: string;
  fraction: number;
}

/**
 * `train=0.9,val=0.1` as splits, as `trajlab export --split` and the Export… wizard accept it:
 * names of letters, digits, `_` and `-`, fractions in (0, 1], then `splitProblem`'s rules.
 * Returns the splits, or the problem as a sentence (`"train:0.9" is not name=fraction (e.g.
 * train=0.9)`).
 */
export function parseSplit(spec: string): SplitSpec[] | string {
  const parts = spec.split(',').map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return 'expected name=fraction,… (e.g. train=0.9,val=0.1)';
  const out: SplitSpec[] = [];
  for (const p of parts) {
    const m = /^([A-Za-z0-9_-]+)=([0-9]*\.?[0-9]+)$/.exec(p);
    if (!m) return `"${p}" is not name=fraction (e.g. train=0.9)`;
    const fraction = Number(m[2]);
    if (!(fraction > 0 && fraction <= 1)) return `the fraction of "${m[1]}" must be in (0, 1] (got ${m[2]})`;
    out.push({ name: m[1]!, fraction });
  }
  return splitProblem(out) ?? out;
}

/** What is wrong with splits (a name given twice, fractions not summing to 1 ± 1e-6), or undefined. */
export function splitProblem(split: SplitSpec[]): string | undefined {
  const seen = new Set<string>();
  for (const s of split) {
    if (seen.has(s.name)) return `"${s.name}" is named twice`;
    seen.add(s.name);
  }
  const sum = split.reduce((a, s) => a + s.fraction, 0);
  return Math.abs(sum - 1) > 1e-6 ? `the fractions sum to ${+sum.toFixed(6)}, not 1` : undefined;
}

/**
 * What an export does with the secrets it finds in the texts it writes (server/src/dataset/secretScan.ts):
 * `redact` (the default) replaces each with `<REDACTED:type>`; `fail` stops before any output is
 * committed, naming the trajectory, where and which rule (never the secret); `keep` writes the
 * text unchanged but still counts; `off` does not scan.
 */
export const SECRETS_MODES = ['redact', 'fail', 'keep', 'off'] as const;
export type SecretsMode = (typeof SECRETS_MODES)[number];

/** Secrets found in a selection (an export's manifest, `trajlab stats`): counts, never the secrets. */
export interface SecretTally {
  mode: SecretsMode;
  /** The scanner and its rule set (`@secretlint/secretlint-rule-preset-recommend@12.0`). */
  scanner: string;
  /** Distinct secrets, summed over trajectories (a key in an observation and in its tool message counts once). */
  found: number;
  /** `found` per rule, named as the placeholders (`aws-access-key-id`, `github-token`, `private-key`). */
  by_rule: Record<string, number>;
  /** Trajectories with at least one secret. */
  trajectories: number;
}

/** What `exportTrajectories` is asked to do. */
export interface ExportOptions {
  format: ExportFormat;
  /**
   * Output file. With splits, each split goes to `<stem>.<split><ext>` beside it
   * (`data.jsonl` → `data.train.jsonl`, `data.val.jsonl`). The manifest is `<stem>.manifest.json`.
   * ATIF (server/src/export/formats.ts `atifOutputLayout`): `*.jsonl` is JSON Lines, `*.json` one
   * document (exactly one trajectory), any other path a folder of `<task_id>.<attempt>.json`
   * documents with `<folder>.manifest.json` beside it.
   */
  out: string;
  filters?: SelectionFilters;
  /** Splits by task (a task never lands in two splits); fractions sum to 1. */
  split?: SplitSpec[];
  /** Seed of the split assignment (default 0). */
  seed?: number;
  /**
   * Add a token count to every row (`metadata.num_tokens`, or `num_tokens` where a format has no
   * metadata): of the row's messages (export/tokens.ts), or with `chatTemplate` of its rendered text.
   */
  tokenCounts?: boolean;
  /** Drop rows whose token count exceeds this (counted with `tokenizer`). */
  maxTokens?: number;
  /** Default `o200k_base`. */
  tokenizer?: TokenizerName;
  /** Include the model's reasoning text (`reasoning_content`, or `<think>…</think>` in text-only formats). Default false. */
  includeReasoning?: boolean;
  /** Write `metadata` in each row where the format allows it (default true). */
  metadata?: boolean;
  /** Tool-call arguments in OpenAI-shaped rows (openai, samples): see TOOL_ARGUMENT_FORMS. Default `string`. */
  toolArguments?: ToolArgumentsForm;
  /**
   * Render every row through this chat template and drop (`chat_template`) the rows that raise or
   * lose a message's text or tool call: a `.jinja` file, or a `tokenizer_config.json` (its
   * `chat_template`), optionally `#NAME` for one of its named templates (export/chatTemplate.ts).
   * Absolute (or relative to the daemon's working folder). Formats whose rows hold messages only.
   */
  chatTemplate?: string;
  /** With `chatTemplate`: fail the export on the first row that does not render, instead of dropping it. */
  strict?: boolean;
  /** Replace an existing output (default false: an existing file is an error). */
  overwrite?: boolean;
  /** The command line that asked for the export, recorded in the manifest. */
  command?: string[];
  /** What to do with secrets found in the exported texts (default `redact`; see SECRETS_MODES). */
  secrets?: SecretsMode;
}

/**
 * Why a trajectory is not in an export. `corrupt`: a file named as a source, or in a run's
 * trajectories/ folder, that cannot be read as a trajectory (unreadable, invalid JSON, unknown
 * format); `not_a_trajectory`: a JSON file met while walking a folder that is no trajectory
 * format (a Harbor trial's result.json, a config file); `media_placeholder_in_text`: a `sharegpt`
 * row with images whose text itself contains `<image>` (or `<video>`, `<audio>`), which
 * LLaMA-Factory would count as a placeholder and reject (server/src/export/shareGpt.ts);
 * `chat_template`: a row that the chat template (`ExportOptions.chatTemplate`) raised on, or
 * whose rendering lacks one of its messages' text or tool calls (the detail says which).
 * `tampered`: flagged `tampered` and not kept (`keepTampered`); `too_many_repeats`: a loop count
 * over `maxRepeats`; `flagged`: a flag listed in `noFlags`; `near_duplicate`: a near-copy of a
 * better trajectory of its task (ManifestEntry.near_duplicate_of names it); `not_selected`: left
 * out by `select` (ManifestEntry.not_selected names the nearest selected trajectory).
 */
export type DropReason =
  | 'corrupt'
  | 'not_a_trajectory'
  | 'unfinished'
  | 'run'
  | 'task_glob'
  | 'task_type'
  | 'exit_status'
  | 'not_successful'
  | 'not_resolved'
  | 'reward_unknown'
  | 'reward_below_min'
  | 'reward_above_max'
  | 'steps_out_of_range'
  | 'tokens_out_of_range'
  | 'no_assistant_message'
  | 'tampered'
  | 'too_many_repeats'
  | 'flagged'
  | 'duplicate'
  | 'near_duplicate'
  | 'not_best_attempt'
  | 'over_max_per_task'
  | 'not_selected'
  | 'too_many_tokens'
  | 'media_placeholder_in_text'
  | 'chat_template'
  | 'changed_during_export';

/** One source trajectory file in a manifest: kept (with its split and rows) or dropped (with the reason). */
export interface ManifestEntry {
  /** Absolute path of the source file. */
  file: string;
  /** sha256 (hex) of the file's bytes as read; null when it could not be read. */
  sha256: string | null;
  run_id: string | null;
  task_id: string | null;
  attempt: number | null;
  kept: boolean;
  reason?: DropReason;
  /** Human-readable detail of the reason (the parse error of a corrupt file, the duplicate's file…). */
  detail?: string;
  split?: string;
  /** Rows written for this trajectory (1, or one per LLM call for `samples`). */
  rows?: number;
  /** Rows of this trajectory dropped by `maxTokens` (`samples` only). */
  rows_over_max_tokens?: number;
  /** Tokens of the rows written (when counted). */
  num_tokens?: number;
  /** ATIF folder output: the file name of this trajectory's document in the output folder. */
  output?: string;
  /** The trajectory's curation flags (TRAJECTORY_FLAGS), when it was read and has any. */
  flags?: TrajectoryFlag[];
  /** `near_duplicate`: the trajectory kept in its place and the estimated Jaccard similarities (0..1) of the action sequences and of the diffs. */
  near_duplicate_of?: NearDuplicateOf;
  /** Secrets found in the exported trajectory, per rule (redacted unless the export said `keep`). */
  secrets?: Record<string, number>;
  /** Chosen by `select`: why (SelectionPick). Set on every selected trajectory, even one a later step dropped. */
  selection?: SelectionPick;
  /** `not_selected`: the selected trajectory nearest to it. */
  not_selected?: NotSelected;
}

/**
 * Why `select` chose a trajectory. Every pick is the center of a cluster: the candidates nearest
 * to it once all K are picked. Distances are 1 − the estimated Jaccard similarity, in [0, 1].
 */
export interface SelectionPick {
  /** 1 for the first pick, K for the last. */
  order: number;
  /** Its cluster: its own `order`, the id `NotSelected.cluster` refers to. */
  cluster: number;
  /**
   * Distance to the nearest earlier pick when it was picked (the k-center radius at that point),
   * null for the first pick.
   */
  distance: number | null;
  /** That earlier pick's file, null for the first pick. */
  nearest: string | null;
  /** Candidates in its cluster, itself included. */
  cluster_size: number;
  /** The under-quota groups it was picked to fill (`type=swe`, `repo=django/django`); absent when picked for distance alone. */
  quota?: string[];
}

/** The selected trajectory nearest to one left out by `select`. */
export interface NotSelected {
  file: string;
  /** Its `order` (SelectionPick.cluster). */
  cluster: number;
  /** 1 − estimated Jaccard similarity, in [0, 1]. */
  distance: number;
}

/** What `select` did over a whole selection (ExportManifest.selection, DatasetStats.selection). */
export interface SelectionSummary {
  by: SelectBy;
  k: number;
  seed: number;
  quotas: SelectionQuota[];
  /** Trajectories that reached the selection step (past every other filter). */
  candidates: number;
  selected: number;
  /** The k-center objective: the largest distance from a candidate to its nearest pick (0 when all are picked). */
  radius: number;
  /** Per quota key (every one of QUOTA_KEYS, and the `metadata.NAME` keys of the quotas), per group: candidates and picks. */
  coverage: Record<string, Record<string, { candidates: number; selected: number }>>;
}

/** The kept trajectory a near-duplicate was dropped for. */
export interface NearDuplicateOf {
  file: string;
  run_id: string;
  task_id: string;
  attempt: number;
  /** MinHash estimate of the Jaccard similarity of the normalised action sequences, 0..1. */
  jaccard: number;
  /** The same for the final diffs (1 when both are empty). */
  diff_jaccard: number;
  /**
   * The trajectory this one was found near, when that is not the kept one: the group is linked
   * through it, and `jaccard` / `diff_jaccard` (to the kept one) may be under the threshold.
   */
  via?: string;
}

/** A path given as a source, and what it turned out to be. */
export interface ManifestSource {
  path: string;
  kind: 'run' | 'directory' | 'file' | 'manifest';
  /** Trajectory files found under it. */
  files: number;
}

/** A run that contributed files, with the facts a reader of the dataset wants. */
export interface ManifestRun {
  run_id: string;
  dir: string;
  model: string | null;
  trajlab_version: string | null;
  created_at: string | null;
  /** Whether the run has a report.json (used by `resolvedOnly`). */
  report: boolean;
}

/**
 * One output (one per split): a file, or for an ATIF folder output a folder of documents
 * (`documents`; `sha256` is then that of the folder's `sha256sum` listing, see OutputFolder).
 */
export interface ManifestOutput {
  split: string | null;
  file: string;
  rows: number;
  trajectories: number;
  tasks: number;
  bytes: number;
  sha256: string;
  /** ATIF folder output: each document's file name, sha256 and size (bytes). */
  documents?: { name: string; sha256: string; bytes: number }[];
}

export const EXPORT_MANIFEST_VERSION = 'trajlab.export-manifest/1';

/** `<stem>.manifest.json`, written next to the data: everything needed to reproduce it. */
export interface ExportManifest {
  schema_version: typeof EXPORT_MANIFEST_VERSION;
  trajlab_version: string;
  created_at: string;
  format: ExportFormat;
  command: string[] | null;
  filters: SelectionFilters;
  split: SplitSpec[] | null;
  seed: number;
  tokenizer: TokenizerName | null;
  max_tokens: number | null;
  /** The chat template every row was rendered through (`--chat-template`), when one was given. */
  chat_template?: { file: string; name: string | null; sha256: string };
  sources: ManifestSource[];
  runs: ManifestRun[];
  outputs: ManifestOutput[];
  counts: {
    /** Source trajectory files seen. */
    trajectories: number;
    kept: number;
    dropped: number;
    dropped_by_reason: Partial<Record<DropReason, number>>;
    rows: number;
    /** Sum of `num_tokens` over rows written, when counted. */
    tokens: number | null;
  };
  /** Secrets found in the trajectories written, and what was done with them (absent in older manifests). */
  secrets?: SecretTally;
  /** What `filters.select` chose, and the coverage of each group (absent without it). */
  selection?: SelectionSummary;
  /** Every source file, in source order. */
  trajectories: ManifestEntry[];
}

/** Progress of a long job (export, stats): `done` of `total` files in the current phase. */
export interface DatasetProgress {
  phase: 'list' | 'scan' | 'write';
  done: number;
  total: number;
  kept: number;
  dropped: number;
}

/** What `exportTrajectories` returns (the manifest is also on disk at `manifestFile`). */
export interface ExportResult {
  manifestFile: string;
  manifest: ExportManifest;
  /** Problems that did not stop the export (an unreadable report.json…), one line each. */
  warnings: string[];
}

/** Summary of a set of numbers. Values the source did not record are counted in `unknown`, not in the figures. */
export interface Distribution {
  count: number;
  unknown: number;
  sum: number;
  mean: number | null;
  min: number | null;
  p50: number | null;
  p90: number | null;
  max: number | null;
  /** `counts[i]` values fall in `[edges[i], edges[i+1])` (the last bin includes its upper edge). */
  histogram: { edges: number[]; counts: number[] };
}

/** Figures over a group of trajectories (the whole selection, one task type, one run). */
export interface GroupStats {
  trajectories: number;
  tasks: number;
  /** Trajectories whose result says success, over trajectories with a known outcome; null when none. */
  success_rate: number | null;
  /** Tasks with a resolved trajectory, over tasks. */
  resolved_rate: number | null;
  reward_mean: number | null;
}

/** One row of the trajectory table (Dataset webview), when asked for (`rows: true`). */
export interface TrajectoryRow {
  file: string;
  run_id: string;
  task_id: string;
  attempt: number;
  /** The task's `task_type`, or `unknown`. */
  task_type: string;
  exit_status: string | null;
  /** null when the source recorded no reward (imports) or the attempt has no result. */
  reward: number | null;
  success: boolean | null;
  /** From the run's report.json when there is one (see SelectionFilters.resolvedOnly); null when unknown. */
  resolved: boolean | null;
  steps: number;
  /** prompt + completion tokens (provider usage); null when the source recorded none. */
  tokens: number | null;
  /** USD; null when unknown. */
  cost_usd: number | null;
  /** ms; null when unknown. */
  duration_ms: number | null;
  ended_at: string | null;
}

/** `trajlab stats` / the Dataset webview: the figures of a selection of trajectories. */
export interface DatasetStats {
  trajlab_version: string;
  sources: ManifestSource[];
  /** Files that could not be read as trajectories (`{file, detail}`). */
  corrupt: { file: string; detail: string }[];
  /** Trajectory files left out: corrupt, not a trajectory, or dropped by the filters. */
  dropped: number;
  dropped_by_reason: Partial<Record<DropReason, number>>;
  runs: string[];
  overall: GroupStats & { unfinished: number; format_errors: number };
  /** Trajectories with each curation flag (TRAJECTORY_FLAGS; every flag present, 0 when none). */
  flags: Record<TrajectoryFlag, number>;
  /** Up to 5 files per flag, for a look at an example. */
  flag_examples: Partial<Record<TrajectoryFlag, string[]>>;
  /**
   * pass@k (unbiased estimator, Chen et al. 2021) for k = 1..max attempts, averaged over the
   * (run, task) pairs with at least k finished attempts (`tasks`: how many).
   */
  pass_at_k: Record<string, { value: number; tasks: number }>;
  /** Rewards of trajectories with a known reward (`unknown`: imported without one, or unfinished). */
  reward: Distribution;
  steps: Distribution;
  /** prompt + completion tokens per trajectory (provider usage). */
  tokens: Distribution;
  cost_usd: Distribution;
  duration_ms: Distribution;
  exit_statuses: Record<string, number>;
  /** Programs whose commands failed most (exit code ≠ 0), with an example command. */
  top_failing_commands: { program: string; failures: number; trajectories: number; example: string }[];
  by_task_type: Record<string, GroupStats & { steps_p50: number | null }>;
  by_run: Record<string, GroupStats & { model: string | null }>;
  /** Cumulative cost by end time (at most ~200 points), for a "cost over the run" chart. */
  cost_over_time: { t: string; cost_usd: number }[];
  /** With `filters.select`: what it chose (the figures above are then of the selected trajectories). */
  selection?: SelectionSummary;
  /** Present when asked for. */
  rows?: TrajectoryRow[];
  /**
   * Secrets in the selection's texts (what an export would redact), unless the scan was switched
   * off: the counts, and the trajectories that hold any (at most 100 listed) with the rules and
   * where (`steps[3].observations[0].stdout`).
   */
  secrets?: SecretTally & { files: { file: string; run_id: string; task_id: string; attempt: number; by_rule: Record<string, number>; where: string[] }[] };
}

/** One side of a task in a comparison: its attempts' means. */
export interface CompareSide {
  attempts: number;
  reward_mean: number | null;
  resolved: boolean;
  steps_mean: number;
  cost_usd_mean: number | null;
}

/** A paired difference B − A over the tasks both sides have. */
export interface PairedDifference {
  n: number;
  mean: number | null;
  sd: number | null;
  se: number | null;
  /** 95% confidence interval of the mean: Student's t with n − 1 degrees of freedom, mean ± t(0.975, n − 1)·se (null below 2 pairs). */
  ci95: [number, number] | null;
}

/** `trajlab compare A B` / the Compare runs view. */
export interface RunComparison {
  a: { label: string; stats: GroupStats };
  b: { label: string; stats: GroupStats };
  tasks: {
    task_id: string;
    a: CompareSide | null;
    b: CompareSide | null;
    /** `fixed`: unresolved in A, resolved in B; `broken`: the reverse. */
    change: 'fixed' | 'broken' | 'same_resolved' | 'same_unresolved' | 'only_a' | 'only_b';
  }[];
  fixed: string[];
  broken: string[];
  tasks_in_both: number;
  reward: PairedDifference;
  /** Resolved as 0/1 per task: the mean is (fixed − broken) / n. */
  resolved: PairedDifference & { mcnemar_p: number | null };
  steps: PairedDifference;
  cost_usd: PairedDifference;
}
