/**
 * The `browser` tool end to end (issue 20): real Chromium in a real trajlab/browser:1 container
 * with network `none`, the example shop site (examples/web/shop/, served in the same container
 * by its server.py), and the run engine driven by the scripted OpenAI-compatible server
 * (test/helpers/scriptedModelServer.ts). Needs scripts/build-browser-image.sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { taskPrompt, type Task } from '../../common/src/task';
import type { Trajectory } from '../../common/src/trajectory';
import { BrowserSession } from '../../server/src/browser/session';
import { writeContainerFile } from '../../server/src/runtime/archive';
import { Sandbox } from '../../server/src/runtime/sandbox';
import { stderrLogger } from '../../server/src/util/log';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import { RunEngine } from '../../server/src/run/engine';
import { containersOfRun, dockerClient, listTree, memoryLogger, readTasks, readTrajectory, removeContainersOfRun, tempDir, waitFor, within } from '../helpers/engineHelpers';
import { BUILT_CLI, runCli, startCli } from '../helpers/cli';
import { checkShareGptRow, type Example } from '../helpers/llamaFactory';
import { perTask, submit, textReply, toolReply, type CallSpec, type RequestContext, type Reply } from '../helpers/scriptedModelServer';

const WEB = path.join(__dirname, '..', '..', 'examples', 'web');
const SITE = 'http://127.0.0.1:8000';
const EXAMPLES = readTasks(path.join(WEB, 'tasks.jsonl'));
const example = (id: string): Task => EXAMPLES.find((t) => t.task_id === id)!;

const browser = (args: Record<string, unknown>): CallSpec => ({ name: 'browser', arguments: args });

/** The text of the conversation's last tool message (the latest observation). */
function lastObservation(ctx: RequestContext): string {
  const m = [...ctx.body.messages].reverse().find((x) => x.role === 'tool');
  return typeof m?.content === 'string' ? m.content : '';
}

/** The element id of `what` (`link "Catalog"`) in the latest observation. */
function idOf(ctx: RequestContext, what: string): number {
  const m = new RegExp(`\\[(\\d+)\\] ${what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).exec(lastObservation(ctx));
  assert.ok(m, `no ${what} in the observation:\n${lastObservation(ctx)}`);
  return Number(m[1]);
}

/** A script whose step i is `steps[i](ctx)`. */
function steps(...replies: ((ctx: RequestContext) => Reply)[]): (ctx: RequestContext) => Reply {
  return (ctx) => replies[ctx.step]!(ctx);
}

/** The example tasks with absolute repos, written to `dir`, plus `extra` tasks. */
function tasksFile(dir: string, tasks: Task[]): string {
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, tasks.map((t) => JSON.stringify({ ...t, workspace: { ...t.workspace, repo: path.join(WEB, t.workspace!.repo!) } })).join('\n') + '\n');
  return file;
}

test('browser tasks (scripted model): goto → click → read finds the price (reward 1), type + submit changes the server\'s state (reward 1), a wrong click sequence gets 0; steps, observations and screenshots recorded; network none', { timeout: 240_000 }, async () => {
  const price = example('web-shop__gadget-price');
  // The form task's eval also queries the final page the agent left ($TRAJLAB_PAGE_DIR).
  const contact = example('web-shop__contact-form');
  const form: Task = { ...contact, eval: { commands: [...(contact.eval as string[]), `grep -q 'Thanks, Alice' "$TRAJLAB_PAGE_DIR/text" && grep -q '<h1>Thanks, Alice</h1>' "$TRAJLAB_PAGE_DIR/html" && python3 -c "import json,os; p=json.load(open(os.environ['TRAJLAB_PAGE_DIR'] + '/page.json')); assert p['url'].endswith('/submit'), p"`] } };
  const wrong: Task = { ...price, task_id: 'web-shop__gadget-price-wrong', description: `${price.description} (Look around first.)` };
  const tmp = tempDir('browser');
  try {
    const scripts = new Map<string, (ctx: RequestContext) => Reply>([
      [taskPrompt(price), steps(
        () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
        (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Catalog"') })),
        () => toolReply(browser({ action: 'read' })),
        () => toolReply(browser({ action: 'screenshot' })),
        () => toolReply(submit('<answer>$12.00</answer>')),
      )],
      [taskPrompt(wrong), steps(
        () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
        (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Contact"') })),
        () => toolReply(browser({ action: 'read' })),
        () => toolReply(submit('<answer>$3.50</answer>')),
      )],
      [taskPrompt(form), steps(
        () => toolReply(browser({ action: 'goto', url: `${SITE}/contact.html` })),
        (ctx) => toolReply(browser({ action: 'type', element_id: idOf(ctx, 'textbox "Name"'), text: 'Alice' })),
        (ctx) => toolReply(browser({ action: 'type', element_id: idOf(ctx, 'textbox "Message"'), text: 'hello', submit: true })),
        () => toolReply(submit()),
      )],
    ]);
    await withServer(perTask(scripts), async (server) => {
      const file = tasksFile(tmp.dir, [price, wrong, form]);
      const { report, traj, engine, logger } = await runEngine({ tasksFile: file, out: tmp.dir, workers: 2 }, { server, timeoutMs: 200_000 });
      const t = traj(price.task_id);
      assert.equal(t.result!.reward, 1, JSON.stringify(t.result, null, 1).slice(0, 2000));
      assert.deepEqual((t.tools as { function: { name: string } }[]).map((x) => x.function.name), ['bash', 'str_replace_based_edit', 'browser', 'submit']);
      assert.deepEqual(t.steps.map((s) => s.actions[0]!.kind === 'browser' ? s.actions[0]!.action : s.actions[0]!.kind), ['goto', 'click', 'read', 'screenshot', 'submit']);
      const [goto, click, read, shot] = t.steps.map((s) => s.observations[0]!);
      assert.equal(goto!.exit_code, 0, goto!.stderr);
      assert.equal(goto!.browser?.url, `${SITE}/`);
      assert.equal(goto!.browser?.title, 'Shop');
      assert.match(goto!.stdout, /^URL: http:\/\/127\.0\.0\.1:8000\/\nTitle: Shop\n/);
      assert.match(goto!.stdout, /\[1\] link "Catalog" → catalog\.html/);
      assert.equal(click!.browser?.url, `${SITE}/catalog.html`);
      assert.match(click!.stdout, /row "Gadget \$12\.00"|cell "\$12\.00"/);
      assert.match(read!.stdout, /Gadget\s+\$12\.00/);
      // The observation the model got is the step's observation.
      const toolMessages = t.messages.filter((m) => m.role === 'tool');
      assert.equal(toolMessages[2]!.content, read!.stdout);
      // The screenshot: a PNG beside the trajectory, referenced by path and sha256.
      const png = shot!.browser?.screenshot;
      assert.ok(png, JSON.stringify(shot));
      const trajFile = engine.store.trajectoryPath(price.task_id, 1);
      const bytes = fs.readFileSync(path.join(path.dirname(trajFile), png.path));
      assert.equal(png.path, `${path.basename(trajFile, '.json')}.assets/step-3-0.png`);
      assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
      assert.equal(png.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(png.bytes, bytes.length);
      assert.ok(!fs.readFileSync(trajFile, 'utf8').includes('iVBOR'), 'no PNG inlined in the trajectory');

      const w = traj(wrong.task_id);
      assert.equal(w.result!.reward, 0);
      assert.equal(w.result!.evaluation?.method, 'answer');
      assert.equal(w.steps[1]!.observations[0]!.browser?.url, `${SITE}/contact.html`);

      const f: Trajectory = traj(form.task_id);
      assert.equal(f.result!.reward, 1, JSON.stringify(f.result!.evaluation, null, 1).slice(0, 2000));
      assert.equal(f.result!.evaluation?.method, 'exit_code');
      assert.deepEqual(f.result!.evaluation!.commands.map((c) => [c.observation.exit_code, c.observation.stderr]), [[0, ''], [0, '']]);
      const sent = f.steps[2]!.observations[0]!;
      assert.equal(sent.exit_code, 0, sent.stderr);
      assert.equal(sent.browser?.url, `${SITE}/submit`);
      assert.match(sent.stdout, /heading "Thanks, Alice"/);
      assert.equal(report.resolved, 2);
      assert.equal(f.task.network, undefined, 'the task runs with the default network: none');
      // A model nothing says takes images: the log says once how to send it screenshots.
      const told = (logger.lines as string[]).filter((l) => l.includes('browser observations go without screenshots'));
      assert.equal(told.length, 1, logger.lines.join('\n'));
      assert.match(told[0]!, /openai:scripted: .*"vision": true.*"screenshots": true/);
    });
  } finally {
    tmp.cleanup();
  }
});

test('eval.url_matches and eval.page_contains (scripted model): the link chain followed to its end gets 1 (reward source page), stopping one page short gets 0 with the failed check recorded; the replay of the first in a fresh container gives the recorded observations', { timeout: 180_000 }, async () => {
  const tour = example('web-shop__tour-secret');
  const short: Task = { ...tour, task_id: 'web-shop__tour-secret-short', description: `${tour.description} (Be quick.)` };
  const tmp = tempDir('browser-eval');
  try {
    const follow = (n: number) => steps(
      () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
      (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Start the tour"') })),
      ...Array.from({ length: n }, () => (ctx: RequestContext) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Next stop"') }))),
      () => toolReply(submit('<answer>lantern</answer>')),
    );
    await withServer(perTask(new Map([[taskPrompt(tour), follow(2)], [taskPrompt(short), follow(1)]])), async (server) => {
      const first = await runEngine({ tasksFile: tasksFile(tmp.dir, [tour, short]), out: tmp.dir, workers: 2 }, { server, timeoutMs: 150_000 });
      const { traj } = first;
      const ok = traj(tour.task_id).result!.evaluation!;
      assert.equal(ok.method, 'page');
      assert.deepEqual(ok.page, { url: `${SITE}/tour3.html`, title: 'Tour, stop 3', url_matches: true, page_contains: true, passed: true });
      assert.deepEqual(ok.answer, { expected: 'lantern', got: 'lantern' });
      assert.equal(ok.reward, 1);
      const no = traj(short.task_id).result!.evaluation!;
      assert.equal(no.method, 'page');
      assert.deepEqual(no.page, { url: `${SITE}/tour2.html`, title: 'Tour, stop 2', url_matches: false, page_contains: false, passed: false });
      assert.equal(no.reward, 0);

      // Replayed without the model in a fresh container, the browser actions are done again and
      // give the recorded observations (same pages, same numbered trees) and the same reward.
      const recordedPath = first.engine.store.trajectoryPath(tour.task_id, 1);
      const recorded = readTrajectory(recordedPath);
      const replay = await runEngine({ tasksFile: tasksFile(tmp.dir, [tour, short]), out: tmp.dir, model: `replay:${recordedPath}`, runId: 'browser-replay' }, { timeoutMs: 150_000 });
      const r = replay.traj(tour.task_id);
      assert.equal(r.agent.policy, 'replay');
      assert.deepEqual(r.steps.map((x) => x.actions), recorded.steps.map((x) => x.actions));
      assert.deepEqual(r.result!.replay, { source: recordedPath, steps_compared: recorded.steps.length, differences: [] });
      assert.deepEqual(r.steps.map((x) => x.observations[0]!.browser?.title), recorded.steps.map((x) => x.observations[0]!.browser?.title));
      assert.equal(r.result!.reward, 1);
    });
  } finally {
    tmp.cleanup();
  }
});

test('a page with 5,000 elements is cut to the budget with the cut recorded; a page that never finishes loading times out the action, and the next action works', { timeout: 120_000 }, async () => {
  const sandbox = await Sandbox.create(dockerClient(), { image: 'trajlab/browser:1', runId: 'test-browser', taskId: 'big-page', attempt: 1, workdir: '/workspace', logger: stderrLogger, network: 'none' });
  try {
    const big = `<!doctype html><title>Big</title><ul>${Array.from({ length: 5000 }, (_, i) => `<li><a href="#${i}">Link ${i}</a></li>`).join('')}</ul>`;
    await writeContainerFile(sandbox, '/tmp/big.html', big);
    const ready = await sandbox.exec(
      `cd /tmp && (setsid python3 -m http.server 8001 --bind 127.0.0.1 >/tmp/http.log 2>&1 &) && ` +
        `for i in $(seq 100); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8001/big.html')" 2>/dev/null && exit 0; sleep 0.1; done; exit 1`,
      { timeoutSec: 60, outputCap: 65536 },
    );
    assert.equal(ready.exit_code, 0, ready.stderr);
    const session = BrowserSession.of(sandbox);
    const o = await session.act({ kind: 'browser', action: 'goto', args: { url: 'http://127.0.0.1:8001/big.html' } }, { budgetChars: 16_000 });
    assert.equal(o.exit_code, 0, o.stderr);
    assert.ok(o.stdout.length < 16_500, `observation ${o.stdout.length} characters`);
    assert.ok(o.browser?.cut, 'the cut is recorded');
    assert.equal(o.browser.cut.total_elements, 5000);
    assert.ok(o.browser.cut.shown_lines < o.browser.cut.total_lines);
    assert.equal(o.browser.elements, 5000);
    assert.equal(o.truncated, true);
    assert.match(o.stdout, /\[cut: \d+ of \d+ lines shown/);
    // find reaches what the cut left out, with its element id.
    const found = await session.act({ kind: 'browser', action: 'find', args: { text: 'Link 4999' } });
    assert.match(found.stdout, /\[5000\] link "Link 4999"/);

    // A page that never finishes loading: the action times out, the attempt (session) goes on.
    await writeContainerFile(sandbox, '/workspace/server.py', fs.readFileSync(path.join(WEB, 'shop', 'server.py'), 'utf8'));
    const started = await sandbox.exec(`cd /workspace && (setsid python3 server.py >/tmp/shop.log 2>&1 &) && for i in $(seq 100); do python3 -c "import urllib.request; urllib.request.urlopen('${SITE}/server.py')" 2>/dev/null && exit 0; sleep 0.1; done; cat /tmp/shop.log; exit 1`, { timeoutSec: 60, outputCap: 65536 });
    assert.equal(started.exit_code, 0, started.stdout + started.stderr);
    const t0 = performance.now();
    const slow = await session.act({ kind: 'browser', action: 'goto', args: { url: `${SITE}/hang` } }, { timeoutMs: 3000 });
    assert.equal(slow.timed_out, true, JSON.stringify(slow));
    assert.equal(slow.exit_code, 124);
    assert.match(slow.stderr, /timed out after 3 s/);
    assert.ok(performance.now() - t0 < 15_000);
    const next = await session.act({ kind: 'browser', action: 'goto', args: { url: 'http://127.0.0.1:8001/big.html' } }, { timeoutMs: 10_000 });
    assert.equal(next.exit_code, 0, next.stderr);
    assert.equal(next.browser?.title, 'Big');
  } finally {
    await sandbox.remove();
  }
});

/** The image parts (data URLs) of a request's message. */
function imageUrls(m: { content: unknown }): string[] {
  return Array.isArray(m.content) ? (m.content as { type: string; image_url?: { url: string } }[]).filter((p) => p.type === 'image_url').map((p) => p.image_url!.url) : [];
}

test('screenshots go to the model (scripted model): a models-list entry with vision gets each tool result followed by its screenshot, only the latest 3 resent, and its ShareGPT export passes LLaMA-Factory\'s image-count rule; a task with "screenshots" gets them in text mode; every one is a PNG beside the trajectory', { timeout: 240_000 }, async () => {
  const price = example('web-shop__gadget-price');
  const text: Task = { ...price, task_id: 'web-shop__gadget-price-text', description: `${price.description} (Text mode.)`, screenshots: true };
  const tmp = tempDir('browser-vision');
  try {
    const toolSteps = steps(
      () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
      (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Catalog"') })),
      () => toolReply(browser({ action: 'scroll', direction: 'down' })),
      () => toolReply(browser({ action: 'read' })),
      () => toolReply(browser({ action: 'find', text: 'Gadget' })),
      () => toolReply(submit('<answer>$12.00</answer>')),
    );
    const block = (args: Record<string, unknown>) => textReply(`THOUGHT: next.\n\n\`\`\`browser\n${JSON.stringify(args)}\n\`\`\``);
    const textSteps = steps(
      () => block({ action: 'goto', url: `${SITE}/catalog.html` }),
      () => textReply("THOUGHT: done.\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\necho '<answer>$12.00</answer>'\n```"),
    );
    await withServer(perTask(new Map([[taskPrompt(price), toolSteps], [taskPrompt(text), textSteps]])), async (server) => {
      // Tools mode, a model that takes images (models-list `vision`).
      const out = path.join(tmp.dir, 'tools');
      const tools = await runEngine({ tasksFile: tasksFile(tmp.dir, [price]), out, models: [{ model: 'openai:scripted', base_url: server.baseUrl, vision: true }] }, { server, timeoutMs: 200_000 });
      const t = tools.traj(price.task_id);
      assert.equal(t.result!.reward, 1, JSON.stringify(t.result, null, 1).slice(0, 2000));
      const trajFile = tools.engine.store.trajectoryPath(price.task_id, 1);
      const folder = path.dirname(trajFile);
      const shots = t.steps.slice(0, 5).map((s) => s.observations[0]!.browser?.screenshot);
      shots.forEach((shot, i) => {
        assert.ok(shot, `step ${i} has a screenshot`);
        assert.equal(shot.path, `${path.basename(trajFile, '.json')}.assets/step-${i}-0.png`);
        assert.equal(createHash('sha256').update(fs.readFileSync(path.join(folder, shot.path))).digest('hex'), shot.sha256);
      });
      // The trajectory's tool messages carry their screenshot as an image.
      const toolMessages = t.messages.filter((m) => m.role === 'tool');
      assert.deepEqual(toolMessages.slice(0, 5).map((m) => m.images?.map((i) => i.path)), shots.map((s) => [path.join(folder, s!.path)]));
      // The request of step 1 (after goto): tool result, then a user message with its screenshot.
      const requests = [...server.requests];
      const second = requests[1]!.body.messages;
      assert.equal(second.at(-2)!.role, 'tool');
      assert.equal(second.at(-1)!.role, 'user');
      const [url] = imageUrls(second.at(-1)!);
      assert.ok(url, JSON.stringify(second.at(-1)).slice(0, 300));
      assert.equal(url, `data:image/png;base64,${fs.readFileSync(path.join(folder, shots[0]!.path)).toString('base64')}`);
      // The last request (after five browser actions) resends only the latest 3 screenshots, in order.
      const last = requests.at(-1)!.body.messages;
      const sent = last.flatMap(imageUrls);
      assert.deepEqual(sent, shots.slice(2).map((s) => `data:image/png;base64,${fs.readFileSync(path.join(folder, s!.path)).toString('base64')}`));
      // `trajlab export --format sharegpt` of the run: the five screenshots in `images`, one
      // <image> each, and the row passes LLaMA-Factory's rules for a multimodal template.
      const sft = path.join(tmp.dir, 'web.sharegpt.jsonl');
      const exported = await runCli(['export', tools.engine.store.dir, '--format', 'sharegpt', '--out', sft]);
      assert.equal(exported.code, 0, exported.stderr);
      const row = JSON.parse(fs.readFileSync(sft, 'utf8').trim()) as Example & { images: string[]; conversations: { value: string }[] };
      assert.deepEqual(row.images, shots.map((s) => path.join(folder, s!.path)));
      assert.equal(row.conversations.map((c) => c.value.split('<image>').length - 1).reduce((a, b) => a + b, 0), 5);
      assert.deepEqual(checkShareGptRow(row, { thoughtWords: ['<think>', '</think>'], multimodal: true }), { kept: true, warnings: [] });

      // Text mode, a model the registry does not know, the task asks for screenshots.
      const out2 = path.join(tmp.dir, 'text');
      const plain = await runEngine({ tasksFile: tasksFile(tmp.dir, [text]), out: out2, mode: 'text' }, { server, timeoutMs: 200_000 });
      const u = plain.traj(text.task_id);
      assert.equal(u.result!.reward, 1, JSON.stringify(u.result, null, 1).slice(0, 2000));
      const shot = u.steps[0]!.observations[0]!.browser?.screenshot;
      assert.ok(shot);
      const observed = u.messages.filter((m) => m.role === 'user')[1]!;
      assert.equal(observed.images?.length, 1);
      const req = server.requests[requests.length + 1]!.body.messages.at(-1)!;
      assert.equal(req.role, 'user');
      assert.equal(imageUrls(req).length, 1);
      assert.match((req.content as { type: string; text?: string }[])[0]!.text!, /^URL: http:\/\/127\.0\.0\.1:8000\/catalog\.html/m);
    });
  } finally {
    tmp.cleanup();
  }
});

test('the built CLI copied away from node_modules runs a browser task with its own playwright-core (dist/vendor, as the .vsix ships it; scripted model)', { timeout: 180_000 }, async () => {
  const price = example('web-shop__gadget-price');
  const tmp = tempDir('browser-dist');
  try {
    // dist/ alone, where no node_modules can be found by walking up.
    const dist = path.join(tmp.dir, 'dist');
    fs.cpSync(path.dirname(BUILT_CLI), dist, { recursive: true, filter: (src) => !src.endsWith('.map') && !src.includes(`${path.sep}webviews`) });
    assert.throws(() => require.resolve('playwright-core', { paths: [dist] }), /Cannot find module/);
    const script = steps(
      () => toolReply(browser({ action: 'goto', url: `${SITE}/catalog.html` })),
      () => toolReply(browser({ action: 'read' })),
      () => toolReply(submit('<answer>$12.00</answer>')),
    );
    await withServer(perTask(new Map([[taskPrompt(price), script]])), async (server) => {
      const out = path.join(tmp.dir, 'out');
      const r = await runCli(['generate', tasksFile(tmp.dir, [price]), '--model', 'openai:scripted', '--base-url', server.baseUrl, '--out', out, '--json'], { built: true, script: path.join(dist, 'trajlab.js'), cwd: tmp.dir, env: { ...process.env, OPENAI_API_KEY: 'sk-test' }, timeoutMs: 150_000 });
      assert.equal(r.code, 0, r.stderr);
      const file = listTree(out).find((f) => f.endsWith(`${price.task_id}.1.json`));
      assert.ok(file, r.stdout.slice(-2000));
      const t = JSON.parse(fs.readFileSync(file, 'utf8')) as Trajectory;
      assert.equal(t.steps[0]!.observations[0]!.exit_code, 0, t.steps[0]!.observations[0]!.stderr);
      assert.match(t.steps[1]!.observations[0]!.stdout, /Gadget\s+\$12\.00/);
      assert.equal(t.result!.reward, 1);
    });
  } finally {
    tmp.cleanup();
  }
});

test('a browser attempt cancelled mid-run leaves no container (and no Chromium); resumed, its browser steps are done again in a fresh container, so the tour goes on from the page it reached, each step once (scripted model)', { timeout: 240_000 }, async () => {
  const tour = example('web-shop__tour-secret');
  const tmp = tempDir('browser-resume');
  try {
    const script = steps(
      () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
      (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Start the tour"') })),
      (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Next stop"') })),
      (ctx) => toolReply(browser({ action: 'click', element_id: idOf(ctx, 'link "Next stop"') })),
      () => toolReply(submit('<answer>lantern</answer>')),
    );
    await withServer(perTask(new Map([[taskPrompt(tour), script]])), async (server) => {
      const options = { tasksFile: tasksFile(tmp.dir, [tour]), out: tmp.dir, runId: 'browser-resume', model: 'openai:scripted', baseUrl: server.baseUrl };
      let cancelled = false;
      const first: RunEngine = new RunEngine(options, {
        logger: memoryLogger(),
        env: { OPENAI_API_KEY: API_KEY },
        onEvent: (e) => {
          // Cancel once two browser steps are written (the page is at the tour's first stop).
          if (e.type === 'attempt' && e.state.kind === 'running' && e.state.step === 2 && !cancelled) {
            cancelled = true;
            queueMicrotask(() => first.cancel());
          }
        },
      });
      await within(first.run(), 120_000, 'the first run');
      assert.ok(cancelled, 'the attempt reached its third step');
      assert.deepEqual(await containersOfRun(first.runId), [], 'no container (and so no Chromium) is left');
      const before = readTrajectory(first.store.trajectoryPath(tour.task_id, 1));
      assert.equal(before.status, 'running');
      assert.equal(before.steps.length, 2);
      assert.equal(before.steps[1]!.observations[0]!.browser?.title, 'Tour, stop 1');

      const { traj } = await runEngine(options, { server, timeoutMs: 150_000 });
      const t = traj(tour.task_id);
      assert.deepEqual(t.steps.slice(0, 2), before.steps, 'the finished steps are kept as they were');
      assert.deepEqual(t.steps.map((s) => s.index), [0, 1, 2, 3, 4], 'each step once');
      // The resumed container's browser was taken back to stop 1: the next click leads to stop 2.
      assert.equal(t.steps[2]!.observations[0]!.browser?.title, 'Tour, stop 2');
      assert.equal(t.result!.evaluation!.method, 'page');
      assert.equal(t.result!.reward, 1, JSON.stringify(t.result!.evaluation));
    });
  } finally {
    tmp.cleanup();
  }
});

test('SIGTERM of generate while Chromium is open in an attempt: the CLI exits 143 within seconds (the CDP connection and its tunnel hold nothing), and no container is left (built CLI, scripted model)', { timeout: 180_000 }, async () => {
  const price = example('web-shop__gadget-price');
  const tmp = tempDir('browser-sigterm');
  const runId = 'browser-sigterm';
  try {
    const script = steps(
      () => toolReply(browser({ action: 'goto', url: `${SITE}/` })),
      // The model "thinks" for 35 s: the attempt waits with the browser open.
      () => toolReply(submit('<answer>$12.00</answer>'), null, { delayMs: 35_000 }),
    );
    await withServer(perTask(new Map([[taskPrompt(price), script]])), async (server) => {
      const out = path.join(tmp.dir, 'out');
      const cli = startCli(['generate', tasksFile(tmp.dir, [price]), '--model', 'openai:scripted', '--base-url', server.baseUrl, '--out', out, '--run-id', runId, '--no-progress'], { built: true, env: { ...process.env, OPENAI_API_KEY: API_KEY }, timeoutMs: 150_000 });
      const file = path.join(out, 'runs', runId, 'trajectories', `${price.task_id}.1.json`);
      await waitFor('the goto step written', () => fs.existsSync(file) && readTrajectory(file).steps.length === 1, 90_000, 100);
      assert.equal(readTrajectory(file).steps[0]!.observations[0]!.exit_code, 0);
      const sentAt = Date.now();
      cli.child.kill('SIGTERM');
      const r = await cli.done;
      assert.equal(r.code, 143, r.stderr);
      assert.ok(Date.now() - sentAt < 20_000, `exited ${Date.now() - sentAt} ms after SIGTERM`);
      assert.deepEqual(await containersOfRun(runId), [], 'no container (and so no Chromium) is left');
      assert.equal(readTrajectory(file).status, 'running', 'the attempt stays resumable');
    });
  } finally {
    await removeContainersOfRun(runId);
    tmp.cleanup();
  }
});
