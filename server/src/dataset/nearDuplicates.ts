/**
 * Near-duplicate trajectories: MinHash signatures of each trajectory's normalised action
 * sequence and of its final diff, LSH banding to find candidate pairs, and a greedy pass that
 * keeps the best trajectory of each group (`trajlab export --dedupe near[:THRESHOLD]`).
 *
 * - Tokens. Actions: each bash command split into shell words with paths (`<path.py>`, the
 *   extension kept), numbers (`<n>`), hex ids and UUIDs (`<hex>`, `<id>`) normalised
 *   (normalizeCommand); an edit is `edit <command> <path>` (its text is in the diff); a submit
 *   is `submit`; a browser action is `browser <action>` and its arguments (browserTokens); actions
 *   are separated by a `⏎` token. Diff: the changed files' names and the
 *   words, numbers and punctuation of the `+` / `-` lines (hunk headers and `index` lines,
 *   which only say where, are left out); at most MAX_DIFF_CHARS of it.
 * - Shingles: K = 5 consecutive tokens (BigCode's near-deduplication used 5-grams). A command
 *   is 5–15 tokens, so a shingle spans a command and the start of the next: the order of
 *   commands counts, and one changed or extra command changes only ~5 + its length shingles of
 *   a 30-step trajectory's ~300 (an estimated Jaccard around 0.9), while a different approach
 *   shares few. Shorter k makes unrelated trajectories alike (`cd <path> && python` is
 *   everywhere); longer k makes one edit cost more of the set.
 * - Hashing: each token is hashed with xxHash32 (xxhash-wasm), each shingle is the xxHash32 of
 *   its K token hashes, cut to 26 bits; the signature is bloom-filters' MinHash over those
 *   numbers (NUM_PERM = 128 functions (a·x + b) mod c, c the prime next to 2^26 so every
 *   product stays exact in a double). MinHashFactory draws a and b from Math.random; we redraw
 *   them from a fixed seed so that the same inputs give the same groups in every export.
 * - LSH: the signature is cut into b bands of r rows, (b, r) minimising the weighted false
 *   positive and false negative areas at the threshold (the semantics of datasketch's
 *   `_optimal_param`, datasketch/lsh.py, computed here by Simpson's rule) with weights 0.1 / 0.9
 *   instead of its 0.5 / 0.5: a false candidate costs one comparison of 128 numbers, a missed
 *   one leaves a near-copy in the dataset. At 0.8 that is 14 bands of 9 rows: a pair at 0.85 is
 *   a candidate with probability 0.975 (0.69 with equal weights), one at 0.6 with 0.13. Two trajectories of
 *   the same task that share one band are candidates; a candidate is a near-duplicate when both
 *   its estimated Jaccard similarities (actions, diff; two empty diffs are alike) reach the
 *   threshold. Trajectories of different tasks are never near-duplicates (their prompts differ).
 * - Groups: the connected components of the near pairs (union-find, as BigCode's
 *   near-deduplication and text-dedup's MinHash pipeline group their LSH candidates); the best
 *   of each (the caller's order: reward, then fewest steps, then source order) stays, the others
 *   are dropped for it. A component is robust to the estimate's noise (one pair read under the
 *   threshold does not split 50 copies that are all near each other), at the price of
 *   chaining: a member may be linked to the kept one through others only; the manifest then
 *   names the one it was found near (`via`) and its own, lower, similarity to the kept one.
 * - Precision: with 128 functions the estimate's standard deviation is √(J(1 − J)/128), 0.027
 *   at J = 0.9; a pair at 0.95 reads ≥ 0.99 with probability ~1%. Thresholds above 0.95 tell
 *   copies apart only when they differ by more than that.
 */
import { MinHashFactory } from 'bloom-filters';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { Action, Trajectory } from '../../../common/src/trajectory';
import { stepActions } from './wellFormed';

/** Hash functions per signature (datasketch's default; 128 keeps the estimate's standard deviation at ≤ 0.045). */
export const NUM_PERM = 128;
/** Tokens per shingle (see the module comment). */
export const SHINGLE_TOKENS = 5;
/** Characters of a diff read for its signature (1 MB; the rest of a huge diff does not change the verdict). */
export const MAX_DIFF_CHARS = 1_000_000;
/** Tokens of an action sequence read for its signature (a 10,000-step trajectory's ~150,000). */
export const MAX_ACTION_TOKENS = 200_000;
/** LSH weights of false positives and false negatives (see the module comment). */
export const FP_WEIGHT = 0.1;
export const FN_WEIGHT = 0.9;
const MAX_VALUE = 2 ** 26;
/** Token hashes kept for reuse (entries; ~10 MB at most). */
const TOKEN_CACHE = 100_000;
/** Shingles whose hash values are kept for reuse (entries of NUM_PERM values; ~12 MB at most). */
const SHINGLE_CACHE = 20_000;
const SEED = 0x7a1b;

/** A trajectory's signatures: NUM_PERM minimum hash values each, or null when there is nothing to sign (no action, an empty diff). */
export interface NearSignature {
  actions: Uint32Array | null;
  diff: Uint32Array | null;
}

/** What the greedy pass needs of each trajectory. */
export interface NearCandidate {
  index: number;
  task_id: string;
  near: NearSignature;
}

/**
 * Why a trajectory is a near-duplicate: the kept one (by index), the two estimated similarities
 * to it, and `via`, the first trajectory it was found near when that is not the kept one (its
 * similarity to the kept one may then be under the threshold: the group is linked through others).
 */
export interface NearMatch {
  kept: number;
  jaccard: number;
  diff_jaccard: number;
  via?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^(0x)?[0-9a-f]{7,}$/i;
const FILE_NAME = /^[\w.-]*\w\.[A-Za-z][A-Za-z0-9]{0,4}$/;

function pathToken(w: string): string {
  const last = w.replace(/::.*$/, '').split('/').pop() ?? '';
  const ext = /\.([A-Za-z][A-Za-z0-9]{0,7})$/.exec(last);
  return ext && ext.index > 0 ? `<path.${ext[1]}>` : '<path>';
}

/** Normalised words kept for reuse (a command's words repeat across a dataset: `cd`, `&&`, `python`, `-m`…). */
const normalized = new Map<string, string>();
const NORMALIZED_CACHE = 20_000;

function normalizeWord(w: string): string {
  let n = normalized.get(w);
  if (n === undefined) {
    n = normalizeWordNow(w);
    if (normalized.size >= NORMALIZED_CACHE) normalized.clear();
    normalized.set(w, n);
  }
  return n;
}

function normalizeWordNow(w: string): string {
  const eq = w.indexOf('=');
  if (eq > 0 && eq < w.length - 1 && /^-{0,2}[A-Za-z_][\w-]*$/.test(w.slice(0, eq))) return `${w.slice(0, eq)}=${normalizeWord(w.slice(eq + 1))}`;
  if (UUID.test(w)) return '<id>';
  if (HEX.test(w) && /\d/.test(w) && /[a-f]/i.test(w)) return '<hex>';
  if ((w.includes('/') && /[\w.~-]/.test(w)) || w.startsWith('~') || FILE_NAME.test(w)) return pathToken(w);
  return w.replace(/\d+(\.\d+)?/g, '<n>');
}

/**
 * A shell command as normalised tokens: shell words (operators `&&`, `||`, `|`, `;`, `<`, `>`,
 * parentheses apart), quotes stripped, paths → `<path>` or `<path.EXT>`, UUIDs → `<id>`, hex
 * ids (7+ hex digits with a digit and a letter) → `<hex>`, digit runs → `<n>`; `--opt=value`
 * keeps its name. `cat /w/src/mod_3.py | sed -n 10,20p` → `cat <path.py> | sed -n <n>,<n>p`.
 */
export function normalizeCommand(command: string): string[] {
  const out: string[] = [];
  for (const raw of command.replace(/(&&|\|\||[|;<>]+|[()])/g, ' $1 ').split(/\s+/)) {
    const w = raw.replace(/^['"`]+|['"`]+$/g, '');
    if (w) out.push(normalizeWord(w));
  }
  return out;
}

function actionTokens(a: Action, out: string[]): void {
  switch (a.kind) {
    case 'bash':
      for (const w of normalizeCommand(a.command)) out.push(w);
      break;
    case 'edit':
      out.push('edit', a.command, normalizeWord(a.path));
      break;
    case 'submit':
      out.push('submit');
      break;
    case 'format_error':
      out.push('format_error');
      break;
    case 'browser':
      browserTokens(a, out);
      break;
  }
  out.push('⏎');
}

/**
 * A browser action's tokens: `browser`, the action, then its arguments: a URL as its path's
 * segments (scheme, host and port dropped: the same site on another port is the same visit;
 * numbers normalised as in commands, query and fragment kept as one token each), an element
 * id as `#<id>` (ids are numbered in page order, so the same page gives the same ids), typed or
 * searched text as normalised words, the scroll direction, `submit`.
 * `goto http://127.0.0.1:8000/item/42.html` → `browser goto / item / <n>.html`.
 */
function browserTokens(a: Extract<Action, { kind: 'browser' }>, out: string[]): void {
  out.push('browser', a.action);
  const x = a.args;
  if (x.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(x.url);
    } catch {
      url = undefined;
    }
    if (!url) out.push(...normalizeCommand(x.url));
    else {
      for (const segment of url.pathname.split('/').slice(1)) out.push('/', ...(segment ? [segment.replace(/\d+(\.\d+)?/g, '<n>')] : []));
      if (url.search) out.push(url.search.replace(/\d+(\.\d+)?/g, '<n>'));
      if (url.hash) out.push(url.hash);
    }
  }
  if (x.element_id !== undefined) out.push(`#${x.element_id}`);
  if (x.text !== undefined) out.push(...normalizeCommand(x.text));
  if (x.direction !== undefined) out.push(x.direction);
  if (x.submit) out.push('submit');
}

/** The normalised tokens of a trajectory's actions, in order (at most MAX_ACTION_TOKENS). */
export function actionSequenceTokens(t: Trajectory): string[] {
  const out: string[] = [];
  for (const s of t.steps) {
    for (const { a } of stepActions(s)) {
      actionTokens(a, out);
      if (out.length >= MAX_ACTION_TOKENS) return out.slice(0, MAX_ACTION_TOKENS);
    }
  }
  return out;
}

/** The tokens of a unified diff (see the module comment), of its first MAX_DIFF_CHARS characters. */
export function diffTokens(diff: string): string[] {
  const out: string[] = [];
  const text = diff.length > MAX_DIFF_CHARS ? diff.slice(0, MAX_DIFF_CHARS) : diff;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      out.push(`file:${line.slice(line.lastIndexOf(' b/') + 3)}`);
      continue;
    }
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    const sign = line[0];
    if (sign !== '+' && sign !== '-') continue;
    out.push(sign);
    for (const m of line.slice(1).matchAll(/[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\S/g)) out.push(m[0]);
  }
  return out;
}

/** Probability that a pair of similarity s shares at least one of b bands of r rows. */
const collide = (s: number, b: number, r: number) => 1 - (1 - s ** r) ** b;

function simpson(f: (x: number) => number, lo: number, hi: number, n = 64): number {
  if (hi <= lo) return 0;
  const h = (hi - lo) / n;
  let sum = f(lo) + f(hi);
  for (let i = 1; i < n; i++) sum += f(lo + i * h) * (i % 2 ? 4 : 2);
  return (sum * h) / 3;
}

const paramCache = new Map<string, { bands: number; rows: number }>();

/**
 * LSH bands and rows for `threshold` (in (0, 1]) over `numPerm` hash values: the (b, r) with
 * b·r ≤ numPerm that minimise FP_WEIGHT·FP + FN_WEIGHT·FN, FP = ∫₀ᵗ P(s) ds and
 * FN = ∫ₜ¹ (1 − P(s)) ds with P(s) = 1 − (1 − sʳ)ᵇ (datasketch/lsh.py `_optimal_param`, same
 * semantics, other weights: see the module comment). For 128 and 0.8: 14 bands of 9 rows.
 * Throws RangeError for a threshold outside (0, 1].
 */
export function lshParams(threshold: number, numPerm = NUM_PERM): { bands: number; rows: number } {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`the near-duplicate threshold must be in (0, 1] (got ${threshold})`);
  const key = `${threshold}/${numPerm}`;
  const cached = paramCache.get(key);
  if (cached) return cached;
  let best = { bands: 1, rows: numPerm };
  let min = Infinity;
  for (let b = 1; b <= numPerm; b++) {
    for (let r = 1; r <= Math.floor(numPerm / b); r++) {
      const fp = simpson((s) => collide(s, b, r), 0, threshold);
      const fn = simpson((s) => 1 - collide(s, b, r), threshold, 1);
      const err = FP_WEIGHT * fp + FN_WEIGHT * fn;
      if (err < min) {
        min = err;
        best = { bands: b, rows: r };
      }
    }
  }
  paramCache.set(key, best);
  return best;
}

/**
 * The estimated Jaccard similarity of two signatures: the fraction of positions where they
 * agree (as bloom-filters' `MinHash.compareWith`); two empty sets are alike (1), an empty and a
 * non-empty one are not (0). Throws RangeError for signatures of different lengths.
 */
export function estimateJaccard(a: Uint32Array | null, b: Uint32Array | null): number {
  if (a === null || b === null) return a === b ? 1 : 0;
  if (a.length !== b.length) throw new RangeError(`signatures of ${a.length} and ${b.length} values cannot be compared`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Makes the signatures of trajectories. Create it with `NearSigner.create()` (it loads the
 * xxHash WebAssembly module once); every signer makes the same signatures for the same input.
 */
export class NearSigner {
  private constructor(
    private readonly xx: XXHashAPI,
    private readonly factory: MinHashFactory,
  ) {}

  private static loading: Promise<NearSigner> | undefined;
  private readonly tokenHashes = new Map<string, number>();

  /** The signer (one per process). Rejects only if the WebAssembly module cannot be instantiated. */
  static create(): Promise<NearSigner> {
    NearSigner.loading ??= xxhash().then((xx) => {
      const factory = new MinHashFactory(NUM_PERM, MAX_VALUE);
      // Seeded a and b (see the module comment); c, the prime, is the factory's.
      factory._hashFunctions = factory._hashFunctions.map((f, i) => ({ a: 1 + (xx.h32(`minhash-a-${i}`, SEED) % (MAX_VALUE - 1)), b: xx.h32(`minhash-b-${i}`, SEED) % MAX_VALUE, c: f.c }));
      return new NearSigner(xx, factory);
    });
    return NearSigner.loading;
  }

  /** The MinHash signature of the K-token shingles of `tokens` (one shingle when fewer); null when `tokens` is empty. */
  signTokens(tokens: string[]): Uint32Array | null {
    const shingles = this.shingles(tokens);
    if (!shingles.length) return null;
    // The signature of a set is the position-wise minimum of its members' hash values; each
    // shingle's values are bloom-filters' (a MinHash of that one shingle), kept for reuse.
    const signature = new Uint32Array(NUM_PERM).fill(0xffffffff);
    for (const v of shingles) {
      const values = this.shingleValues(v);
      // Four positions a turn (NUM_PERM is a multiple of 4): this loop is most of the signing's
      // own time (a CPU profile of `npm run bench -- near-dedup`'s input), and unrolled it runs
      // faster in V8; the bench gives the whole signing's figure against the reading.
      for (let j = 0; j < NUM_PERM; j += 4) {
        let x = values[j]!;
        if (x < signature[j]!) signature[j] = x;
        x = values[j + 1]!;
        if (x < signature[j + 1]!) signature[j + 1] = x;
        x = values[j + 2]!;
        if (x < signature[j + 2]!) signature[j + 2] = x;
        x = values[j + 3]!;
        if (x < signature[j + 3]!) signature[j + 3] = x;
      }
    }
    return signature;
  }

  /** @internal The distinct shingle values of `tokens`, in order of first appearance (26-bit xxHash32 of K token hashes); [] when `tokens` is empty. */
  shingles(tokens: string[]): number[] {
    if (!tokens.length) return [];
    const hashes = new Uint32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const w = tokens[i]!;
      let h = this.tokenHashes.get(w);
      if (h === undefined) {
        h = this.xx.h32(w, SEED);
        // Normalised tokens repeat across trajectories; the cache is bounded (a diff's words need not).
        if (this.tokenHashes.size >= TOKEN_CACHE) this.tokenHashes.clear();
        this.tokenHashes.set(w, h);
      }
      hashes[i] = h;
    }
    const k = Math.min(SHINGLE_TOKENS, tokens.length);
    // A shingle's bytes are its k token hashes, copied into one reused buffer (a view per
    // shingle would make 600 short-lived objects a trajectory).
    const words = this.scratch;
    const bytes = k === SHINGLE_TOKENS ? this.scratchBytes : new Uint8Array(words.buffer, 0, k * 4);
    const seen = new Set<number>();
    for (let i = 0; i + k <= tokens.length; i++) {
      for (let j = 0; j < k; j++) words[j] = hashes[i + j]!;
      seen.add(this.xx.h32Raw(bytes, SEED) >>> 6);
    }
    return [...seen];
  }

  private readonly scratch = new Uint32Array(SHINGLE_TOKENS);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  /**
   * @internal The signature of `shingles` (shingle values) made the library's way alone: one
   * bloom-filters MinHash with every value added. signTokens must agree with it (unit test).
   */
  librarySignature(shingles: number[]): Uint32Array {
    const mh = this.factory.create();
    for (const v of shingles) mh.add(v);
    return Uint32Array.from(mh._signature);
  }

  private readonly valuesOf = new Map<number, Uint32Array>();

  /**
   * The NUM_PERM hash values of one shingle: the signature bloom-filters' MinHash gives the set
   * {v} (`MinHash.add` applies every (a·x + b) mod c). Shingles of normalised commands repeat
   * across a dataset's trajectories, so they are kept, SHINGLE_CACHE at most (~10 MB).
   */
  private shingleValues(v: number): Uint32Array {
    let values = this.valuesOf.get(v);
    if (!values) {
      const one = this.factory.create();
      one.add(v);
      values = Uint32Array.from(one._signature);
      if (this.valuesOf.size >= SHINGLE_CACHE) this.valuesOf.clear();
      this.valuesOf.set(v, values);
    }
    return values;
  }

  /** The signatures of a trajectory's action sequence and final diff. */
  sign(t: Trajectory): NearSignature {
    return { actions: this.signTokens(actionSequenceTokens(t)), diff: this.signTokens(diffTokens(typeof t.result?.diff === 'string' ? t.result.diff : '')) };
  }
}

/**
 * The near-duplicates among `ranked` (best first; see the module comment) at `threshold`: for
 * each dropped trajectory (by index), the kept one — the best of its group — and the estimated
 * similarities to it. Groups are the connected components of the candidate pairs (same task,
 * a shared LSH band) whose two estimates reach the threshold. Throws RangeError for a threshold
 * outside (0, 1].
 */
export function findNearDuplicates(ranked: NearCandidate[], threshold: number): Map<number, NearMatch> {
  const { bands, rows } = lshParams(threshold);
  const buckets = new Map<string, number[]>();
  // Union-find over positions in `ranked`; a root is always the best-ranked member of its group.
  const parent = ranked.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const via = new Map<number, number>();
  ranked.forEach((c, i) => {
    const sig = c.near.actions;
    const keys = sig ? Array.from({ length: bands }, (_, b) => `${c.task_id}\u0000${b}\u0000${sig.subarray(b * rows, (b + 1) * rows).join(',')}`) : [`${c.task_id}\u0000-`];
    for (const key of keys) {
      const bucket = buckets.get(key);
      if (!bucket) {
        buckets.set(key, [i]);
        continue;
      }
      for (const j of bucket) {
        const rj = find(j);
        const ri = find(i);
        if (rj === ri) continue;
        const other = ranked[j]!;
        if (estimateJaccard(c.near.actions, other.near.actions) < threshold || estimateJaccard(c.near.diff, other.near.diff) < threshold) continue;
        if (!via.has(i)) via.set(i, j);
        // The better-ranked root stays the root.
        if (rj < ri) parent[ri] = rj;
        else parent[rj] = ri;
      }
      bucket.push(i);
    }
  });
  const out = new Map<number, NearMatch>();
  ranked.forEach((c, i) => {
    const root = find(i);
    if (root === i) return;
    const k = ranked[root]!;
    const v = via.get(i);
    out.set(c.index, {
      kept: k.index,
      jaccard: estimateJaccard(c.near.actions, k.near.actions),
      diff_jaccard: estimateJaccard(c.near.diff, k.near.diff),
      ...(v !== undefined && v !== root ? { via: ranked[v]!.index } : {}),
    });
  });
  return out;
}
