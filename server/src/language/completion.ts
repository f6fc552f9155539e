/**
 * Completion in tasks.jsonl: on an empty line, snippets for a whole new task (with a task_id
 * unique in the file); inside a task, the schema's keys and enum values (vscode-json-languageservice,
 * with the schema's descriptions), the agent's tool names in `expected_tools`, the Docker
 * host's images for `image`, and shapes for `eval`.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type CompletionList, type Position, type Range } from 'vscode-languageserver';
import { BROWSER_TOOL_SCHEMA, TOOLS, TOOL_NAMES } from '../agent/actions';

export { TOOL_NAMES };
import { locationAt } from './jsonLine';
import { schemaCompletions } from './jsonService';
import { uniqueTaskId } from './taskIds';
import type { TaskDocument } from './taskDocument';


/** Where completion needs the host's images (async: the first call may list them). */
export interface CompletionContext {
  images(): Promise<string[]>;
}

/**
 * The completion list at `position` of `doc`. Never throws for odd input (a position past the
 * end, a line that is not JSON): it returns what applies, possibly nothing.
 */
export async function provideCompletion(doc: TaskDocument, position: Position, ctx: CompletionContext): Promise<CompletionList> {
  const entry = doc.lineAt(position.line);
  if (!entry) return { isIncomplete: false, items: [] };
  const text = entry.text;
  const character = Math.min(position.character, text.length);
  if (text.trim() === '') return { isIncomplete: false, items: newTaskSnippets(doc, position.line, text) };
  if (text.length > 100_000) return { isIncomplete: false, items: [] }; // no tree of a megabyte line per keystroke

  const loc = locationAt(text, character);
  const prev = loc.previousNode;
  // The string token under the cursor, replaced whole by a value completion.
  const inString = prev && prev.type === 'string' && prev.offset < character && character <= prev.offset + prev.length ? prev : undefined;
  const replace: Range = inString
    ? { start: { line: position.line, character: inString.offset }, end: { line: position.line, character: inString.offset + inString.length } }
    : { start: { line: position.line, character }, end: { line: position.line, character } };

  if (!loc.isKey && loc.path.length === 2 && loc.path[0] === 'expected_tools' && typeof loc.path[1] === 'number') {
    const items = TOOL_NAMES.map(
      (name): CompletionItem => ({
        label: name,
        kind: CompletionItemKind.Value,
        detail: 'agent tool',
        documentation: toolDescription(name),
        textEdit: { range: replace, newText: JSON.stringify(name) },
        filterText: JSON.stringify(name),
      }),
    );
    return { isIncomplete: false, items };
  }
  if (!loc.isKey && loc.path.length === 1 && loc.path[0] === 'image') {
    const tags = await ctx.images();
    const items = tags.map(
      (tag): CompletionItem => ({
        label: tag,
        kind: CompletionItemKind.Value,
        detail: 'image on the Docker host',
        textEdit: { range: replace, newText: JSON.stringify(tag) },
        filterText: JSON.stringify(tag),
      }),
    );
    return { isIncomplete: false, items };
  }
  const schema = await schemaCompletions(text, position.line, character);
  if (!loc.isKey && loc.path.length === 1 && loc.path[0] === 'eval' && !inString) schema.items.push(...evalSnippets(replace));
  return { isIncomplete: schema.isIncomplete, items: schema.items };
}

function toolDescription(name: string): string | undefined {
  const tool = [...TOOLS, BROWSER_TOOL_SCHEMA].find((t) => (t as { function: { name: string } }).function.name === name) as { function: { description?: string } } | undefined;
  return tool?.function.description;
}

/** Snippet text for a JSON string value typed by the user (`$`, `}` and `\` are snippet syntax). */
function snippetEscape(s: string): string {
  return s.replace(/[$}\\]/g, (c) => '\\' + c);
}

/** Whole-line task snippets for an empty line (kinds: code, swe, reasoning), each with a fresh task_id. */
function newTaskSnippets(doc: TaskDocument, line: number, text: string): CompletionItem[] {
  const id = snippetEscape(JSON.stringify(uniqueTaskId(doc, 'task')).slice(1, -1));
  const range: Range = { start: { line, character: 0 }, end: { line, character: text.length } };
  const make = (label: string, detail: string, body: string, sort: string): CompletionItem => ({
    label,
    kind: CompletionItemKind.Snippet,
    detail,
    documentation: { kind: MarkupKind.Markdown, value: '```json\n' + body.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '') + '\n```' },
    insertTextFormat: InsertTextFormat.Snippet,
    textEdit: { range, newText: body },
    sortText: sort,
    filterText: '{',
  });
  return [
    make(
      'New task',
      'a code task: prompt and eval commands',
      `{"task_id": "\${1:${id}}", "task_type": "code", "description": "\${2:What the agent must do}", "eval": ["\${3:python3 -m pytest -q}"]}`,
      '0',
    ),
    make(
      'New SWE task',
      'fix a repository; FAIL_TO_PASS / PASS_TO_PASS tests decide the reward',
      `{"task_id": "\${1:${id}}", "task_type": "swe", "description": "\${2:The issue to fix}", "workspace": {"repo": "\${3:path/or/git-url}", "base_commit": "\${4:HEAD}"}, "eval": {"commands": ["\${5:python3 -m pytest -rA tests}"], "FAIL_TO_PASS": ["\${6:tests/test_x.py::test_bug}"], "PASS_TO_PASS": []}}`,
      '1',
    ),
    make(
      'New reasoning task',
      'an answer checked by a pattern',
      `{"task_id": "\${1:${id}}", "task_type": "reasoning", "description": "\${2:The question. Reply with <answer>…</answer>.}", "eval": {"answer": "\${3:42}"}}`,
      '2',
    ),
  ];
}

function evalSnippets(range: Range): CompletionItem[] {
  const make = (label: string, detail: string, body: string): CompletionItem => ({
    label,
    kind: CompletionItemKind.Snippet,
    detail,
    insertTextFormat: InsertTextFormat.Snippet,
    textEdit: { range, newText: body },
  });
  return [
    make('["command"]', 'eval commands: reward 1 when all exit 0', '["${1:python3 -m pytest -q}"]'),
    make('{commands, FAIL_TO_PASS, PASS_TO_PASS}', 'test lists decide the reward (SWE-bench style)', '{"commands": ["${1:python3 -m pytest -rA}"], "FAIL_TO_PASS": ["${2}"], "PASS_TO_PASS": []}'),
    make('{answer}', 'the agent\'s <answer>…</answer> must equal it', '{"answer": "${1}"}'),
  ];
}
