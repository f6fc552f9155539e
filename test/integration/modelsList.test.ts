/**
 * Models lists in real runs: the local Docker engine, real git, and the real openai SDK talking
 * to scripted OpenAI-compatible servers on 127.0.0.1 (replies scripted, not produced by a
 * model; every test says so). Priority and fallback, rate limits that keep a server's limit,
 * 429s answered with retries and requeues, and attempts that give up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelEntry, RunInfo, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { modelRetries } from '../../server/src/metrics/metrics';
import { trainingMessages } from '../../server/src/export/chat';
import { listTree, readJson, removeContainersOfRun, tempDir } from '../helpers/engineHelpers';
import { runCli } from '../helpers/cli';
import { runEngine, withServer } from '../helpers/engineRuns';
import { bashReply, errorReply, refusedBaseUrl, runScript, submitReply, textReply, type MessageReply, type Responder } from '../helpers/scriptedModelServer';
import { AgentProtocol, MINI_SWE_AGENT, agentConfigHash } from '../../server/src/agent/agentConfig';
import { readStepTokens, tokenSidecarPath } from '../../server/src/store/tokenSidecar';

/** `n` tasks whose eval always passes; each is solved by `bash true` then a submit. */
function writeTasks(dir: string, n: number): string {
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `t${i + 1}`, task_type: 'code', description: `models list task ${i + 1}`, eval: ['true'] })).join('\n') + '\n');
  return file;
}

/** trajlab_model_retries_total now. */
async function retries(): Promise<number> {
  return (await modelRetries.get()).values.reduce((n, v) => n + v.value, 0);
}

const solve: Responder = (ctx) => runScript([bashReply('true'), submitReply('done')], ctx);


test('primary entry down (connection refused): attempts use the second entry; each step and the trajectory name it; its key (api_key_env) is written nowhere (scripted model server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('models-fallback');
  try {
    const tasksFile = writeTasks(tmp.dir, 3);
    const dead = await refusedBaseUrl();
    await withServer(solve, async (server) => {
      const models: ModelEntry[] = [
        { model: 'openai:gpt-4o-mini', name: 'primary', base_url: dead, max_retries: 0, cooldown_sec: 120 },
        { model: 'openai:gpt-4o-mini', name: 'fallback', base_url: server.baseUrl, api_key_env: 'FALLBACK_KEY' },
      ];
      const secret = 'fallback-secret-4242';
      const { report, traj, info, logger } = await runEngine({ tasksFile, out: tmp.dir, model: models[0]!.model, models, workers: 3 }, { env: { FALLBACK_KEY: secret }, secrets: [secret] });
      assert.equal(report.resolved, 3);
      for (const id of ['t1', 't2', 't3']) {
        const t = traj(id);
        assert.deepEqual(t.steps.map((s) => s.model), ['fallback', 'fallback']);
        assert.equal(t.model.base_url, server.baseUrl);
      }
      assert.ok(server.requests.every((r) => r.headers.authorization === `Bearer ${secret}`), 'the entry sends the key of its own variable');
      assert.equal(logger.lines.filter((l) => l.includes('model primary failed past its retries')).length, 1, 'benched once, then skipped during its cool-down');
      assert.deepEqual(info.options.models?.map((m) => m.name), ['primary', 'fallback']);
      assert.equal(report.rate_limited, undefined, 'a fallback is no requeue');
    });
  } finally {
    tmp.cleanup();
  }
});

/**
 * A responder that enforces a provider's quantised per-minute limit, as OpenAI describes its
 * "60 RPM" (at most 60 in any minute, no more than `perSecond` in any second): past it, 429.
 * Counts its 429s. Successful requests get `script`'s replies.
 */
function limitedServer(perSecond: number, perMinute: number, script: Responder): { respond: Responder; rejected: () => number } {
  const arrivals: number[] = [];
  let rejected = 0;
  return {
    rejected: () => rejected,
    respond: (ctx) => {
      const now = Date.now();
      while (arrivals.length && arrivals[0]! <= now - 60_000) arrivals.shift();
      if (arrivals.length >= perMinute || arrivals.filter((t) => t > now - 1000).length >= perSecond) {
        rejected++;
        return errorReply(429, { message: 'Rate limit reached for requests (scripted)' });
      }
      arrivals.push(now);
      return script(ctx);
    },
  };
}

test('rpm 60 on one entry and 32 workers against a server that allows 60 a minute (2 in any second): zero 429s and every attempt finishes; the same 32 workers without the limit get 429s (scripted model server)', { timeout: 240_000 }, async () => {
  const tmp = tempDir('models-rpm');
  try {
    const tasksFile = writeTasks(tmp.dir, 32);
    const submitAtOnce: Responder = (ctx) => runScript([submitReply('done')], ctx);
    const limited = limitedServer(2, 60, submitAtOnce);
    await withServer(limited.respond, async (server) => {
      const models: ModelEntry[] = [{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, rpm: 60 }];
      const { report } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'limited'), models, model: models[0]!.model, workers: 32 }, { timeoutMs: 180_000 });
      assert.equal(report.resolved, 32);
      assert.equal(server.requests.length, 32);
      assert.equal(limited.rejected(), 0, 'no request was turned away');
      const gaps = server.requests.slice(1).map((r, i) => r.receivedAt - server.requests[i]!.receivedAt);
      // Sent one a second; an arrival can come a little early or late (the connection, the event loop).
      assert.ok(Math.min(...gaps) >= 900, `requests about 1 s apart (gaps ${gaps.join(', ')} ms)`);
    });
    const unlimited = limitedServer(2, 60, submitAtOnce);
    await withServer(unlimited.respond, async (server) => {
      await runEngine({ tasksFile, out: path.join(tmp.dir, 'unlimited'), models: [{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, max_retries: 0, cooldown_sec: 0.1 }], model: 'openai:gpt-4o-mini', workers: 32, modelRequeues: 0 }, { timeoutMs: 180_000 });
      assert.ok(unlimited.rejected() > 0, '32 attempts at once break the limit');
    });
  } finally {
    tmp.cleanup();
  }
});

test('30% of requests answered 429 (some with retry-after-ms): every attempt finishes; an attempt whose model stays unavailable is requeued and continues from its journal, each step once; the report counts the requeues (scripted model server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('models-429');
  try {
    const tasksFile = writeTasks(tmp.dir, 4);
    // Requests 1, 2, 7, 11, 12, 17, …: 30%. With one worker, request 0 binds t1 to the first
    // entry, and 1 and 2 (its next request and that one's one retry) fail: t1 is requeued.
    let rejected = 0;
    const respond: Responder = (ctx) => {
      const r = ctx.callIndex % 10;
      if (r === 1 || r === 2 || r === 7) {
        rejected++;
        return errorReply(429, { message: 'Rate limit reached (scripted)', ...(r === 7 ? { retryAfterMs: 100 } : {}) });
      }
      return solve(ctx);
    };
    const retriesBefore = await retries();
    await withServer(respond, async (server) => {
      const models: ModelEntry[] = [{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, max_retries: 1, cooldown_sec: 0.2 }, { model: 'openai:gpt-4o-mini', name: 'spare', base_url: server.baseUrl, max_retries: 1 }];
      const { report, traj, events, engine } = await runEngine({ tasksFile, out: tmp.dir, models, model: models[0]!.model, workers: 1 }, { timeoutMs: 150_000 });
      assert.equal(report.resolved, 4, 'every attempt finished and passed');
      assert.ok(rejected >= 3, `${rejected} requests answered 429`);
      assert.ok((await retries()) - retriesBefore >= 2, 'the retries are counted (trajlab_model_retries_total)');
      assert.ok(report.rate_limited && report.rate_limited.requeues >= 1 && report.rate_limited.gave_up === 0, JSON.stringify(report.rate_limited));
      const requeued = fs.readFileSync(path.join(engine.store.dir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"attempt_requeued"'));
      assert.equal(requeued.length, report.rate_limited!.requeues);
      for (const id of ['t1', 't2', 't3', 't4']) {
        const t = traj(id);
        assert.deepEqual(t.steps.map((s) => s.index), [0, 1], `${id}: each step once`);
        assert.equal(new Set(t.steps.map((s) => s.model)).size, 1, `${id}: one model answered every step (no switch)`);
      }
      assert.ok(events.length > 0);
    });
  } finally {
    tmp.cleanup();
  }
});

test('a model that stays unavailable: after --model-requeues requeues the attempt ends in error with the model error; the report counts it as given up (scripted model server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('models-gaveup');
  try {
    const tasksFile = writeTasks(tmp.dir, 1);
    // The first answer binds the attempt; then the server is overloaded for good.
    const respond: Responder = (ctx) => (ctx.callIndex === 0 ? solve(ctx) : errorReply(503, { message: 'overloaded (scripted)' }));
    await withServer(respond, async (server) => {
      const models: ModelEntry[] = [{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, max_retries: 0, cooldown_sec: 0.1 }, { model: 'openai:gpt-4o-mini', name: 'other', base_url: server.baseUrl, max_retries: 0, cooldown_sec: 0.1 }];
      const { report, traj } = await runEngine({ tasksFile, out: tmp.dir, models, model: models[0]!.model, workers: 1, modelRequeues: 2 }, { timeoutMs: 60_000 });
      assert.deepEqual(report.rate_limited, { requeues: 2, gave_up: 1 });
      const t = traj('t1');
      assert.equal(t.result?.exit_status, 'error');
      assert.match(t.result?.error ?? '', /model call failed: HTTP 503: .*overloaded/);
      assert.equal(t.steps.length, 1, 'the step before the trouble is kept');
      assert.equal(report.error, 1);
    });
  } finally {
    tmp.cleanup();
  }
});

test('generate --models (the built CLI): a bad file stops the run before it starts with file:line:col: message; -m and a file make one list, recorded in run.json without keys, each step naming its entry (scripted model server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('models-cli');
  const runId = `cli-models-${process.pid}`;
  try {
    const tasksFile = writeTasks(tmp.dir, 2);
    const bad = path.join(tmp.dir, 'bad.yaml');
    fs.writeFileSync(bad, 'models:\n  - model: openai:gpt-4o-mini\n    rpm: -5\n');
    const out = path.join(tmp.dir, 'out');
    const refused = await runCli(['generate', tasksFile, '-o', out, '--models', bad, '--no-progress'], { built: true, timeoutMs: 60_000 });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `trajlab: ${bad}:3:10: "rpm" must be > 0\n`);
    assert.equal(fs.existsSync(out), false, 'no run folder for a run that never started');
    await withServer(solve, async (server) => {
      const good = path.join(tmp.dir, 'models.json');
      fs.writeFileSync(good, JSON.stringify({ models: [{ model: 'openai:gpt-4o-mini', name: 'scripted', base_url: server.baseUrl, api_key_env: 'SCRIPTED_KEY', rpm: 600 }] }));
      const dead = await refusedBaseUrl();
      const r = await runCli(['generate', tasksFile, '-o', out, '--run-id', runId, '-m', 'deepseek:deepseek-chat', '--models', good, '--no-progress'], {
        built: true,
        timeoutMs: 150_000,
        env: { ...process.env, DEEPSEEK_BASE_URL: dead, DEEPSEEK_API_KEY: 'ds-secret-1234567', SCRIPTED_KEY: 'scripted-secret-7654321' },
      });
      assert.equal(r.code, 0, r.stderr);
      const runDir = path.join(out, 'runs', runId);
      const info = readJson<RunInfo>(path.join(runDir, 'run.json'));
      assert.deepEqual(info.options.models?.map((m) => m.model), ['deepseek:deepseek-chat', 'openai:gpt-4o-mini']);
      assert.equal(info.options.model, 'deepseek:deepseek-chat');
      const report = readJson<RunReport>(path.join(runDir, 'report.json'));
      assert.equal(report.resolved, 2);
      for (const file of listTree(runDir)) {
        if (!fs.statSync(file).isFile()) continue;
        const text = fs.readFileSync(file, 'utf8');
        assert.ok(!text.includes('ds-secret-1234567') && !text.includes('scripted-secret-7654321'), `a key is written in ${file}`);
        if (file.endsWith('.json') && file.includes('trajectories')) assert.deepEqual((JSON.parse(text) as Trajectory).steps.map((s) => s.model), ['scripted', 'scripted']);
      }
      assert.match(r.stderr, /model deepseek:deepseek-chat failed past its retries \(Connection error\.\): benched for 30 s; new attempts go to scripted/);
    });
  } finally {
    await removeContainersOfRun(runId);
    tmp.cleanup();
  }
});

/** The observations a request sent in full (tool results not elided). */
function fullObservations(body: { messages: { role: string; content: unknown }[] }): number {
  return body.messages.filter((m) => m.role === 'tool' && !String(m.content).startsWith('Old environment output')).length;
}

test("a 400 \"maximum context length\" mid-attempt: the next request elides old observations (SWE-agent's last_n_observations), the attempt goes on and passes; steps record the elision and the export trains on what was sent (scripted model server)", { timeout: 120_000 }, async () => {
  const tmp = tempDir('models-context');
  try {
    const tasksFile = writeTasks(tmp.dir, 1);
    // Nine commands, then a submit; more than 4 whole observations in one request is "too long".
    const respond: Responder = (ctx) => {
      if (fullObservations(ctx.body) > 4) return errorReply(400, { message: "This model's maximum context length is 4096 tokens. However, your messages resulted in 5000 tokens. (scripted)" });
      return runScript([...Array.from({ length: 9 }, () => bashReply('seq 1 40')), submitReply('done')], ctx);
    };
    await withServer(respond, async (server) => {
      const { report, traj } = await runEngine({ tasksFile, out: tmp.dir, workers: 1 }, { server });
      assert.equal(report.resolved, 1);
      const overflows = server.requests.filter((r) => r.status === 400);
      assert.ok(overflows.length >= 1, 'the server said the conversation was too long');
      const after = server.requests[server.requests.indexOf(overflows[0]!) + 1]!;
      assert.equal(after.status, 200, 'the request after the 400 fits');
      const elidedTexts = after.body.messages.filter((m) => String(m.content).startsWith('Old environment output'));
      assert.ok(elidedTexts.length >= 1 && elidedTexts.every((m) => /^Old environment output: \(\d+ lines omitted\)$/.test(String(m.content))), JSON.stringify(elidedTexts));
      const t = traj('t1');
      assert.equal(t.steps.length, 10);
      const first = t.steps.findIndex((s) => s.history);
      assert.ok(first > 0 && t.steps.slice(first).every((s) => s.history?.processor === 'last_n_observations' && s.history.elided.length >= 1));
      assert.ok(t.steps.slice(0, first).every((s) => !s.history), 'steps before the overflow sent everything');
      // The trajectory keeps every observation whole; the training rows show what the model saw last.
      assert.ok(t.messages.every((m) => !String(m.content).startsWith('Old environment output')));
      const rows = trainingMessages(t);
      const elided = rows.filter((m) => String(m.content).startsWith('Old environment output'));
      assert.equal(elided.length, t.steps.findLast((s) => s.history)!.history!.elided.length);
    });
  } finally {
    tmp.cleanup();
  }
});

test("an entry's context_window: the conversation is cut before the server ever says it is too long (scripted model server)", { timeout: 120_000 }, async () => {
  const tmp = tempDir('models-window');
  try {
    const tasksFile = writeTasks(tmp.dir, 1);
    // Each observation is ~8.9 KB (~3,000 tokens by the chars/3 estimate); a window of 12,000 holds about three.
    await withServer((ctx) => runScript([...Array.from({ length: 6 }, () => bashReply('seq 1 2000')), submitReply('done')], ctx), async (server) => {
      const models: ModelEntry[] = [{ model: 'openai:scripted', base_url: server.baseUrl, context_window: 12_000 }];
      const { report, traj } = await runEngine({ tasksFile, out: tmp.dir, workers: 1, models, model: models[0]!.model }, { server });
      assert.equal(report.resolved, 1);
      assert.ok(server.requests.every((r) => r.status === 200));
      assert.ok(server.requests.every((r) => fullObservations(r.body) <= 3), `whole observations per request: ${server.requests.map((r) => fullObservations(r.body)).join(', ')}`);
      assert.ok(traj('t1').steps.some((s) => s.history));
    });
  } finally {
    tmp.cleanup();
  }
});

test('--record-tokens with a vLLM-style endpoint: prompt and completion token ids and log-probabilities are kept per step in the compressed sidecar, exported in ATIF step metrics, and intact after an ATIF import and export (scripted model server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('models-tokens');
  try {
    const tasksFile = writeTasks(tmp.dir, 1);
    // Token ids made from the step, so each step's are its own; the ids as vLLM writes them with return_tokens_as_token_ids.
    const tokensOf = (step: number) => ({ prompt: Array.from({ length: 20 + step }, (_, i) => 100 + i), completion: [1000 + step, 1001 + step, 1002 + step], logprobs: [-0.5, -0.25 - step / 8, -0.125] });
    const respond: Responder = (ctx) => {
      const t = tokensOf(ctx.step);
      const reply = runScript([bashReply('true'), submitReply('done')], ctx) as MessageReply;
      return {
        ...reply,
        responseExtra: { prompt_token_ids: t.prompt },
        choiceExtra: { token_ids: t.completion, logprobs: { content: t.completion.map((id, i) => ({ token: `token_id:${id}`, logprob: t.logprobs[i], bytes: null, top_logprobs: [] })) } },
      };
    };
    await withServer(respond, async (server) => {
      const { report, traj, engine } = await runEngine({ tasksFile, out: tmp.dir, workers: 1, model: 'vllm:scripted', baseUrl: server.baseUrl, recordTokens: true }, { server });
      assert.equal(report.resolved, 1);
      assert.ok(server.requests.every((r) => r.body.logprobs === true && r.body.return_token_ids === true && r.body.return_tokens_as_token_ids === true), 'vLLM is asked for ids and log-probabilities');
      const file = engine.store.trajectoryPath('t1', 1);
      const t = traj('t1');
      assert.deepEqual(t.steps.map((s) => s.token_record), [0, 1].map((i) => ({ prompt_token_ids: 20 + i, completion_token_ids: 3, logprobs: 3 })));
      assert.ok(!fs.readFileSync(file, 'utf8').includes('token_data'), 'the ids stay out of the trajectory JSON');
      const sidecar = await readStepTokens(file);
      assert.deepEqual(sidecar.get(1), { prompt_token_ids: tokensOf(1).prompt, completion_token_ids: tokensOf(1).completion, logprobs: tokensOf(1).logprobs });
      // ATIF export, then that ATIF read back and exported again: the metrics are the same numbers.
      const atif1 = path.join(tmp.dir, 'atif1');
      const first = await runCli(['export', engine.store.dir, '--format', 'atif', '--out', atif1]);
      assert.equal(first.code, 0, first.stderr);
      const doc = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.json') && !f.includes('manifest'))!), 'utf8')) as { steps: { source: string; metrics?: Record<string, unknown> }[] };
      const metrics1 = doc(atif1).steps.filter((s) => s.source === 'agent').map((s) => s.metrics);
      assert.deepEqual(metrics1.map((m) => [m?.prompt_token_ids, m?.completion_token_ids, m?.logprobs]), [0, 1].map((i) => [tokensOf(i).prompt, tokensOf(i).completion, tokensOf(i).logprobs]));
      const atif2 = path.join(tmp.dir, 'atif2');
      const second = await runCli(['export', atif1, '--format', 'atif', '--out', atif2]);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(doc(atif2).steps.filter((s) => s.source === 'agent').map((s) => s.metrics), metrics1);
      // A sidecar that cannot be read: the trajectory is exported without ids, and the export says why.
      fs.writeFileSync(tokenSidecarPath(file), 'not gzip');
      const atif3 = path.join(tmp.dir, 'atif3');
      const third = await runCli(['export', engine.store.dir, '--format', 'atif', '--out', atif3]);
      assert.equal(third.code, 0, third.stderr);
      assert.match(third.stderr, /warning: .*its token sidecar \(.*\.tokens\.jsonl\.gz\) cannot be read \(.*\): its steps are exported without token ids/);
      assert.ok(doc(atif3).steps.every((s) => s.metrics?.prompt_token_ids === undefined));
    });
  } finally {
    tmp.cleanup();
  }
});

test("--agent mini-swe-agent: mini-swe-agent's prompts, ```mswea_bash_command actions, its observation format and its submission message, in a real run; the config is in the trajectory and its hash in run.json (scripted model server)", { timeout: 120_000 }, async () => {
  const tmp = tempDir('agent-mini');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, JSON.stringify({ task_id: 'mini', task_type: 'code', description: 'Write hi into done.txt.', eval: ['grep -qx hi done.txt'] }) + '\n');
    const replies = [
      textReply('THOUGHT: I write the file.\n\n```mswea_bash_command\necho hi > done.txt\n```'),
      textReply('THOUGHT: two blocks by mistake.\n\n```mswea_bash_command\nls\n```\n```mswea_bash_command\npwd\n```'),
      textReply('THOUGHT: done.\n\n```mswea_bash_command\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat done.txt\n```'),
    ];
    await withServer((ctx) => runScript(replies, ctx), async (server) => {
      const { report, traj, info } = await runEngine({ tasksFile, out: tmp.dir, workers: 1, agent: 'mini-swe-agent' }, { server });
      assert.equal(report.resolved, 1);
      const t = traj('mini');
      const mini = new AgentProtocol(MINI_SWE_AGENT);
      assert.equal(t.agent.mode, 'text', "the config's mode");
      assert.equal(t.agent.config?.name, 'mini-swe-agent');
      assert.deepEqual(info.agent_config, { name: 'mini-swe-agent', sha256: agentConfigHash(MINI_SWE_AGENT) });
      assert.deepEqual(t.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
      assert.equal(t.messages[0]!.content, mini.systemPrompt({ workdir: '/workspace', commandTimeoutSec: 120, mode: 'text', tools: [] }));
      assert.equal(t.messages[1]!.content, mini.instanceMessage('Write hi into done.txt.', '', '/workspace'));
      assert.ok(t.messages[1]!.content!.startsWith('Please solve this issue: Write hi into done.txt.\n\nYou can execute bash commands'));
      assert.equal(t.messages[3]!.content, '<returncode>0</returncode>\n<output>\n</output>');
      assert.match(t.messages[5]!.content!, /^Please always provide EXACTLY ONE action in triple backticks, found 2 actions\./);
      assert.equal(t.messages[7]!.content, 'hi\n', 'the submission goes back as the last user message');
      assert.equal(t.result?.submission, 'hi\n');
      assert.deepEqual(server.requests[0]!.body.messages.map((m) => m.content), t.messages.slice(0, 2).map((m) => m.content), 'what the model was sent');
    });
  } finally {
    tmp.cleanup();
  }
});
