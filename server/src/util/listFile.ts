/**
 * Files that hold a list of entries in YAML or JSON (JSON is read as YAML 1.2, which it is a
 * subset of), either the list itself or `{<key>: [...]}`: the `--hosts FILE` of a pool
 * (pool/hostsFile.ts) and the `--models FILE` of a models list (agent/modelEntries.ts). A bad
 * file is an error `file:line:col: message` at the bad value (parsed with the `yaml` package,
 * https://eemeli.org/yaml/, positions from its LineCounter).
 */
import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A list entry that breaks a rule: where (`[2, 'workers']`: the third entry's workers) and why. */
export class ListEntryError extends Error {
  constructor(
    /** Path of the bad value from the list: the entry's index, then its key (and deeper keys). */
    readonly at: (string | number)[],
    /** What is wrong, without the place: `"workers" must be an integer ≥ 1 (got "two")`. */
    readonly problem: string,
    /** The key itself is the culprit (an unknown key), not its value. */
    readonly atKey = false,
  ) {
    super(problem);
    this.name = 'ListEntryError';
  }
}

/** A list file that cannot be used; the message is `file:line:col: what is wrong`. */
export class ListFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListFileError';
  }
}

/** What a list file holds: its top-level key, how its entries are named in messages, and their check. */
export interface ListFileKind<T> {
  /** The key of the `{<key>: [...]}` form, and the file's noun: `hosts`, `models`. */
  key: string;
  /** One entry's noun: `host`, `model`. */
  noun: string;
  /** The smallest entry, for messages: `{url: ...}`. */
  example: string;
  /** Checks and normalises the entries. Errors: ListEntryError naming the first bad value. */
  check(values: readonly unknown[]): T[];
}

/** The entries of the list file `file` (read as UTF-8), checked (see parseListFile). Errors: ListFileError (`file:1:1: cannot read …`). */
export async function readListFile<T>(file: string, kind: ListFileKind<T>): Promise<T[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new ListFileError(`${file}:1:1: cannot read the ${kind.key} file: ${(err as Error).message}`);
  }
  return parseListFile(text, file, kind);
}

/**
 * The entries in `text`, the content of a list file named `file` (for messages), in file order
 * and normalised by `kind.check`. Errors: ListFileError `file:line:col: message` for a YAML/JSON
 * syntax error, a top level that is neither a list nor `{<key>: [...]}`, an empty list, and the
 * first entry that breaks a rule (at the bad value, or at the key for an unknown key).
 */
export function parseListFile<T>(text: string, file: string, kind: ListFileKind<T>): T[] {
  const { key, noun, example } = kind;
  const { doc, at } = openYaml(text, file);

  const root = doc.contents;
  let listPath: string[];
  if (isSeq(root)) listPath = [];
  else if (isMap(root) && root.has(key)) {
    const extra = root.items.find((p) => keyText(p.key) !== key);
    if (extra) throw at(rangeOf(extra.key as Node | null)?.[0] ?? 0, `unknown top-level key ${JSON.stringify(keyText(extra.key))} (the file is a list of ${key} or {${key}: [...]})`);
    listPath = [key];
  } else throw at(rangeOf(root)?.[0] ?? 0, `a ${key} file is a list of ${key} or {${key}: [...]}, each ${noun} at least ${example}`);

  const list: unknown = listPath.length ? doc.getIn(listPath) : root;
  if (!isSeq(list)) throw at(rangeOf(doc.getIn(listPath, true) as Node)?.[0] ?? 0, `"${key}" must be a list of ${key}, each at least ${example}`);
  const values = (list.toJSON() ?? []) as unknown[];
  if (!values.length) throw at(rangeOf(list)?.[0] ?? 0, `the ${key} list is empty: name at least one ${noun} ${example}`);
  try {
    return kind.check(values);
  } catch (err) {
    if (!(err instanceof ListEntryError)) throw err;
    throw at(offsetOf(doc, [...listPath, ...err.at], err.atKey), err.problem);
  }
}

/**
 * A YAML or JSON file's document and a maker of `file:line:col: message` errors at a path in it,
 * for files that are not lists (an agent config). Errors: ListFileError for a syntax error.
 */
export function parseYamlFile(text: string, file: string): { value: unknown; errorAt(path: (string | number)[], message: string, atKey?: boolean): ListFileError } {
  const { doc, at } = openYaml(text, file);
  return { value: doc.toJSON(), errorAt: (path, message, atKey = false) => at(offsetOf(doc, path, atKey), message) };
}

/** The document of `text` (YAML 1.2, duplicate keys refused) and a maker of `file:line:col` errors at an offset. Errors: ListFileError at the first syntax error. */
function openYaml(text: string, file: string): { doc: Document; at(offset: number, message: string): ListFileError } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, message: string) => {
    const { line, col } = lines.linePos(offset);
    return new ListFileError(`${file}:${line}:${col}: ${message}`);
  };
  const syntax = doc.errors[0];
  if (syntax) throw at(syntax.pos[0], syntax.message.split('\n')[0]!);
  return { doc, at };
}

/** Where the value at `path` starts, or its key's position with `atKey` (an unknown key); a missing value: its nearest parent. */
function offsetOf(doc: Document, path: (string | number)[], atKey: boolean): number {
  if (atKey && path.length) {
    const parent = doc.getIn(path.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find((p) => keyText(p.key) === String(path[path.length - 1])) : undefined;
    const range = rangeOf(pair?.key as Node | undefined);
    if (range) return range[0]!;
  }
  for (let n = path.length; n > 0; n--) {
    const range = rangeOf(doc.getIn(path.slice(0, n), true) as Node | undefined);
    if (range) return range[0]!;
  }
  return rangeOf(doc.contents)?.[0] ?? 0;
}

function keyText(key: unknown): string {
  return String(key && typeof key === 'object' && 'value' in key ? (key as { value: unknown }).value : key);
}

function rangeOf(node: Node | null | undefined): readonly number[] | undefined {
  return node && typeof node === 'object' && 'range' in node ? node.range ?? undefined : undefined;
}
