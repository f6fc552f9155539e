/**
 * Task images (a task's `images`): the task schema and the per-line extension check, resolving
 * the files into ChatImage references, the OpenAI request conversion (content parts with data
 * URLs), and the trajectory schema's `messages[].images`. The ShareGPT export of images is in
 * exportFormats.test.ts; the whole path through Docker and the openai SDK in
 * test/integration/engine.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ChatMessage } from '../../common/src/trajectory';
import { imageDataUrl, resolveTaskImages } from '../../server/src/agent/images';
import { MAX_SENT_SCREENSHOTS, toOpenAIMessages } from '../../server/src/agent/model';
import { analyzeLine } from '../../server/src/language/lineAnalysis';
import { parseTaskLine } from '../../server/src/tasks/reader';
import trajectorySchema from '../../schemas/trajectory.schema.json';
import taskSchema from '../../schemas/task.schema.json';

/** A real 1×1 RGBA PNG (one red pixel), 70 bytes: signature, IHDR, IDAT, IEND with their CRCs. */
const RED_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489' +
    '0000000d4944415478da63f8cfc0f01f00050001ff56c72f0d0000000049454e44ae426082',
  'hex',
);
/** Its base64 and SHA-256, computed outside this code (Python's base64 and hashlib). */
const RED_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/VscvDQAAAABJRU5ErkJggg==';
const RED_PNG_SHA256 = '49e1dad481e94dfab7c9573a9a81d56aa2ca629fe15a3f7a910aa4f47601c00d';

function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-images-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function problems(text: string): string[] {
  const r = parseTaskLine(text, 1, new Map());
  return r.kind === 'rejected' ? r.problems.map((p) => p.message) : [];
}

test('task schema: images is a list of 1 to 16 non-empty image paths; other shapes are rejected', () => {
  const ok = parseTaskLine('{"task_id":"a","description":"x","eval":["true"],"images":["shots/a.png","/abs/B.JPEG","c.webp","d.gif","e.jpg"]}', 1, new Map());
  assert.equal(ok.kind, 'task');
  assert.deepEqual(ok.kind === 'task' && ok.task.images, ['shots/a.png', '/abs/B.JPEG', 'c.webp', 'd.gif', 'e.jpg']);
  assert.deepEqual(problems('{"task_id":"a","description":"x","images":"a.png"}'), ['"images" must be an array (got "a.png")']);
  assert.deepEqual(problems('{"task_id":"a","description":"x","images":[""]}'), ['"images.0" must not be empty']);
  assert.deepEqual(problems('{"task_id":"a","description":"x","images":[3]}'), ['"images.0" must be a string (got 3)']);
  const seventeen = JSON.stringify(Array.from({ length: 17 }, (_, i) => `${i}.png`));
  assert.deepEqual(problems(`{"task_id":"a","description":"x","images":${seventeen}}`), ['"images" must NOT have more than 16 items']);
});

test('an images entry without an image extension is a per-line error at that entry, for the CLI and the editor alike', () => {
  const line = '{"task_id":"a","description":"x","images":["ok.png","notes.txt","shots/"]}';
  const r = parseTaskLine(line, 1, new Map());
  assert.equal(r.kind, 'rejected');
  const ps = r.kind === 'rejected' ? r.problems : [];
  assert.deepEqual(ps.map((p) => p.message), [
    '"images.1" must be an image file ending in .png, .jpg, .jpeg, .gif, .webp (got "notes.txt")',
    '"images.2" must be an image file ending in .png, .jpg, .jpeg, .gif, .webp (got "shots/")',
  ]);
  assert.equal(ps[0]!.column, line.indexOf('"notes.txt"') + 1);
  assert.equal(ps[0]!.length, '"notes.txt"'.length);
  // The editor's diagnostics come from the same check.
  const a = analyzeLine(line);
  assert.equal(a.valid, false);
  assert.deepEqual(a.problems.filter((p) => p.severity === 'error').map((p) => p.offset), [line.indexOf('"notes.txt"'), line.indexOf('"shots/"')]);
});

test('resolveTaskImages: paths relative to the tasks folder or absolute, with MIME type, SHA-256 and size; clear errors', async () => {
  const tmp = tempDir();
  try {
    fs.mkdirSync(path.join(tmp.dir, 'shots'));
    fs.writeFileSync(path.join(tmp.dir, 'shots', 'red.png'), RED_PNG);
    fs.writeFileSync(path.join(tmp.dir, 'Pic.JPG'), 'not really a jpeg');
    const images = await resolveTaskImages(['shots/red.png', path.join(tmp.dir, 'Pic.JPG')], tmp.dir);
    assert.deepEqual(images, [
      { path: path.join(tmp.dir, 'shots', 'red.png'), mime: 'image/png', sha256: RED_PNG_SHA256, bytes: 70 },
      // SHA-256 of the 17 bytes "not really a jpeg" (Python hashlib).
      { path: path.join(tmp.dir, 'Pic.JPG'), mime: 'image/jpeg', sha256: '21ac2586e213d1f490778a07bf0025a98fc57595863a282372bac594b398322b', bytes: 17 },
    ]);
    await assert.rejects(resolveTaskImages(['shots/missing.png'], tmp.dir), (err: Error) => {
      assert.equal(
        err.message,
        `task image 1 "shots/missing.png" does not exist (looked for ${path.join(tmp.dir, 'shots', 'missing.png')}): the attempt cannot start; fix the path in "images" (relative to the tasks file, or absolute)`,
      );
      return true;
    });
    await assert.rejects(resolveTaskImages(['shots/red.png', 'shots.png'], tmp.dir), /task image 2 "shots.png" does not exist/);
    fs.mkdirSync(path.join(tmp.dir, 'dir.png'));
    await assert.rejects(resolveTaskImages(['dir.png'], tmp.dir), /task image 1 "dir.png" is a folder/);
    await assert.rejects(resolveTaskImages(['notes.txt'], tmp.dir), /task image 1 "notes.txt" is not a \.png \/ \.jpg \/ \.jpeg \/ \.gif \/ \.webp file/);
  } finally {
    tmp.cleanup();
  }
});

test('the OpenAI request: a user message with images becomes a text part then one image_url part per image, with base64 data URLs', async () => {
  const tmp = tempDir();
  try {
    const file = path.join(tmp.dir, 'red.png');
    fs.writeFileSync(file, RED_PNG);
    const [image] = await resolveTaskImages([file], tmp.dir);
    const prompt: ChatMessage = { role: 'user', content: 'What colour is this pixel?', images: [image!, image!] };
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You answer.' },
      prompt,
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }], reasoning: 'hm' },
      { role: 'tool', content: 'out', tool_call_id: 'c1' },
      { role: 'user', content: 'plain follow-up' },
    ];
    const url = `data:image/png;base64,${RED_PNG_BASE64}`;
    const expected = [
      { role: 'system', content: 'You answer.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What colour is this pixel?' },
          { type: 'image_url', image_url: { url } },
          { type: 'image_url', image_url: { url } },
        ],
      },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }] },
      { role: 'tool', content: 'out', tool_call_id: 'c1' },
      { role: 'user', content: 'plain follow-up' },
    ];
    assert.deepEqual(await toOpenAIMessages(messages), expected);
    assert.equal(await imageDataUrl(image!), url);

    // Read once per message object (one attempt): later sends reuse the parts even if the file goes.
    fs.rmSync(file);
    assert.deepEqual(await toOpenAIMessages(messages), expected);
    // A resumed attempt (new message objects from disk) reads the file again: gone is an error…
    const resumed = JSON.parse(JSON.stringify(messages)) as ChatMessage[];
    await assert.rejects(toOpenAIMessages(resumed), (err: Error) => err.message.startsWith(`cannot read the image ${file} to send it to the model: `));
    // …and so is a file whose bytes are no longer the recorded ones.
    fs.writeFileSync(file, Buffer.concat([RED_PNG, Buffer.from([0])]));
    await assert.rejects(toOpenAIMessages(resumed), /changed since the attempt recorded it \(sha256 [0-9a-f]{64}, recorded 49e1dad4/);
  } finally {
    tmp.cleanup();
  }
});

test('observation screenshots: a run of tool results is followed by one user message with their screenshots; a text-mode observation carries its own; only the latest MAX_SENT_SCREENSHOTS are resent, the task image always', async () => {
  const tmp = tempDir();
  try {
    const file = path.join(tmp.dir, 'red.png');
    fs.writeFileSync(file, RED_PNG);
    const [image] = await resolveTaskImages([file], tmp.dir);
    const img = image!;
    const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'browser', arguments: '{"action":"read"}' } });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'task', images: [img] },
      { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
      { role: 'tool', content: 'A', tool_call_id: 'a', images: [img] },
      { role: 'tool', content: 'B', tool_call_id: 'b', images: [img] },
      { role: 'assistant', content: 'next' },
      { role: 'user', content: 'C', images: [img] },
      { role: 'assistant', content: null, tool_calls: [call('d')] },
      { role: 'tool', content: 'D', tool_call_id: 'd', images: [img] },
    ];
    assert.equal(MAX_SENT_SCREENSHOTS, 3);
    const image_url = { url: `data:image/png;base64,${RED_PNG_BASE64}` };
    const part = { type: 'image_url', image_url };
    assert.deepEqual(await toOpenAIMessages(messages), [
      { role: 'user', content: [{ type: 'text', text: 'task' }, part] },
      { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
      { role: 'tool', content: 'A', tool_call_id: 'a' },
      { role: 'tool', content: 'B', tool_call_id: 'b' },
      // A's screenshot is the fourth newest: no longer sent.
      { role: 'user', content: [{ type: 'text', text: 'Screenshots of the page after tool call b, in order:' }, part] },
      { role: 'assistant', content: 'next' },
      { role: 'user', content: [{ type: 'text', text: 'C' }, part] },
      { role: 'assistant', content: null, tool_calls: [call('d')] },
      { role: 'tool', content: 'D', tool_call_id: 'd' },
      { role: 'user', content: [{ type: 'text', text: 'Screenshots of the page after tool call d, in order:' }, part] },
    ]);
  } finally {
    tmp.cleanup();
  }
});

test('trajectory schema: messages[].images references validate; a bad SHA-256 or a missing field does not', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema(taskSchema);
  const compiled = ajv.compile(trajectorySchema);
  const validate = (v: unknown): boolean => compiled(v);
  const trajectory = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'fixtures', 'export', 'runs', 'fx-a', 'trajectories', 'calc-add.1.json'), 'utf8'));
  trajectory.task.images = ['red.png'];
  trajectory.messages[1].images = [{ path: '/data/tasks/red.png', mime: 'image/png', sha256: RED_PNG_SHA256, bytes: 70 }];
  assert.ok(validate(trajectory), ajv.errorsText(compiled.errors));
  trajectory.messages[1].images[0].sha256 = 'ABC';
  assert.equal(validate(trajectory), false);
  trajectory.messages[1].images = [{ path: '/data/tasks/red.png', mime: 'image/png', sha256: RED_PNG_SHA256 }];
  assert.equal(validate(trajectory), false);
});
