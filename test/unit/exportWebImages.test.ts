/**
 * Exports of web trajectories with images (issue 20): a task image on the prompt and browser
 * screenshots sent to the model with their observation (ChatMessage.images on the `tool` message
 * in tools mode, on the observation's `user` message in text mode), built in code as the agent
 * loop records them, the PNG files written beside the trajectory (`<trajectory>.assets/`).
 * - ShareGPT: the `images` column lists the three images in conversation order, each turn holds
 *   one `<image>` per image it carries, and the row passes LLaMA-Factory's rules with a
 *   multimodal template (test/helpers/llamaFactory.ts); a literal `<image>` in a page's text is
 *   refused with the existing reason.
 * - ATIF: image content parts (v1.6) with absolute paths that Harbor's validator finds from a
 *   document written elsewhere; TrajLab → ATIF → TrajLab gives back the steps whole (screenshots
 *   in Observation.browser) and the images on the same messages; a trajectory without images is
 *   still ATIF-v1.5 with string contents; a foreign v1.6 file's image parts become message images.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExportFormat, ExportManifest } from '../../common/src/dataset';
import type { BrowserAction, ChatImage, ChatMessage, Observation, Step, Trajectory } from '../../common/src/trajectory';
import { toAtif } from '../../server/src/export/atif';
import { exportTrajectories } from '../../server/src/export/dataset';
import { importTrajectory } from '../../server/src/import/trajectoryFile';
import { trajectoryShapeProblem } from '../../server/src/import/trajectorySchema';
import { harborAtifErrors } from '../helpers/atifValidator';
import { checkShareGptRow, type Example } from '../helpers/llamaFactory';
import { runningTrajectory } from '../helpers/trajectories';
import { TRAJLAB_VERSION } from '../../server/src/version';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = any;

const BROWSER_TOOL = { type: 'function', function: { name: 'browser', description: 'Drive the page.', parameters: { type: 'object', properties: { action: { type: 'string' } }, required: ['action'] } } };

/** A file of `bytes` distinct bytes at `file` (made with its folder); its ChatImage reference. */
function imageFile(file: string, mime: string, seed: number): ChatImage {
  const data = Buffer.from(Array.from({ length: 64 + seed }, (_, i) => (i * 7 + seed) % 256));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
  return { path: file, mime, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

interface Web {
  t: Trajectory;
  /** The trajectory's file, written. */
  file: string;
  task: ChatImage;
  shots: ChatImage[];
}

/**
 * A web trajectory as the loop records it in `mode`: a task image on the prompt, two browser
 * `screenshot` steps whose PNG (in `<trajectory>.assets/`) was sent with the observation, then a
 * submit. `sent: false` records the screenshots without sending them. Written to `dir`.
 */
function webTrajectory(dir: string, mode: 'tools' | 'text', sent = true): Web {
  const file = path.join(dir, 'trajectories', 'web-shop.1.json');
  const task = imageFile(path.join(dir, 'tasks', 'shots', 'mockup.jpg'), 'image/jpeg', 1);
  const t = runningTrajectory('web-shop');
  t.agent.mode = mode;
  t.agent.version = TRAJLAB_VERSION;
  t.tools = mode === 'tools' ? [BROWSER_TOOL] : [];
  t.task = { ...t.task, description: 'What does the blue mug cost?', images: ['shots/mockup.jpg'] };
  t.messages = [
    { role: 'system', content: 's' },
    { role: 'user', content: 'What does the blue mug cost?', images: [task] },
  ];
  const shots: ChatImage[] = [];
  for (let i = 0; i < 3; i++) {
    const id = `call_${i}`;
    const last = i === 2;
    const action: Step['actions'][number] = last ? { kind: 'submit', answer: '$4' } : ({ kind: 'browser', action: 'screenshot', args: {} } satisfies BrowserAction);
    const reply = last ? 'The mug costs $4.' : `Look at the page (${i}).`;
    const call = { id, type: 'function' as const, function: { name: last ? 'submit' : 'browser', arguments: JSON.stringify(last ? { answer: '$4' } : { action: 'screenshot' }) } };
    const o: Observation = { stdout: '', stderr: '', exit_code: 0, truncated: false, timed_out: false, output_bytes: 0, duration_ms: 40 };
    if (!last) {
      const rel = `web-shop.1.assets/step-${i}-0.png`;
      const shot = imageFile(path.join(path.dirname(file), rel), 'image/png', 10 + i);
      shots.push(shot);
      o.stdout = `Screenshot saved: ${rel} (${shot.bytes} bytes, sha256 ${shot.sha256}).\nURL: http://shop.local/p${i}\nTitle: Shop ${i}\n[1] link "Blue mug"`;
      o.output_bytes = o.stdout.length;
      o.browser = { url: `http://shop.local/p${i}`, title: `Shop ${i}`, elements: 1, screenshot: { path: rel, mime: 'image/png', sha256: shot.sha256, bytes: shot.bytes } };
    }
    const images = !last && sent ? { images: [shots[i]!] } : {};
    if (mode === 'tools') {
      t.messages.push({ role: 'assistant', content: reply, tool_calls: [call] });
      t.messages.push({ role: 'tool', tool_call_id: id, content: o.stdout, ...images });
    } else {
      t.messages.push({ role: 'assistant', content: `${reply}\n\n\`\`\`browser\n{"action": "screenshot"}\n\`\`\`` });
      if (!last) t.messages.push({ role: 'user', content: o.stdout, ...images });
    }
    t.steps.push({
      index: i,
      started_at: `2025-01-01T00:00:0${i}.000Z`,
      ended_at: `2025-01-01T00:00:0${i}.500Z`,
      latency_ms: 300,
      response: mode === 'tools' ? { content: reply, tool_calls: [call] } : { content: t.messages.findLast((m) => m.role === 'assistant')!.content },
      usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      cost_usd: 0.001,
      actions: [mode === 'tools' ? { ...action, tool_call_id: id } : action],
      observations: [o],
    });
  }
  t.status = 'finished';
  t.started_at = '2025-01-01T00:00:00.000Z';
  t.ended_at = '2025-01-01T00:00:03.000Z';
  t.result = { exit_status: 'submitted', submission: '$4', diff: '', diff_stats: { files_changed: 0, insertions: 0, deletions: 0, files: [] }, evaluation: null, reward: 1, success: true };
  t.totals = { steps: 3, prompt_tokens: 300, completion_tokens: 30, cost_usd: 0.003, duration_ms: 3000 };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(t));
  return { t, file, task, shots };
}

/** Runs `fn` with a fresh temporary folder, removed afterwards. */
async function inTmp(fn: (dir: string) => unknown): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-web-images-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Exports `files` in `format` to `<dir>/out/data.jsonl`; the rows and the manifest. */
async function exportRows(dir: string, files: string[], format: ExportFormat): Promise<{ rows: Raw[]; manifest: ExportManifest }> {
  const out = path.join(dir, 'out', 'data.jsonl');
  const { manifest } = await exportTrajectories(files, { format, out, metadata: false, overwrite: true });
  const lines = fs.readFileSync(out, 'utf8').split('\n');
  lines.pop();
  return { rows: lines.map((l) => JSON.parse(l)), manifest };
}

const MULTIMODAL = { thoughtWords: ['<think>', '</think>'] as const, multimodal: true };

test('a browser trajectory passes the shape check of trajectory files (browser actions with their action and args); an unknown browser action is reported', () =>
  inTmp(async (dir) => {
    const { t } = webTrajectory(dir, 'tools');
    assert.equal(trajectoryShapeProblem(JSON.parse(JSON.stringify(t))), undefined);
    const bad = JSON.parse(JSON.stringify(t));
    bad.steps[0].actions[0].action = 'fly';
    assert.match(trajectoryShapeProblem(bad) ?? '', /^steps\[0\]\.actions\[0\]\.action: /);
  }));

for (const mode of ['tools', 'text'] as const) {
  test(`sharegpt, ${mode} mode: the task image and two sent screenshots are the images column in order, one <image> at the start of each turn that carried one; LLaMA-Factory keeps the row`, () =>
    inTmp(async (dir) => {
      const w = webTrajectory(dir, mode);
      const { rows } = await exportRows(dir, [w.file], 'sharegpt');
      const row = rows[0] as { conversations: { from: string; value: string }[]; images: string[] };
      assert.deepEqual(row.images, [w.task.path, ...w.shots.map((s) => s.path)]);
      for (const p of row.images) assert.ok(path.isAbsolute(p), p);
      const observation = mode === 'tools' ? 'observation' : 'human';
      const withImage = row.conversations.filter((c) => c.value.includes('<image>'));
      assert.deepEqual(
        withImage.map((c) => [c.from, c.value.split('<image>').length - 1, c.value.startsWith('<image>')]),
        [['human', 1, true], [observation, 1, true], [observation, 1, true]],
      );
      assert.equal(row.conversations[0]!.value, '<image>What does the blue mug cost?');
      assert.equal(withImage[1]!.value, `<image>${w.t.steps[0]!.observations[0]!.stdout}`);
      assert.deepEqual(checkShareGptRow(row as unknown as Example, MULTIMODAL), { kept: true, warnings: [] });
    }));
}

test('sharegpt: two screenshots answering parallel calls merge into one observation turn holding both placeholders, each before its own text', () =>
  inTmp(async (dir) => {
    const w = webTrajectory(dir, 'tools');
    const t = w.t;
    // Step 1's call made beside step 0's: one reply, two tool results in a row.
    const [a0, t0, a1, t1] = t.messages.splice(2, 4) as ChatMessage[];
    t.messages.splice(2, 0, { ...a0!, tool_calls: [...a0!.tool_calls!, ...a1!.tool_calls!] }, t0!, t1!);
    fs.writeFileSync(w.file, JSON.stringify(t));
    const row = (await exportRows(dir, [w.file], 'sharegpt')).rows[0];
    const turn = row.conversations[2];
    assert.equal(turn.from, 'observation');
    assert.equal(turn.value, `<image>${t0!.content}\n\n<image>${t1!.content}`);
    assert.deepEqual(row.images, [w.task.path, ...w.shots.map((s) => s.path)]);
    assert.deepEqual(checkShareGptRow(row, MULTIMODAL), { kept: true, warnings: [] });
  }));

test('sharegpt: a page whose text holds a literal <image> next to a sent screenshot is refused (media_placeholder_in_text); the openai export stays text-only', () =>
  inTmp(async (dir) => {
    const w = webTrajectory(dir, 'tools');
    const tool = w.t.messages.find((m) => m.role === 'tool')!;
    tool.content += '\n[2] img "<image> placeholder"';
    fs.writeFileSync(w.file, JSON.stringify(w.t));
    const { rows, manifest } = await exportRows(dir, [w.file], 'sharegpt');
    assert.equal(rows.length, 0);
    assert.deepEqual(manifest.counts.dropped_by_reason, { media_placeholder_in_text: 1 });
    assert.match(manifest.trajectories[0]!.detail!, /The number of images \(3\) does not match the number of <image> tokens \(4\)/);
    const openai = (await exportRows(dir, [w.file], 'openai')).rows[0];
    assert.ok(!JSON.stringify(openai).includes('image_url'));
    assert.deepEqual(openai.messages[3], { role: 'tool', tool_call_id: 'call_0', content: tool.content });
    // The row carries the browser tool calls and the tool's schema.
    assert.equal(openai.messages[2].tool_calls[0].function.name, 'browser');
    assert.ok(openai.tools.some((x: Raw) => x.function.name === 'browser'));
  }));

/** The trajectory without what ATIF does not carry (messages are rebuilt from the steps; the import's origin). */
function comparable(t: Trajectory): unknown {
  const { messages: _m, imported_from: _i, ...rest } = t;
  return rest;
}

/** The images of each message that has some, as [role, index among messages of that role, paths…]. */
function imagesByMessage(msgs: readonly ChatMessage[]): unknown[] {
  return msgs.flatMap((m) => (m.images?.length ? [[m.role, m.images]] : []));
}

for (const mode of ['tools', 'text'] as const) {
  test(`atif, ${mode} mode: ATIF-v1.6 image parts with absolute paths Harbor's validator finds; TrajLab → ATIF → TrajLab gives back steps, screenshots and message images`, () =>
    inTmp(async (dir) => {
      const w = webTrajectory(dir, mode);
      const { rows } = await exportRows(dir, [w.file], 'atif');
      const doc = rows[0];
      assert.equal(doc.schema_version, 'ATIF-v1.6');
      // Written into another folder than the trajectory's: absolute paths still resolve.
      const written = path.join(dir, 'elsewhere', 'trajectory.json');
      fs.mkdirSync(path.dirname(written));
      fs.writeFileSync(written, JSON.stringify(doc));
      assert.deepEqual(harborAtifErrors(doc, written), []);
      const user = doc.steps.find((s: Raw) => s.source === 'user');
      assert.deepEqual(user.message, [
        { type: 'text', text: 'What does the blue mug cost?' },
        { type: 'image', source: { media_type: 'image/jpeg', path: w.task.path } },
      ]);
      const results = doc.steps.filter((s: Raw) => s.source === 'agent').map((s: Raw) => s.observation?.results[0].content);
      assert.deepEqual(results.slice(0, 2), [0, 1].map((i) => [
        { type: 'text', text: w.t.steps[i]!.observations[0]!.stdout },
        { type: 'image', source: { media_type: 'image/png', path: w.shots[i]!.path } },
      ]));
      assert.equal(typeof results[2], 'string', 'a result without images stays a string');

      const back = importTrajectory(JSON.parse(JSON.stringify(doc)), written);
      assert.deepEqual(back.imported_from?.unknown_fields, []);
      assert.deepEqual(comparable(back), comparable(w.t));
      assert.deepEqual(back.steps.map((s) => s.observations[0]!.browser?.screenshot), w.t.steps.map((s) => s.observations[0]!.browser?.screenshot));
      assert.deepEqual(imagesByMessage(back.messages), imagesByMessage(w.t.messages));
    }));
}

test('atif: a screenshot recorded but not sent is an image part all the same, and comes back in Observation.browser only (no message image)', () =>
  inTmp(async (dir) => {
    const w = webTrajectory(dir, 'tools', false);
    const doc = toAtif(w.t, { file: w.file }) as Raw;
    assert.equal(doc.schema_version, 'ATIF-v1.6');
    assert.deepEqual(doc.steps[2].observation.results[0].content[1], { type: 'image', source: { media_type: 'image/png', path: w.shots[0]!.path } });
    assert.deepEqual(harborAtifErrors(doc), []);
    const back = importTrajectory(JSON.parse(JSON.stringify(doc)), path.join(dir, 'trajectory.json'));
    assert.deepEqual(comparable(back), comparable(w.t));
    assert.deepEqual(imagesByMessage(back.messages), [['user', [w.task]]]);
  }));

test('atif: a trajectory without images is ATIF-v1.5 with string contents, as before', () =>
  inTmp(async (dir) => {
    const w = webTrajectory(dir, 'tools', false);
    delete w.t.messages[1]!.images;
    for (const s of w.t.steps) for (const o of s.observations) if (o.browser) delete o.browser.screenshot;
    const doc = toAtif(w.t, { file: w.file }) as Raw;
    assert.equal(doc.schema_version, 'ATIF-v1.5');
    for (const s of doc.steps) {
      assert.equal(typeof s.message, 'string');
      for (const r of s.observation?.results ?? []) assert.equal(typeof r.content, 'string');
    }
    assert.equal(JSON.stringify(toAtif(w.t)), JSON.stringify(doc), 'the file only matters for image paths');
    assert.equal(doc.extra.trajlab.prompt_images, undefined);
  }));

test('atif import of a foreign v1.6 file: image parts with a path become the images of the prompt and of the tool message (absolute against the file, size unknown); a URL image stays in the text', () =>
  inTmp(async (dir) => {
    const file = path.join(dir, 'trial', 'agent', 'trajectory.json');
    const doc = {
      schema_version: 'ATIF-v1.6',
      session_id: 's',
      agent: { name: 'computer-use', version: '1' },
      steps: [
        { step_id: 1, source: 'user', message: [{ type: 'text', text: 'Open the shop.' }, { type: 'image', source: { media_type: 'image/png', path: 'images/task.png' } }] },
        {
          step_id: 2,
          source: 'agent',
          message: '',
          tool_calls: [{ tool_call_id: 'c1', function_name: 'bash', arguments: { command: 'xdg-open http://shop' } }],
          observation: {
            results: [
              {
                source_call_id: 'c1',
                content: [
                  { type: 'text', text: 'opened' },
                  { type: 'image', source: { media_type: 'image/png', path: 'images/step1.png' } },
                  { type: 'image', source: { media_type: 'image/png', path: 'https://cdn.example/x.png' } },
                ],
              },
            ],
          },
        },
      ],
    };
    assert.deepEqual(harborAtifErrors(doc), []);
    const t = importTrajectory(doc, file);
    const images = path.join(dir, 'trial', 'agent', 'images');
    assert.deepEqual(t.messages[0], { role: 'user', content: 'Open the shop.', images: [{ path: path.join(images, 'task.png'), mime: 'image/png', sha256: '', bytes: 0 }] });
    const tool = t.messages.find((m) => m.role === 'tool')!;
    assert.equal(tool.content, 'opened\n[image: https://cdn.example/x.png]');
    assert.deepEqual(tool.images, [{ path: path.join(images, 'step1.png'), mime: 'image/png', sha256: '', bytes: 0 }]);
    assert.ok(t.imported_from?.unknown_fields.includes('messages.images.bytes'));
    // Exported again: the same parts, the paths now absolute.
    const again = toAtif(t) as Raw;
    assert.equal(again.schema_version, 'ATIF-v1.6');
    assert.deepEqual(again.steps[0].message[1], { type: 'image', source: { media_type: 'image/png', path: path.join(images, 'task.png') } });
    assert.deepEqual(again.steps[1].observation.results[0].content.slice(1), [{ type: 'image', source: { media_type: 'image/png', path: path.join(images, 'step1.png') } }]);
  }));
