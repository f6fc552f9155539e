/**
 * Secrets in trajectories: finding API keys, tokens, private keys and credentials in every text
 * an export writes (observations above all: `env`, `cat ~/.netrc`, config files; also messages,
 * actions, tool-call arguments, diffs, submissions, the task), and redacting them with a typed
 * placeholder `<REDACTED:aws-access-key-id>`. Used by `trajlab export --secrets` and `trajlab stats`.
 *
 * Scanner: secretlint's recommended preset (@secretlint/secretlint-rule-preset-recommend, 24
 * provider rules: AWS, GCP, GitHub, GitLab, Slack, npm, OpenAI, Anthropic, Hugging Face, private
 * keys, basic-auth and database URLs…; https://github.com/secretlint/secretlint), run in process
 * through @secretlint/core's `lintSource`. Pinned to 12.0.x, the last release that supports
 * Node 20 (12.1 needs Node 22). Chosen over a gitleaks-style pattern package because it is
 * maintained, widely used (millions of downloads a month), and its rules check shapes beyond a
 * regex (a private key block must hold base64 with a key's magic bytes, a SendGrid key 69
 * characters…), which keeps false positives (and so damaged training text) low.
 *
 * Measured on this machine (bench/secretScan.ts): `lintSource` costs ~0.4–0.9 ms per call
 * whatever the text (it sets up every rule per call) and reads ~7–17 MB/s, i.e. far slower than
 * the export itself. So a text is handed to it only when it passes a gate (`SECRET_GATES`): per
 * rule, the literals every match of that rule must contain (gitleaks' `keywords`), all searched
 * in one pass (an Aho-Corasick automaton). A text without any of them cannot match any rule, so the gate skips
 * nothing the scanner would find; test/unit/secretScan.test.ts fails when the preset gains a rule
 * the gate does not know.
 *
 * Adjustments to the preset: AWS access key ids are scanned (`enableIDScanRule`; the preset
 * leaves them off); the `filter-comments` rule is off (a `secretlint-disable` comment in a
 * command's output must not hide a secret); AWS's own documented example keys stay allow-listed
 * by the rule. The AWS secret-key rule reports the range of `aws_secret_access_key=…` rather than
 * of the key, so a finding is redacted by its secret value (the rule's message data) when the
 * rule gives one, and every occurrence of a found value is redacted anywhere in the trajectory
 * (the model echoing a key, the same output in a message and in an observation).
 *
 * Memory: @secretlint/core's profiler keeps every mark of every call; its clock is replaced by a
 * no-op here, so memory stays flat over any number of texts.
 * Nothing here writes, logs or returns a secret's text except `TextFinding.secret` (in memory,
 * for the redaction): reports carry only rule names, counts and paths.
 */
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommendPreset, rules as recommendRules } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretLintCoreConfig } from '@secretlint/types';
import type { SecretsMode, SecretTally } from '../../../common/src/dataset';
import type { Trajectory } from '../../../common/src/trajectory';


/** The scanner named in manifests and stats: package and version. */
export const SECRET_SCANNER = '@secretlint/secretlint-rule-preset-recommend@12.0';

const AWS_RULE = '@secretlint/secretlint-rule-aws';
const FILTER_COMMENTS_RULE = '@secretlint/secretlint-rule-filter-comments';

/**
 * The literals that every match of a rule contains: `cs` compared case-sensitively, `ci` without
 * case; `confirm`: a hit is kept only if the whole text matches it. A rule missing here fails the
 * unit test; `null`: the rule is switched off here.
 */
export interface SecretGate {
  cs?: string[];
  ci?: string[];
  confirm?: RegExp;
}

/** Per rule of the preset, its gate (see SecretGate): their union is the gate in front of `lintSource`. */
export const SECRET_GATES: Record<string, SecretGate | null> = {
  // Access key ids; `(SECRET|secret|Secret)_?(ACCESS|access|Access)_?(KEY|key|Key)`; `(ACCOUNT|account|Account)_?(ID|id|Id)?`.
  '@secretlint/secretlint-rule-aws': { cs: ['A3T', 'AKIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ASIA'], ci: ['accesskey', 'access_key', 'account'] },
  '@secretlint/secretlint-rule-gcp': { cs: ['private_key'] },
  '@secretlint/secretlint-rule-npm': { cs: ['x-oauth-basic', '_authToken=', 'npm_'] },
  '@secretlint/secretlint-rule-slack': { cs: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'], ci: ['hooks.slack.com'] },
  '@secretlint/secretlint-rule-basicauth': { cs: ['://'], confirm: /:\/\/[^\s:@/]*:[^\s@/]*@/ },
  '@secretlint/secretlint-rule-openai': { cs: ['T3BlbkFJ'] },
  '@secretlint/secretlint-rule-anthropic': { cs: ['sk-ant-api0'] },
  '@secretlint/secretlint-rule-groq': { cs: ['gsk_'] },
  '@secretlint/secretlint-rule-huggingface': { cs: ['hf_'] },
  '@secretlint/secretlint-rule-linear': { cs: ['lin_api_'] },
  '@secretlint/secretlint-rule-notion': { cs: ['ntn_'] },
  '@secretlint/secretlint-rule-privatekey': { cs: ['PRIVATE KEY'] },
  '@secretlint/secretlint-rule-sendgrid': { cs: ['SG.'] },
  '@secretlint/secretlint-rule-shopify': { cs: ['shppa_', 'shpca_', 'shpat_', 'shpss_'] },
  '@secretlint/secretlint-rule-github': { cs: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'] },
  '@secretlint/secretlint-rule-gitlab': { cs: ['glpat-'] },
  '@secretlint/secretlint-rule-grafana': { cs: ['glc_', 'glsa_'] },
  '@secretlint/secretlint-rule-1password': { cs: ['ops_ey'] },
  '@secretlint/secretlint-rule-database-connection-string': { ci: ['mongodb', 'mysql', 'postgres'] },
  '@secretlint/secretlint-rule-hashicorp-vault': { cs: ['hvs.', 'hvb.', 'hvr.'] },
  '@secretlint/secretlint-rule-vercel': { cs: ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'] },
  '@secretlint/secretlint-rule-databricks': { cs: ['dapi'] },
  '@secretlint/secretlint-rule-docker': { cs: ['dckr_pat_'] },
  '@secretlint/secretlint-rule-figma': { cs: ['figd_'] },
  [FILTER_COMMENTS_RULE]: null,
};

/** The rule ids of the preset as installed (for the unit test that keeps SECRET_GATES complete). */
export const PRESET_RULE_IDS: string[] = recommendRules.map((r) => r.meta.id);

/**
 * All the gates' literals as one Aho-Corasick automaton over ASCII folded to lower case (one
 * table lookup per character: a regex alternation of ~60 literals reads ~30 MB/s in V8, this
 * several hundred). A hit on a case-sensitive literal is checked against the text as written.
 */
class KeywordGate {
  private readonly delta: Int32Array;
  /** Per state: the literals that end there (indexes into `words`), or undefined. */
  private readonly out: (number[] | undefined)[];
  /** Per state: 1 when some literal ends there. */
  private readonly final: Uint8Array;
  private readonly words: { text: string; cs: boolean; confirm?: RegExp }[] = [];

  constructor(gates: Iterable<SecretGate | null>) {
    for (const g of gates) {
      if (!g) continue;
      for (const w of g.cs ?? []) this.words.push({ text: w, cs: true, confirm: g.confirm });
      for (const w of g.ci ?? []) this.words.push({ text: w, cs: false, confirm: g.confirm });
    }
    // Trie over folded characters, then BFS for failure links and the full transition table.
    const next: Map<number, number>[] = [new Map()];
    const outs: number[][] = [[]];
    this.words.forEach((w, wi) => {
      let s = 0;
      for (const ch of w.text) {
        const c = fold(ch.charCodeAt(0));
        let t = next[s]!.get(c);
        if (t === undefined) {
          t = next.length;
          next.push(new Map());
          outs.push([]);
          next[s]!.set(c, t);
        }
        s = t;
      }
      outs[s]!.push(wi);
    });
    const n = next.length;
    this.delta = new Int32Array(n * 128);
    const failure = new Int32Array(n);
    const queue: number[] = [];
    for (let c = 0; c < 128; c++) {
      const t = next[0]!.get(c);
      this.delta[c] = t ?? 0;
      if (t !== undefined) queue.push(t);
    }
    while (queue.length) {
      const s = queue.shift()!;
      outs[s]!.push(...outs[failure[s]!]!);
      for (let c = 0; c < 128; c++) {
        const t = next[s]!.get(c);
        if (t === undefined) this.delta[s * 128 + c] = this.delta[failure[s]! * 128 + c]!;
        else {
          failure[t] = this.delta[failure[s]! * 128 + c]!;
          this.delta[s * 128 + c] = t;
          queue.push(t);
        }
      }
    }
    this.out = outs.map((o) => (o.length ? o : undefined));
    this.final = Uint8Array.from(outs, (o) => (o.length ? 1 : 0));
    // Fold case into the table itself: the column of 'A' is that of 'a', and so on.
    for (let st = 0; st < n; st++) for (let c = 65; c <= 90; c++) this.delta[st * 128 + c] = this.delta[st * 128 + c + 32]!;
  }

  /** Whether `text` holds one of the literals (as its gate wants it: case, confirm regex). */
  test(text: string): boolean {
    const delta = this.delta;
    const final = this.final;
    const n = text.length;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      s = delta[(s << 7) | (c < 128 ? c : 0)]!;
      if (final[s] !== 0 && this.hit(text, s, i)) return true;
    }
    return false;
  }

  /** Whether a literal ending at `i` (state `s`) counts: its case, its gate's confirm regex. */
  private hit(text: string, s: number, i: number): boolean {
    for (const wi of this.out[s]!) {
      const w = this.words[wi]!;
      if (w.cs && !text.startsWith(w.text, i + 1 - w.text.length)) continue;
      if (w.confirm && !w.confirm.test(text)) continue;
      return true;
    }
    return false;
  }
}

/** ASCII lower-casing table (characters ≥ 128 all map to 0). */
const FOLD = new Uint8Array(128).map((_, c) => (c >= 65 && c <= 90 ? c + 32 : c));
function fold(c: number): number {
  return c < 128 ? FOLD[c]! : 0;
}

const GATE = new KeywordGate(Object.values(SECRET_GATES));

/** Shortest text any rule reports on (a basic-auth URL `ftp://a:b@c.de`); shorter texts are not scanned. */
const MIN_TEXT = 12;

/** Whether `text` may hold a secret (passes the gate). Pure. */
export function mayHoldSecret(text: string): boolean {
  return text.length >= MIN_TEXT && GATE.test(text);
}

/** A secret found in one text. */
export interface TextFinding {
  /** Normalised type, the placeholder's name: `aws-access-key-id`, `github-token`, `private-key`. */
  type: string;
  /** The secretlint rule id (`@secretlint/secretlint-rule-aws`). */
  ruleId: string;
  /** UTF-16 offsets in the text: what to redact (the secret, or the rule's whole match). */
  start: number;
  end: number;
  /** The secret's text. In memory only: never write it anywhere. */
  secret: string;
}

/**
 * The placeholder's type from a secretlint message id (`AWSAccessKeyID` → `aws-access-key-id`,
 * `GITHUB_TOKEN` → `github-token`), or from the rule id (`@secretlint/secretlint-rule-npm` →
 * `npm`) when there is none. Always `[a-z0-9-]+`. Pure.
 */
export function secretType(ruleId: string, messageId: string | undefined): string {
  const base = messageId || ruleId.replace(/^.*secretlint-rule-/, '');
  const kebab = base
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return kebab || 'secret';
}

/** The placeholder that replaces a secret of `type`. */
export function placeholder(type: string): string {
  return `<REDACTED:${type}>`;
}

const CONFIG: SecretLintCoreConfig = {
  rules: [
    {
      id: recommendPreset.meta.id,
      rule: recommendPreset,
      rules: [
        { id: AWS_RULE, options: { enableIDScanRule: true } },
        { id: FILTER_COMMENTS_RULE, disabled: true },
      ],
    },
  ],
};

// @secretlint/core marks every call on its profiler, which keeps each mark (and measure) forever
// and searches them on every new one: memory and time grow with the number of texts. A scanner
// run for the lifetime of a daemon needs none of it: the profiler's clock becomes a no-op.
(secretLintProfiler as unknown as { perf: unknown }).perf = { mark: () => undefined, measure: () => undefined };

/**
 * The secrets in `text`, by secretlint's recommended rules (see the module comment), in text
 * order. Texts that fail the gate resolve to [] without running the rules. Rejects only if
 * secretlint itself throws (a bug in a rule).
 */
export async function scanText(text: string): Promise<TextFinding[]> {
  if (!mayHoldSecret(text)) return [];
  const { messages } = await lintSource({ source: { content: text, filePath: 'trajectory-text', contentType: 'text' }, options: { config: CONFIG, noPhysicFilePath: true } });
  const out: TextFinding[] = [];
  for (const m of messages) {
    let [start, end] = m.range;
    // The rule's data names the secret (KEY, ID, TOKEN, CREDENTIAL…): redact that when it lies at
    // or just after the range (the AWS secret-key rule's range starts at the variable's name).
    let best = '';
    for (const v of Object.values((m.data ?? {}) as Record<string, unknown>)) {
      if (typeof v !== 'string' || v.length < 8 || v.length <= best.length) continue;
      const at = text.indexOf(v, Math.max(0, start - v.length));
      if (at >= 0 && at <= end) {
        best = v;
        [start, end] = [at, at + v.length];
      }
    }
    out.push({ type: secretType(m.ruleId, m.messageId), ruleId: m.ruleId, start, end, secret: text.slice(start, end) });
  }
  return out;
}

/** Replaces `spans` of `text` (any order, may overlap) with their placeholders. Pure. */
export function redactSpans(text: string, spans: { start: number; end: number; type: string }[]): string {
  if (!spans.length) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue; // inside a span already redacted
    out += text.slice(at, Math.max(at, s.start)) + placeholder(s.type);
    at = s.end;
  }
  return out + text.slice(at);
}

/** `text` with every secret scanText finds replaced by its placeholder (`<REDACTED:github-token>`). Rejects only if the scanner throws. */
export async function redactText(text: string): Promise<string> {
  return redactSpans(text, await scanText(text));
}

/** Where a secret was found in a trajectory: never the secret itself. */
export interface SecretFinding {
  /** Placeholder type (`github-token`). */
  type: string;
  ruleId: string;
  /** JSON path of the text in the trajectory: `steps[3].observations[0].stdout`, `messages[7].content`. */
  path: string;
  /** The step (0-based) whose text it is; null for texts outside `steps` (messages, the result, the task). */
  step: number | null;
}

/** What `scanTrajectory` found. */
export interface TrajectoryScan {
  /** One per text and type: those in steps first (by step), then the others (messages, result, task). */
  findings: SecretFinding[];
  /** Distinct secrets per type (a key in an observation and in its tool message counts once). */
  byType: Record<string, number>;
  /** Texts changed (redact only). */
  redactedTexts: number;
  /** Redact only: whether token ids were dropped from the steps (they encode the secret's text). */
  droppedTokenIds: boolean;
}

/** A string of a trajectory: the object or array holding it, its key there, its step, the keys leading to it. */
interface Slot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  step: number | null;
  /** Keys from the trajectory down to the holder (the JSON path is made from them only when a secret is found). */
  trail: readonly (string | number)[];
}

/**
 * Calls `visit` for every string in `value` (objects and arrays, depth first), skipping in-memory
 * token ids. `trail` is shared and changes as the walk goes on: `visit` copies it if it keeps it.
 */
function eachText(value: unknown, trail: (string | number)[], step: number | null, visit: (slot: Slot, text: string) => void): void {
  if (Array.isArray(value)) {
    const inSteps = trail.length === 1 && trail[0] === 'steps';
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const st = inSteps ? i : step;
      if (typeof v === 'string') visit({ holder: value, key: i, step: st, trail }, v);
      else if (v && typeof v === 'object') {
        trail.push(i);
        eachText(v, trail, st, visit);
        trail.pop();
      }
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    if (k === 'token_data' || !Object.prototype.hasOwnProperty.call(obj, k)) continue;
    const v = obj[k];
    if (typeof v === 'string') visit({ holder: obj, key: k, step, trail }, v);
    else if (v && typeof v === 'object') {
      trail.push(k);
      eachText(v, trail, step, visit);
      trail.pop();
    }
  }
}

/** The JSON path of a slot: `steps[3].observations[0].stdout`, `messages[7].content`. */
function slotPath(slot: Slot): string {
  let p = '';
  for (const k of [...slot.trail, slot.key]) p += typeof k === 'number' ? `[${k}]` : p ? `.${k}` : k;
  return p;
}

/**
 * Scans every text of trajectory `t` (all string fields: messages, reasoning, tool-call
 * arguments, actions, observations, the result's diff and submission, the task, events, fields
 * kept from imports). With `redact`, replaces each secret in place with `<REDACTED:type>`, and
 * every other occurrence of the same secret anywhere in `t`; a trajectory with a secret then also
 * loses its steps' in-memory token ids (`token_data`, which encode the text). `t` is otherwise
 * untouched. Rejects only if the scanner throws.
 */
export async function scanTrajectory(t: Trajectory, opts: { redact: boolean }): Promise<TrajectoryScan> {
  // The gate first, over every text (cheap, no paths made); the scanner only on the texts it lets through.
  const gated: { slot: Slot; text: string }[] = [];
  eachText(t, [], null, (slot, text) => {
    if (mayHoldSecret(text)) gated.push({ slot: { ...slot, trail: [...slot.trail] }, text });
  });
  const found: { slot: Slot; path: string; spans: TextFinding[] }[] = [];
  for (const { slot, text } of gated) {
    const spans = await scanText(text);
    if (spans.length) found.push({ slot, path: slotPath(slot), spans });
  }
  const result: TrajectoryScan = { findings: [], byType: {}, redactedTexts: 0, droppedTokenIds: false };
  if (!found.length) return result;
  const secrets = new Map<string, string>(); // secret → type
  for (const { path, slot, spans } of found) {
    const types = new Set<string>();
    for (const s of spans) {
      if (!secrets.has(s.secret)) secrets.set(s.secret, s.type);
      if (!types.has(s.type)) result.findings.push({ type: s.type, ruleId: s.ruleId, path, step: slot.step });
      types.add(s.type);
    }
  }
  // Steps first, by step (where a reader looks), then the texts outside steps; stable within each.
  result.findings.sort((a, b) => (a.step ?? Infinity) - (b.step ?? Infinity));
  for (const type of secrets.values()) result.byType[type] = (result.byType[type] ?? 0) + 1;
  if (!opts.redact) return result;
  const own = new Map(found.map((f) => [f.slot.holder, new Map<string | number, TextFinding[]>()]));
  for (const f of found) own.get(f.slot.holder)!.set(f.slot.key, f.spans);
  // Longest first, so a secret that contains another is matched whole.
  const known = [...secrets].sort((a, b) => b[0].length - a[0].length);
  eachText(t, [], null, (slot, text) => {
    const spans: { start: number; end: number; type: string }[] = [...(own.get(slot.holder)?.get(slot.key) ?? [])];
    for (const [secret, type] of known) {
      if (secret.length < 8) continue;
      for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + secret.length)) spans.push({ start: at, end: at + secret.length, type });
    }
    if (!spans.length) return;
    (slot.holder as Record<string | number, string>)[slot.key] = redactSpans(text, spans);
    result.redactedTexts++;
  });
  for (const step of t.steps ?? []) {
    if (step.token_data) {
      delete step.token_data;
      result.droppedTokenIds = true;
    }
  }
  return result;
}

/** An empty tally for `mode`. */
export function emptyTally(mode: SecretsMode): SecretTally {
  return { mode, scanner: SECRET_SCANNER, found: 0, by_rule: {}, trajectories: 0 };
}

/** Adds one trajectory's scan to `tally` (in place). */
export function addToTally(tally: SecretTally, scan: TrajectoryScan): void {
  const types = Object.entries(scan.byType);
  if (!types.length) return;
  tally.trajectories++;
  for (const [type, n] of types) {
    tally.by_rule[type] = (tally.by_rule[type] ?? 0) + n;
    tally.found += n;
  }
}

/** `steps[3].observations[0].stdout: github-token; messages[7].content: private-key` (at most `max`): where, never what. */
export function describeFindings(findings: SecretFinding[], max = 10): string {
  const parts = findings.slice(0, max).map((f) => `${f.path}: ${f.type}`);
  if (findings.length > max) parts.push(`… and ${findings.length - max} more`);
  return parts.join('; ');
}
