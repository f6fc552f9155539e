/**
 * Plain-text search across every step of an open trajectory (the inspector's `/`): actions
 * (commands, edit texts), replies, reasoning, tool-call arguments, stdout / stderr, errors and
 * the system / user turns before a step.
 *
 * Scale: case-insensitive search lowercases each step's texts once (lazily, the first time a
 * search reaches the step) into one string per step, then every search is `indexOf` over
 * those strings: a 100 MB trajectory is searched in about the time of one pass over its text.
 * The search yields to the event loop every few milliseconds so that a cancel can stop it.
 */
import type { SearchHit } from '../../../common/src/inspector';
import type { Step, Trajectory } from '../../../common/src/trajectory';
import { AbortedError } from '../util/abort';
import { actionCommand, eventText, type TrajectoryFacts } from './view';

type Field = SearchHit['field'];

/** Default and largest number of hits one search returns. */
export const DEFAULT_MAX_HITS = 10_000;

/** Separates the texts of a step in its lowercased string; a query holding it is searched text by text. */
const SEP = '\u0000';

/** The searchable texts of a step, in the order the detail pane shows them. Pure. */
export function stepTexts(s: Step, index: number, f: TrajectoryFacts): { field: Field; text: string }[] {
  const out: { field: Field; text: string }[] = [];
  const add = (field: Field, text: string | undefined | null) => {
    if (text) out.push({ field, text });
  };
  for (const e of f.eventsBefore.get(index) ?? []) add('event', eventText(e));
  add('reasoning', s.response.reasoning);
  add('reply', s.response.content);
  for (const c of s.response.tool_calls ?? []) add('tool_call', `${c.function.name} ${c.function.arguments}`);
  for (const a of s.actions) {
    add('action', actionCommand(a));
    if (a.kind === 'edit') for (const k of ['old_str', 'new_str', 'file_text'] as const) if (typeof a.args?.[k] === 'string') add('action', a.args[k] as string);
  }
  s.observations.forEach((o, i) => {
    if (i >= s.actions.length) return;
    add('stdout', o.stdout);
    add('stderr', o.stderr);
  });
  for (const o of s.other_observations ?? []) add('stdout', o.content);
  add('error', s.error);
  for (const a of s.actions) if (a.kind === 'format_error') add('error', a.message);
  return out;
}

interface LoweredStep {
  /** The step's texts, lowercased, joined by SEP. */
  text: string;
  /** End offset (exclusive) in `text` of each part. */
  ends: number[];
  fields: Field[];
}

/** The search of one open trajectory; keeps the lowercased texts it has built. */
export class TrajectorySearch {
  private readonly lowered: (LoweredStep | undefined)[];

  constructor(
    private readonly trajectory: Trajectory,
    private readonly facts: TrajectoryFacts,
  ) {
    this.lowered = new Array(trajectory.steps.length);
  }

  /**
   * Where `query` occurs, in step order: at most one hit per (step, field), at most `maxHits`
   * hits (`truncated` says more were left). Plain text, case-insensitive (String
   * toLowerCase) unless `caseSensitive`. An empty query has no hits. Throws AbortedError when
   * `signal` fires.
   */
  async search(query: string, opts: { caseSensitive?: boolean; maxHits?: number; signal?: AbortSignal } = {}): Promise<{ hits: SearchHit[]; truncated: boolean }> {
    const hits: SearchHit[] = [];
    if (!query) return { hits, truncated: false };
    const maxHits = Math.max(1, Math.min(opts.maxHits ?? DEFAULT_MAX_HITS, DEFAULT_MAX_HITS));
    const steps = this.trajectory.steps;
    const lowerQuery = query.toLowerCase();
    const perText = opts.caseSensitive || query.includes(SEP);
    const checkAborted = () => {
      if (opts.signal?.aborted) throw new AbortedError(String(opts.signal.reason ?? 'aborted'));
    };
    checkAborted();
    let sliceStart = performance.now();
    for (let i = 0; i < steps.length; i++) {
      if (performance.now() - sliceStart > 8) {
        await new Promise((resolve) => setImmediate(resolve));
        checkAborted();
        sliceStart = performance.now();
      }
      const fields = perText ? this.matchTexts(i, opts.caseSensitive ? query : lowerQuery, !opts.caseSensitive) : this.matchLowered(i, lowerQuery);
      for (const field of fields) {
        if (hits.length >= maxHits) return { hits, truncated: true };
        hits.push({ step: i, field });
      }
    }
    return { hits, truncated: false };
  }

  /** Fields of step `i` whose lowercased text holds `q` (already lowercased), each once, in order. */
  private matchLowered(i: number, q: string): Field[] {
    const l = (this.lowered[i] ??= this.lower(i));
    const found: Field[] = [];
    let from = 0;
    let part = 0;
    for (;;) {
      const at = l.text.indexOf(q, from);
      if (at < 0) break;
      while (l.ends[part]! <= at) part++;
      const field = l.fields[part]!;
      if (!found.includes(field)) found.push(field);
      from = l.ends[part]! + 1;
      part++;
      if (part >= l.ends.length) break;
    }
    return found;
  }

  /** Fields of step `i` holding `q`, text by text (case-sensitive, or a query holding SEP). */
  private matchTexts(i: number, q: string, lower: boolean): Field[] {
    const found: Field[] = [];
    for (const { field, text } of stepTexts(this.trajectory.steps[i]!, i, this.facts)) {
      if (found.includes(field)) continue;
      if ((lower ? text.toLowerCase() : text).includes(q)) found.push(field);
    }
    return found;
  }

  private lower(i: number): LoweredStep {
    const parts = stepTexts(this.trajectory.steps[i]!, i, this.facts);
    const texts: string[] = [];
    const ends: number[] = [];
    let end = 0;
    for (const p of parts) {
      const t = p.text.toLowerCase();
      texts.push(t);
      end += t.length;
      ends.push(end);
      end += SEP.length;
    }
    return { text: texts.join(SEP), ends, fields: parts.map((p) => p.field) };
  }
}
