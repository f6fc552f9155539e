/**
 * The `browser` tool's pure parts (issue 20): the accessibility tree rendered with numbered
 * elements and cut to its budget (server/src/browser/snapshot.ts), tool-call and text-mode
 * parsing, and which tasks get the tool (server/src/agent/actions.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findLines, renderTree, type AriaNode } from '../../server/src/browser/snapshot';
import { BROWSER_TOOL, parseActions, parseBrowserArgs, toolsForTask } from '../../server/src/agent/actions';

const PAGE: AriaNode[] = [{
  role: 'generic', ref: 'e1', children: [
    { role: 'heading', name: 'Items', level: 1, ref: 'e2' },
    { role: 'table', ref: 'e3', children: [{ role: 'row', ref: 'e4', children: [{ role: 'cell', ref: 'e5', children: [{ role: 'link', name: 'Widget', ref: 'e6', url: 'widget.html' }] }, { role: 'cell', name: '$3.50', ref: 'e7' }] }] },
    { role: 'generic', ref: 'e8', children: ['Name', { role: 'textbox', name: 'Name', ref: 'e9', text: 'bob' }, { role: 'button', name: 'Send', ref: 'e10' }, { role: 'checkbox', checked: true, ref: 'e11' }] },
  ],
}];

test('renderTree numbers interactive elements in document order, maps them to refs, drops unnamed generics', () => {
  const r = renderTree(PAGE);
  assert.equal(r.text, [
    'heading "Items" [level=1]',
    'table',
    '  row',
    '    cell',
    '      [1] link "Widget" → widget.html',
    '    cell "$3.50"',
    'text: Name',
    '[2] textbox "Name": bob',
    '[3] button "Send"',
    '[4] checkbox [checked]',
  ].join('\n'));
  assert.deepEqual([...r.refs], [[1, 'e6'], [2, 'e9'], [3, 'e10'], [4, 'e11']]);
  assert.equal(r.cut, undefined);
});

test('a page of 5,000 elements is cut to the budget, the cut recorded, every id still mapped', () => {
  const links: AriaNode[] = Array.from({ length: 5000 }, (_, i) => ({ role: 'link', name: `Link number ${i}`, ref: `e${i + 2}` }));
  const r = renderTree([{ role: 'list', ref: 'e1', children: links }], 16_000);
  assert.ok(r.text.length <= 16_000 + 200, `text ${r.text.length} chars`);
  assert.ok(r.cut);
  assert.equal(r.cut.total_lines, 5001);
  assert.ok(r.cut.shown_lines < 5001 && r.cut.shown_lines > 100);
  assert.equal(r.cut.total_elements, 5000);
  assert.ok(r.cut.shown_chars <= 16_000);
  assert.match(r.text, /\[cut: \d+ of 5001 lines shown/);
  assert.equal(r.refs.size, 5000);
  assert.match(findLines(renderTree([{ role: 'list', children: links }], Number.MAX_SAFE_INTEGER).text, 'number 4999'), /\[5000\] link "Link number 4999"/);
});

test('page text is text: names with quotes, newlines and markup are printed quoted on one line', () => {
  const r = renderTree([{ role: 'link', name: 'a "b"\n<script>x</script>', ref: 'e1', url: '../../etc/passwd' }]);
  assert.equal(r.text, '[1] link "a \\"b\\" <script>x</script>" → ../../etc/passwd');
});

test('browser tool calls are parsed and checked; text mode takes one ```browser block', () => {
  assert.deepEqual(parseBrowserArgs({ action: 'click', element_id: '3' }, 'c1'), { kind: 'browser', action: 'click', args: { element_id: 3 }, tool_call_id: 'c1' });
  assert.deepEqual(parseBrowserArgs({ action: 'type', element_id: 2, text: 'alice', submit: true }), { kind: 'browser', action: 'type', args: { element_id: 2, text: 'alice', submit: true } });
  assert.deepEqual(parseBrowserArgs({ action: 'scroll' }), { kind: 'browser', action: 'scroll', args: { direction: 'down' } });
  assert.equal(parseBrowserArgs({ action: 'goto' }).kind, 'format_error');
  assert.equal(parseBrowserArgs({ action: 'click', element_id: 0 }).kind, 'format_error');
  assert.equal(parseBrowserArgs({ action: 'fly' }).kind, 'format_error');
  const [text] = parseActions({ role: 'assistant', content: 'I open it.\n```browser\n{"action": "goto", "url": "http://127.0.0.1:8000/"}\n```' }, 'text');
  assert.deepEqual(text, { kind: 'browser', action: 'goto', args: { url: 'http://127.0.0.1:8000/' } });
  const [two] = parseActions({ role: 'assistant', content: '```browser\n{"action": "read"}\n```\n```bash\nls\n```' }, 'text');
  assert.equal(two!.kind, 'format_error');
  const [call] = parseActions({ role: 'assistant', content: null, tool_calls: [{ id: 'x', type: 'function', function: { name: BROWSER_TOOL, arguments: '{"action":"read"}' } }] }, 'tools');
  assert.deepEqual(call, { kind: 'browser', action: 'read', args: {}, tool_call_id: 'x' });
});

test('the browser tool goes to web tasks and to tasks that expect it, before submit', () => {
  const names = (t: Parameters<typeof toolsForTask>[0]) => toolsForTask(t).map((x) => (x as { function: { name: string } }).function.name);
  assert.deepEqual(names({ task_type: 'web' }), ['bash', 'str_replace_based_edit', 'browser', 'submit']);
  assert.deepEqual(names({ expected_tools: ['browser'] }), ['bash', 'str_replace_based_edit', 'browser', 'submit']);
  assert.deepEqual(names({ task_type: 'code' }), ['bash', 'str_replace_based_edit', 'submit']);
});
