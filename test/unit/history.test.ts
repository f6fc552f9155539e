/**
 * The history processor for long conversations (server/src/agent/history.ts), checked against
 * the semantics of SWE-agent's LastNObservations (sweagent/agent/history_processors.py): every
 * observation but the last n becomes `Old environment output: (<len(splitlines())> lines
 * omitted)`, the instance template (our task message) stays whole; SWE-agent's own test
 * (tests/test_history_processors.py) counts total_observations - n - 1 elided entries, its -1
 * being the instance template, which it counts as an observation and we do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../../common/src/trajectory';
import { elidedObservation, isContextOverflow, lastNObservations, messagesAsSent, observationIndexes, pythonLineCount } from '../../server/src/agent/history';

test("line counts are Python's len(str.splitlines()): a final line break ends a line, \\r\\n is one break, \\r, \\v, \\f, \\u2028 break too", () => {
  assert.equal(pythonLineCount(''), 0);
  assert.equal(pythonLineCount('a'), 1);
  assert.equal(pythonLineCount('a\n'), 1);
  assert.equal(pythonLineCount('a\n\n'), 2);
  assert.equal(pythonLineCount('a\r\nb'), 2);
  assert.equal(pythonLineCount('a\rb\vc\fd\u2028e'), 5);
  assert.equal(pythonLineCount('\n'), 1);
  assert.equal(elidedObservation('x\ny\n'), 'Old environment output: (2 lines omitted)');
});

/** A text-mode conversation: system, task, then `n` (reply, observation) turns. */
function textConversation(n: number): ChatMessage[] {
  const out: ChatMessage[] = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'the task\nin two lines' }];
  for (let i = 0; i < n; i++) out.push({ role: 'assistant', content: `step ${i}` }, { role: 'user', content: `out ${i}\n`.repeat(i + 1) });
  return out;
}

test('last_n_observations: all observations but the last n elided, the task and every reply kept, the input untouched', () => {
  const messages = textConversation(8);
  const before = JSON.stringify(messages);
  const { messages: sent, elided } = lastNObservations(messages, 3);
  assert.equal(JSON.stringify(messages), before, 'the conversation itself is not changed');
  assert.equal(observationIndexes(messages).length, 8);
  assert.deepEqual(elided, [3, 5, 7, 9, 11]);
  // SWE-agent's count: (total observations including the instance template) - n - 1.
  assert.equal(sent.filter((m) => m.content?.startsWith('Old environment output')).length, 9 - 3 - 1);
  assert.equal(sent[1]!.content, 'the task\nin two lines');
  assert.equal(sent[5]!.content, 'Old environment output: (2 lines omitted)');
  assert.equal(sent[13]!.content, messages[13]!.content, 'the last three observations in full');
  assert.ok(sent.filter((m) => m.role === 'assistant').every((m, i) => m.content === `step ${i}`));
  assert.deepEqual(lastNObservations(textConversation(2), 3).elided, [], 'fewer observations than n: nothing elided');
  assert.throws(() => lastNObservations(messages, 0), /n must be a positive integer/);
  // What a step recorded, applied again (exports): the same messages as were sent.
  assert.deepEqual(messagesAsSent(messages, { history: { processor: 'last_n_observations', n: 3, elided } }), sent);
});

test('tool mode: tool results are the observations; a format-error user message too', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 's' },
    { role: 'user', content: 'task' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'bash', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'bash', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'a', content: 'one' },
    { role: 'tool', tool_call_id: 'b', content: 'two' },
    { role: 'assistant', content: 'no tool call' },
    { role: 'user', content: 'Please call a tool.' },
  ];
  assert.deepEqual(observationIndexes(messages), [3, 4, 6]);
  assert.deepEqual(lastNObservations(messages, 1).elided, [3, 4]);
});

test("a context overflow is a 400 that says so, in OpenAI's, vLLM's, Anthropic's or Gemini's words; other 400s and 413s are not", () => {
  const e = (status: number, message: string) => Object.assign(new Error(message), { status });
  assert.ok(isContextOverflow(e(400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.")));
  assert.ok(isContextOverflow(e(400, 'Input prompt (9000 tokens) is longer than the maximum model length of 8192.')));
  assert.ok(isContextOverflow(e(400, 'prompt is too long: 210000 tokens > 200000 maximum')));
  assert.ok(isContextOverflow(e(400, 'The input token count exceeds the maximum number of tokens allowed')));
  assert.ok(!isContextOverflow(e(400, 'Invalid value for temperature')));
  assert.ok(!isContextOverflow(e(500, "This model's maximum context length is 8192 tokens.")));
});
