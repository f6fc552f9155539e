/**
 * The `--hosts FILE` of `trajlab generate`: a pool's hosts in YAML or JSON (JSON is read as
 * YAML 1.2, which it is a subset of), either a list of hosts or `{hosts: [...]}`:
 *
 *   hosts:
 *     - url: ssh://me@gpu1
 *       workers: 8
 *       gpus: [0, 1]
 *       labels: {gpu: a100}
 *     - {url: "tcp://gpu2:2376", workers: 4, gpus: "0,1", enabled: false}
 *
 * Each entry is a HostSpec (common/src/run.ts), checked by checkHostSpecs (hostSpec.ts). A bad
 * file is an error `file:line:col: message` at the bad value (parsed with the `yaml` package,
 * https://eemeli.org/yaml/, positions from its LineCounter).
 */
import * as fs from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { HostSpec } from '../../../common/src/run';
import { checkHostSpecs, HostSpecError } from './hostSpec';

/** A `--hosts` file that cannot be used; the message is `file:line:col: what is wrong`. */
export class HostsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostsFileError';
  }
}

/**
 * The hosts of the `--hosts` file `file` (read as UTF-8), checked (see parseHostsFile).
 * Errors: HostsFileError (`file:1:1: cannot read: …` when it cannot be read).
 */
export async function readHostsFile(file: string): Promise<HostSpec[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    throw new HostsFileError(`${file}:1:1: cannot read the hosts file: ${(err as Error).message}`);
  }
  return parseHostsFile(text, file);
}

/**
 * The hosts in `text`, the content of a hosts file named `file` (for messages), in file order
 * and normalised as checkHostSpecs does. Errors: HostsFileError `file:line:col: message` for a
 * YAML/JSON syntax error, a top level that is neither a list nor `{hosts: [...]}`, an empty
 * list, and the first entry that breaks a HostSpec rule (at the bad value, or at the entry).
 */
export function parseHostsFile(text: string, file: string): HostSpec[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, message: string) => {
    const { line, col } = lines.linePos(offset);
    return new HostsFileError(`${file}:${line}:${col}: ${message}`);
  };
  const syntax = doc.errors[0];
  if (syntax) throw at(syntax.pos[0], syntax.message.split('\n')[0]!);

  const root = doc.contents;
  let listPath: string[];
  if (isSeq(root)) listPath = [];
  else if (isMap(root) && root.has('hosts')) {
    const extra = root.items.find((p) => keyText(p.key) !== 'hosts');
    if (extra) throw at(rangeOf(extra.key as Node | null)?.[0] ?? 0, `unknown top-level key ${JSON.stringify(keyText(extra.key))} (the file is a list of hosts or {hosts: [...]})`);
    listPath = ['hosts'];
  } else throw at(rangeOf(root)?.[0] ?? 0, 'a hosts file is a list of hosts or {hosts: [...]}, each host at least {url: ...}');

  const list: unknown = listPath.length ? doc.getIn(listPath) : root;
  if (!isSeq(list)) throw at(rangeOf(doc.getIn(listPath, true) as Node)?.[0] ?? 0, '"hosts" must be a list of hosts, each at least {url: ...}');
  const values = (list.toJSON() ?? []) as unknown[];
  if (!values.length) throw at(rangeOf(list)?.[0] ?? 0, 'the hosts list is empty: name at least one host {url: ...}');
  try {
    return checkHostSpecs(values);
  } catch (err) {
    if (!(err instanceof HostSpecError)) throw err;
    throw at(offsetOf(doc, [...listPath, ...err.at], err.atKey), err.problem);
  }
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
