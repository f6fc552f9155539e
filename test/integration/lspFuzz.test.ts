/**
 * Fuzz test of the tasks.jsonl language over real LSP (the BUILT daemon, `npm run build`
 * first). Seeded (TRAJLAB_FUZZ_SEED overrides; the seed is in every failure message) and
 * bounded in time (TRAJLAB_FUZZ_MS, default 4000 ms of mutations). Mutations: random edits of
 * valid lines, binary junk (control characters, lone surrogates, NUL), 1 MB lines, deeply
 * nested lines, invalid UTF-8 bytes written raw into the JSON-RPC stream, and a file that is
 * one giant line. After each batch the daemon must answer within 10 s, and its diagnostics
 * must equal those computed from scratch, in this process, for the text the test holds: so
 * the lines a mutation did not touch keep exactly their diagnostics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { computeDiagnostics } from '../../server/src/language/diagnostics';
import { splitLines, TaskDocument } from '../../server/src/language/taskDocument';
import { LspClient } from '../helpers/lspClient';
import { prng } from '../helpers/prng';

const SEED = Number(process.env.TRAJLAB_FUZZ_SEED ?? 20261121);
const BUDGET_MS = Number(process.env.TRAJLAB_FUZZ_MS ?? 4000);


const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

let serial = 0;
function validLine(): string {
  const id = `fz-${serial++}`;
  return pick([
    () => JSON.stringify({ task_id: id, description: 'Say hi', eval: ['true'] }),
    () => JSON.stringify({ task_id: id, task_type: 'swe', description: 'fix', eval: { commands: ['pytest -rA'], FAIL_TO_PASS: ['t::a'] }, max_steps: 5 }),
    () => JSON.stringify({ task_id: id, task_type: 'reasoning', problem_statement: 'ü 😀 ∑', eval: { answer: '42' }, priority: 3, network: 'none' }),
    () => JSON.stringify({ task_id: `${id}-${'Ünïcødé'}`, description: 'x', eval: ['true'], resources: { cpus: 0.5, memory_mb: 256 }, metadata: { a: [1, { b: null }] } }),
  ])();
}

/** Random UTF-16 code units: controls, NUL, lone surrogates, JSON punctuation, astral pairs. No lone CR (VS Code never sends one next to a line break). */
function junk(n: number): string {
  let s = '';
  while (s.length < n) {
    const k = int(6);
    if (k === 0) s += String.fromCharCode(int(32) === 13 ? 10 : int(32));
    else if (k === 1) s += String.fromCharCode(0xd800 + int(0x800));
    else if (k === 2) s += pick(['{', '}', '[', ']', '"', ':', ',', '\\', 'task_id', '"task_id": ', 'null', '1e999', '-', '\n']);
    else if (k === 3) s += '😀';
    else s += String.fromCharCode(32 + int(0xd7ff - 32));
  }
  return s;
}

/** Applies LSP changes to a string the way the protocol defines them (the reference the daemon must agree with). */
function applyChange(text: string, c: TextDocumentContentChangeEvent): string {
  if (!('range' in c)) return c.text;
  const starts = [0];
  const re = /\r\n|\r|\n/g;
  let m: RegExpExecArray | null;
  const ends: number[] = [];
  while ((m = re.exec(text))) {
    ends.push(m.index);
    starts.push(m.index + m[0].length);
  }
  ends.push(text.length);
  const offset = (p: { line: number; character: number }) => {
    if (p.line >= starts.length) return text.length;
    return starts[p.line]! + Math.min(p.character, ends[p.line]! - starts[p.line]!);
  };
  const a = offset(c.range.start);
  const b = Math.max(a, offset(c.range.end));
  return text.slice(0, a) + c.text + text.slice(b);
}

/** What the daemon should publish for `text`, computed from scratch here (environment checks off on both sides). */
function expectedDiagnostics(uri: string, text: string): Diagnostic[] {
  const doc = new TaskDocument(uri, 0, text);
  return computeDiagnostics(doc, { repoProblem: () => undefined, imageStatus: () => 'unknown', dockerHostName: 'local' }) as Diagnostic[];
}

const withoutEnvironment = (ds: Diagnostic[]) => ds.filter((d) => d.code !== 'repo-not-found' && d.code !== 'image-not-found');

let dir: string;
let client: LspClient;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-fuzz-'));
  client = await LspClient.start({ out: path.join(dir, 'out'), initializationOptions: { out: path.join(dir, 'out'), dockerHost: 'unix:///nonexistent/trajlab-fuzz.sock' } });
});

after(async () => {
  await client?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test(`fuzz (seed ${SEED}): the daemon never crashes or hangs, and its diagnostics match a fresh analysis`, { timeout: 120_000 }, async () => {
  const uri = pathToFileURL(path.join(dir, 'fuzz.tasks.jsonl')).href;
  const base = Array.from({ length: 150 }, () => validLine());
  let text = base.join('\n');
  let version = 1;
  await client.open(uri, text, version);
  const where = () => `(seed ${SEED}, version ${version})`;

  const check = async (what: string) => {
    const got = await client.waitForDiagnostics(uri, version, 10_000).catch((err: Error) => assert.fail(`${what}: ${err.message} ${where()}`));
    const want = expectedDiagnostics(uri, text);
    assert.equal(client.diagnosticsOf(uri)?.version, version);
    assert.deepEqual(withoutEnvironment(got), withoutEnvironment(want), `${what}: diagnostics differ from a fresh analysis ${where()}`);
    // The lines nobody touched are still exactly the valid lines they were: no diagnostic on them.
    const lines = splitLines(text);
    const untouched = new Set(base);
    for (const d of got) {
      const line = lines[d.range.start.line];
      // (Duplicates involve other lines; the "N more problems" summary sits on the last line.)
      if (line !== undefined && untouched.has(line) && d.code !== 'duplicate-task-id' && d.code !== undefined) assert.fail(`an untouched valid line got "${d.message}" ${where()}`);
    }
  };
  const send = async (changes: TextDocumentContentChangeEvent[]) => {
    version++;
    for (const c of changes) text = applyChange(text, c);
    await client.change(uri, version, changes);
  };
  const randomRange = () => {
    const lines = splitLines(text);
    const l1 = int(lines.length);
    const l2 = Math.min(lines.length - 1, l1 + (rnd() < 0.8 ? 0 : int(3)));
    const c1 = int(lines[l1]!.length + 1);
    const c2 = l2 === l1 ? c1 + int(Math.max(1, lines[l2]!.length - c1 + 1)) : int(lines[l2]!.length + 1);
    return { start: { line: l1, character: c1 }, end: { line: l2, character: c2 } };
  };

  const mutations: Record<string, () => Promise<void>> = {
    keystroke: () => send([{ range: randomRange(), text: pick(['', 'x', '"', '}', '{', ',', ':', ' ', '\n', '1', '\\', 'é', '😀']) }]),
    burst: () => send(Array.from({ length: 1 + int(8) }, () => ({ range: randomRange(), text: pick(['', 'ab', '"task_id": "fz-0", ', '\n', ']']) }))),
    junkLine: () => send([{ range: randomRange(), text: junk(1 + int(200)) }]),
    validLine: () => {
      const line = int(splitLines(text).length);
      return send([{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: validLine() + '\n' }]);
    },
    megabyteLine: () => {
      const line = int(splitLines(text).length);
      const big = rnd() < 0.5 ? JSON.stringify({ task_id: `fz-big-${serial++}`, description: 'y'.repeat(1024 * 1024), eval: ['true'] }) : junk(1024 * 1024).replace(/\n/g, ' ');
      return send([{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: big + '\n' }]);
    },
    deepLine: () => {
      const line = int(splitLines(text).length);
      const depth = 20_000 + int(100_000);
      const deep = rnd() < 0.5 ? '['.repeat(depth) : `{"task_id": "fz-deep-${serial++}", "description": "x", "max_steps": 0, "metadata": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
      return send([{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: deep + '\n' }]);
    },
    deleteLines: () => {
      const lines = splitLines(text);
      const l = int(lines.length);
      return send([{ range: { start: { line: l, character: 0 }, end: { line: Math.min(lines.length, l + 1 + int(5)), character: 0 } }, text: '' }]);
    },
    invalidUtf8: async () => {
      // Raw bytes that are not UTF-8, written straight into the JSON-RPC stream: the daemon
      // decodes them to U+FFFD. The line is then replaced whole, so the reference text stays exact.
      const lines = splitLines(text);
      if (lines.length < 2) return;
      const line = int(lines.length - 1);
      version++;
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didChange', params: { textDocument: { uri, version }, contentChanges: [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: '@@BYTES@@' }] } });
      const [head, tail] = body.split('@@BYTES@@');
      const bytes = Buffer.concat([Buffer.from(head!, 'utf8'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0xe2, 0x82]), Buffer.from(tail!, 'utf8')]);
      await new Promise<void>((resolve, reject) => client.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]), (err) => (err ? reject(err) : resolve())));
      await client.waitForDiagnostics(uri, version, 10_000);
      const published = client.diagnosticsOf(uri)!.diagnostics;
      assert.ok(Array.isArray(published), `no diagnostics after invalid UTF-8 ${where()}`);
      await send([{ range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, text: validLine() + '\n' }]);
    },
    request: async () => {
      const lines = splitLines(text);
      const line = int(lines.length);
      const position = { line, character: int(Math.min(lines[line]!.length, 2000) + 1) };
      const method = pick(['textDocument/completion', 'textDocument/hover', 'textDocument/codeAction', 'textDocument/codeLens', 'textDocument/documentSymbol']);
      const params =
        method === 'textDocument/codeAction'
          ? { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: client.diagnosticsOf(uri)?.diagnostics.filter((d) => d.range.start.line === line) ?? [] } }
          : { textDocument: { uri }, position };
      await client.request(method, params, 10_000).catch((err: Error) => assert.fail(`${method} at ${JSON.stringify(position)} failed: ${err.message} ${where()}`));
    },
  };
  const names = Object.keys(mutations);
  const weights: Record<string, number> = { keystroke: 30, burst: 10, junkLine: 10, validLine: 8, megabyteLine: 2, deepLine: 2, deleteLines: 6, invalidUtf8: 3, request: 12 };
  const bag = names.flatMap((n) => Array<string>(weights[n] ?? 1).fill(n));
  const counts: Record<string, number> = {};

  const deadline = Date.now() + BUDGET_MS;
  let batches = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 5; i++) {
      const name = pick(bag);
      counts[name] = (counts[name] ?? 0) + 1;
      await mutations[name]!();
    }
    await check(`after batch ${++batches}`);
    // Keep the file from growing without bound (megabyte lines).
    if (text.length > 8 * 1024 * 1024) {
      await send([{ text: base.join('\n') }]);
      await check('after a reset');
    }
  }

  // A file that is one giant line (5 MB), then back to many lines.
  await send([{ text: JSON.stringify({ task_id: 'giant', description: 'z'.repeat(5 * 1024 * 1024), eval: ['true'] }) }]);
  await check('one giant valid line');
  await send([{ text: junk(2 * 1024 * 1024).replace(/\n/g, ' ') }]);
  await check('one giant junk line');
  await client.request('textDocument/documentSymbol', { textDocument: { uri } }, 10_000);
  await send([{ text: base.join('\n') }]);
  await check('back to the valid file');
  assert.deepEqual(client.diagnosticsOf(uri)!.diagnostics, [], `the original valid file has no diagnostics ${where()}`);
  assert.ok(client.running, `the daemon is still running ${where()}${client.tail()}`);
  assert.ok(batches >= 3, `only ${batches} batches ran in ${BUDGET_MS} ms`);
  assert.ok(!/unhandled|uncaught/i.test(client.stderr), `the daemon logged an unhandled error:${client.tail()}`);
  process.stderr.write(`fuzz: seed ${SEED}, ${batches} batches, mutations ${JSON.stringify(counts)}\n`);
});
