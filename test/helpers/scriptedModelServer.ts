/**
 * A scripted OpenAI-compatible chat-completions server for integration tests: a real HTTP
 * server (node:http on 127.0.0.1, a free port) that the real openai SDK talks to. Replies are
 * scripted by the test, not produced by a model; test names that use it say "(scripted model
 * server)".
 *
 * How a request is identified:
 * - `prompt`: the content of the first user message (the task prompt), so parallel attempts of
 *   different tasks each get their own script (see `perTask`);
 * - `step`: how many assistant messages the request already holds, so a retried request (429)
 *   gets the same reply again and a resumed conversation continues where it stopped;
 * - `conversation`: 1, 2, … per prompt, so two attempts of the same task can be told apart.
 *   It is allocated on the first request of a conversation and carried in the ids of the tool
 *   calls the server returns (`call_c<conversation>_s<step>_<i>`); a conversation whose replies
 *   hold no tool call (text mode) reports conversation 1.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The JSON body the SDK posts to /v1/chat/completions (the fields tests look at). */
export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string | null | unknown[]; tool_calls?: ScriptToolCall[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; parameters?: unknown } }[];
  temperature?: number;
  stream?: boolean;
  [key: string]: unknown;
}

export interface ScriptToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Cached prompt tokens, as OpenAI (and DeepSeek) report them. */
  prompt_tokens_details?: { cached_tokens: number };
  /** The request's cost in USD, as OpenRouter and LiteLLM proxies report it. */
  cost?: number;
}

/** A successful reply: one assistant message. */
export interface MessageReply {
  kind: 'message';
  content: string | null;
  /** Tool calls; ids are filled in (`call_c<conv>_s<step>_<i>`) where not given. */
  tool_calls?: { id?: string; name: string; arguments: Record<string, unknown> | string }[];
  /** Token usage to report; default computed from the sizes of request and reply; null omits it. */
  usage?: Usage | null;
  /** Wait this long before answering (on top of the server's `delayMs`). */
  delayMs?: number;
  /** Fields added to the choice (vLLM's `token_ids`, OpenAI's `logprobs`). */
  choiceExtra?: Record<string, unknown>;
  /** Fields added to the response (vLLM's `prompt_token_ids`). */
  responseExtra?: Record<string, unknown>;
}

/** An HTTP error reply (e.g. 429 with `retry-after-ms`). */
export interface ErrorReply {
  kind: 'error';
  status: number;
  message?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export type Reply = MessageReply | ErrorReply;

/** What the responder is told about one request. */
export interface RequestContext {
  body: ChatRequestBody;
  headers: http.IncomingHttpHeaders;
  /** 0-based index of this request among all requests the server got. */
  callIndex: number;
  /** Content of the first user message (the task prompt). */
  prompt: string;
  /** Assistant messages already in the conversation (0 on its first request). */
  step: number;
  /** 1-based conversation number for this prompt (see the file comment). */
  conversation: number;
}

export type Responder = (ctx: RequestContext) => Reply | Promise<Reply>;

/** One request as the server recorded it. */
export interface RecordedRequest {
  callIndex: number;
  receivedAt: number;
  body: ChatRequestBody;
  headers: http.IncomingHttpHeaders;
  prompt: string;
  step: number;
  conversation: number;
  /** HTTP status answered (0 when the client went away before the answer). */
  status: number;
  /** The usage sent back (successful replies with usage only). */
  usage?: Usage;
  /** The assistant message sent back, for successful replies. */
  message?: { role: 'assistant'; content: string | null; tool_calls?: ScriptToolCall[] };
}

export interface ScriptedServerOptions {
  respond: Responder;
  /** Delay before every successful reply, ms (makes runs slow enough to interrupt). */
  delayMs?: number;
}

export interface ScriptedModelServer {
  /** `http://127.0.0.1:<port>/v1`, for `baseUrl` / `--base-url`. */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Successful replies' usage, summed. */
  usageTotals(): { prompt_tokens: number; completion_tokens: number };
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 (port 0). Close it with `close()` (open connections are cut). */
export async function startScriptedModelServer(options: ScriptedServerOptions): Promise<ScriptedModelServer> {
  const requests: RecordedRequest[] = [];
  const nextConversation = new Map<string, number>();
  const freeConversations = new Map<string, number[]>();
  let callIndex = 0;

  const allocate = (prompt: string): number => {
    const free = freeConversations.get(prompt);
    if (free?.length) {
      free.sort((a, b) => a - b);
      return free.shift()!;
    }
    const n = (nextConversation.get(prompt) ?? 0) + 1;
    nextConversation.set(prompt, n);
    return n;
  };
  const release = (prompt: string, n: number) => {
    const free = freeConversations.get(prompt) ?? [];
    free.push(n);
    freeConversations.set(prompt, free);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: Error) => {
        if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: { message: `scripted server failed: ${err.stack ?? err.message}`, type: 'server_error' } });
      });
    });
  });

  let closed = false;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    if (req.method !== 'POST' || !/\/chat\/completions$/.test(req.url ?? '')) {
      sendJson(res, 404, { error: { message: `the scripted server has no ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
    } catch {
      sendJson(res, 400, { error: { message: 'request body is not JSON', type: 'invalid_request_error' } });
      return;
    }
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const firstUser = messages.find((m) => m.role === 'user');
    const prompt = typeof firstUser?.content === 'string' ? firstUser.content : JSON.stringify(firstUser?.content ?? '');
    const assistants = messages.filter((m) => m.role === 'assistant');
    const step = assistants.length;
    let conversation = 1;
    let allocated = false;
    if (step === 0) {
      conversation = allocate(prompt);
      allocated = true;
    } else {
      for (const a of assistants) {
        const m = /^call_c(\d+)_/.exec(a.tool_calls?.[0]?.id ?? '');
        if (m) {
          conversation = Number(m[1]);
          break;
        }
      }
    }
    const record: RecordedRequest = { callIndex: callIndex++, receivedAt: Date.now(), body, headers: req.headers, prompt, step, conversation, status: 0 };
    requests.push(record);
    const reply = await options.respond({ body, headers: req.headers, callIndex: record.callIndex, prompt, step, conversation });
    if (reply.kind === 'error' && allocated) release(prompt, conversation);
    const delay = (reply.kind === 'message' ? options.delayMs ?? 0 : 0) + (reply.delayMs ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (gone || closed || res.destroyed) return;
    if (reply.kind === 'error') {
      record.status = reply.status;
      sendJson(res, reply.status, { error: { message: reply.message ?? `scripted error ${reply.status}`, type: reply.status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } }, reply.headers);
      return;
    }
    const toolCalls: ScriptToolCall[] | undefined = reply.tool_calls?.map((c, i) => ({
      id: c.id ?? `call_c${conversation}_s${step}_${i}`,
      type: 'function',
      function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments) },
    }));
    const message = { role: 'assistant' as const, content: reply.content, ...(toolCalls?.length ? { tool_calls: toolCalls } : {}) };
    const usage: Usage | undefined =
      reply.usage === null
        ? undefined
        : reply.usage ?? (() => {
            const prompt_tokens = Math.ceil(JSON.stringify(messages).length / 4);
            const completion_tokens = Math.ceil(JSON.stringify(message).length / 4);
            return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
          })();
    record.status = 200;
    record.message = message;
    if (usage) record.usage = usage;
    sendJson(res, 200, {
      id: `chatcmpl-scripted-${record.callIndex}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { ...message, refusal: null }, finish_reason: toolCalls?.length ? 'tool_calls' : 'stop', logprobs: null, ...reply.choiceExtra }],
      ...(usage ? { usage } : {}),
      ...reply.responseExtra,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    usageTotals() {
      let prompt_tokens = 0;
      let completion_tokens = 0;
      for (const r of requests) {
        prompt_tokens += r.usage?.prompt_tokens ?? 0;
        completion_tokens += r.usage?.completion_tokens ?? 0;
      }
      return { prompt_tokens, completion_tokens };
    },
    close() {
      closed = true;
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An OpenAI-compatible base URL on 127.0.0.1 where nothing listens (every request: connection refused). */
export async function refusedBaseUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/v1`;
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------
// Reply builders

/** One tool call for `toolReply`. */
export interface CallSpec {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

/** An assistant reply with tool calls (and optional text). */
export function toolReply(calls: CallSpec | CallSpec[], content: string | null = null, extra: Partial<MessageReply> = {}): MessageReply {
  return { kind: 'message', content, tool_calls: (Array.isArray(calls) ? calls : [calls]).map((c) => ({ ...c })), ...extra };
}

/** An assistant reply with text only (text mode: put one ```bash block in it). */
export function textReply(content: string, extra: Partial<MessageReply> = {}): MessageReply {
  return { kind: 'message', content, ...extra };
}

/** An HTTP error; `retryAfterMs` sets the `retry-after-ms` header the SDK honours. */
export function errorReply(status: number, opts: { retryAfterMs?: number; message?: string; delayMs?: number } = {}): ErrorReply {
  return {
    kind: 'error',
    status,
    message: opts.message,
    delayMs: opts.delayMs,
    headers: opts.retryAfterMs !== undefined ? { 'retry-after-ms': String(opts.retryAfterMs) } : undefined,
  };
}

export const bash = (command: string): CallSpec => ({ name: 'bash', arguments: { command } });
export const edit = (args: { command: 'view' | 'create' | 'str_replace' | 'insert'; path: string; file_text?: string; old_str?: string; new_str?: string; insert_line?: number }): CallSpec => ({
  name: 'str_replace_based_edit',
  arguments: args,
});
export const submit = (answer?: string): CallSpec => ({ name: 'submit', arguments: answer !== undefined ? { answer } : {} });

/** Shorthands: one tool call per reply. */
export const bashReply = (command: string): MessageReply => toolReply(bash(command));
export const editReply = (args: Parameters<typeof edit>[0]): MessageReply => toolReply(edit(args));
export const submitReply = (answer?: string): MessageReply => toolReply(submit(answer));

/** A text-mode reply: a thought and exactly one fenced bash block. */
export function bashBlockReply(command: string, thought = 'THOUGHT: next step.'): MessageReply {
  return textReply(`${thought}\n\n\`\`\`bash\n${command}\n\`\`\``);
}

// ---------------------------------------------------------------------------------------------
// Scripts

/**
 * A conversation's script: the reply for each step (index = assistant messages so far), or a
 * function of the request. Past the end of an array the server answers HTTP 400
 * "script exhausted" (the SDK does not retry it), which ends the attempt with an error.
 */
export type Script = Reply[] | ((ctx: RequestContext) => Reply | Promise<Reply>);

/**
 * A responder that picks a script by the task prompt: the script whose key occurs in the first
 * user message (the longest such key, when several do). A function script can look at
 * `ctx.conversation` to give each attempt of a task its own replies.
 */
export function perTask(scripts: Record<string, Script> | Map<string, Script>): Responder {
  const entries = [...(scripts instanceof Map ? scripts : Object.entries(scripts))].sort((a, b) => b[0].length - a[0].length);
  return (ctx) => {
    const found = entries.find(([k]) => ctx.prompt.includes(k));
    if (!found) return errorReply(400, { message: `no script for the prompt ${JSON.stringify(ctx.prompt.slice(0, 120))}` });
    return runScript(found[1], ctx);
  };
}

/** The reply of `script` for the request `ctx`. */
export function runScript(script: Script, ctx: RequestContext): Reply | Promise<Reply> {
  if (typeof script === 'function') return script(ctx);
  return script[ctx.step] ?? errorReply(400, { message: `script exhausted: no reply for step ${ctx.step} (script has ${script.length})` });
}

/** The text of every message of a request, joined (for "the next request contains X" checks). */
export function requestText(r: RecordedRequest): string {
  return r.body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join('\n');
}
