import * as path from 'node:path';
import type OpenAI from 'openai';
import { BROWSER_ACTIONS, type Action, type BrowserAction, type ChatMessage, type Observation } from '../../../common/src/trajectory';
import { BrowserSession, type BrowserActOptions } from '../browser/session';
import { readContainerFile, writeContainerFile } from '../runtime/archive';
import { isConnectionError } from '../runtime/hostErrors';
import { shellQuote, type Sandbox } from '../runtime/sandbox';
import type { Task } from '../../../common/src/task';
import type { AgentProtocol } from './agentConfig';

/** First output line by which a text-mode agent submits (mini-swe-agent's convention). */
export const SUBMIT_MARKER = 'COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT';

export const BASH_TOOL = 'bash';
export const EDIT_TOOL = 'str_replace_based_edit';
export const SUBMIT_TOOL = 'submit';
export const BROWSER_TOOL = 'browser';

/**
 * The `browser` tool's schema (issue 20), offered to tasks that expect it (toolsForTask): one
 * tool whose `action` picks goto, click, type, scroll, back, forward, find, read or screenshot.
 */
export const BROWSER_TOOL_SCHEMA: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: BROWSER_TOOL,
    description:
      'Use a web browser (headless Chromium in the sandbox). Each call does one action and returns the page: its URL, title and ' +
      'accessibility tree, in which every interactive element is numbered [N]: pass N as element_id. Actions: goto(url), ' +
      'click(element_id), type(element_id, text, submit?) (submit presses Enter), scroll(direction up|down), back(), forward(), ' +
      'find(text) (the lines of the page that contain text), read() (the page as plain text), screenshot(). Each action has a timeout.',
    parameters: {
      type: 'object',
      properties: {
        action: { type: 'string', enum: [...BROWSER_ACTIONS] },
        url: { type: 'string', description: 'goto: the URL to open.' },
        element_id: { type: 'integer', description: 'click, type: the [N] of an element in the latest observation.' },
        text: { type: 'string', description: 'type: the text to enter; find: the text to look for.' },
        submit: { type: 'boolean', description: 'type: press Enter after typing.' },
        direction: { type: 'string', enum: ['up', 'down'], description: 'scroll: which way.' },
      },
      required: ['action'],
    },
  },
};

/** Tool schemas of tool-calling mode (OpenAI function-calling format). */
export const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: BASH_TOOL,
      description: 'Run a shell command in the workspace. Each call runs in a fresh bash shell (cd does not persist) with a timeout.',
      parameters: {
        type: 'object',
        properties: { command: { type: 'string', description: 'The bash command to run.' } },
        required: ['command'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: EDIT_TOOL,
      description:
        'View, create and edit files. `view` shows a file with line numbers or lists a directory; `create` writes a new file; ' +
        '`str_replace` replaces exactly one occurrence of old_str with new_str; `insert` inserts new_str after line insert_line (0 = top).',
      parameters: {
        type: 'object',
        properties: {
          command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert'] },
          path: { type: 'string', description: 'Absolute path, or relative to the workspace.' },
          file_text: { type: 'string', description: 'Content for `create`.' },
          old_str: { type: 'string', description: 'Exact text to replace (must occur once).' },
          new_str: { type: 'string', description: 'Replacement text, or the text to insert.' },
          insert_line: { type: 'integer', description: 'Line after which to insert.' },
        },
        required: ['command', 'path'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: SUBMIT_TOOL,
      description: 'Finish the task. Give your final answer when the task asks for one.',
      parameters: {
        type: 'object',
        properties: { answer: { type: 'string', description: 'Final answer (optional).' } },
      },
    },
  },
];

/** The agent's tool names (tool-calling mode), in the order the agent offers them. */
export const TOOL_NAMES: readonly string[] = [...TOOLS, BROWSER_TOOL_SCHEMA].map((t) => (t as { function: { name: string } }).function.name);

/** Names `expected_tools` may use for a tool besides its own (agent configs call the editor `editor`; agentConfig.ts). */
export const TOOL_ALIASES: Readonly<Record<string, string>> = { editor: EDIT_TOOL };

/** Whether `task` gets the browser tool: its `expected_tools` name `browser`, or it is a `web` task. */
export function wantsBrowser(task: Pick<Task, 'expected_tools' | 'task_type'>): boolean {
  return task.task_type === 'web' || !!task.expected_tools?.includes(BROWSER_TOOL);
}

/**
 * Tool mode: the tools an attempt at `task` is offered: the agent config's (AgentProtocol.toolsFor)
 * or all of TOOLS, with the browser tool before `submit` when the task wants it (wantsBrowser).
 */
export function toolsForTask(task: Pick<Task, 'expected_tools' | 'task_type'>, protocol?: AgentProtocol): OpenAI.Chat.ChatCompletionTool[] {
  const base = protocol ? protocol.toolsFor(task) : TOOLS;
  if (!wantsBrowser(task)) return base;
  const name = (t: OpenAI.Chat.ChatCompletionTool) => (t as { function: { name: string } }).function.name;
  return [...base.filter((t) => name(t) !== SUBMIT_TOOL), BROWSER_TOOL_SCHEMA, ...base.filter((t) => name(t) === SUBMIT_TOOL)];
}

/**
 * Turns an assistant message into actions. Tool mode: one action per tool call; unknown tools
 * and invalid JSON arguments become `format_error` actions (fed back, as mini-swe-agent does).
 * Text mode: exactly one ```bash block (mini-swe-agent's rule), else one `format_error`; an agent
 * config's `action_regex` and `format_error_template` (AgentProtocol) replace the block and the message.
 */
export function parseActions(message: ChatMessage, mode: 'tools' | 'text', protocol?: AgentProtocol): Action[] {
  if (mode === 'text') return [protocol?.parseText(message.content ?? '') ?? parseTextAction(message.content ?? '')];
  const calls = message.tool_calls ?? [];
  if (!calls.length) {
    return [{ kind: 'format_error', message: `No tool call found. Every reply must call one of the tools (${BASH_TOOL}, ${EDIT_TOOL}, ${SUBMIT_TOOL}); call ${SUBMIT_TOOL} when you are done.` }];
  }
  return calls.map((call): Action => {
    let args: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(call.function.arguments || '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      args = parsed as Record<string, unknown>;
    } catch {
      return { kind: 'format_error', tool_call_id: call.id, message: `The arguments of ${call.function.name} are not a JSON object: ${call.function.arguments.slice(0, 200)}` };
    }
    switch (call.function.name) {
      case BASH_TOOL:
        if (typeof args.command !== 'string' || !args.command.trim()) {
          return { kind: 'format_error', tool_call_id: call.id, message: `${BASH_TOOL} needs a non-empty "command" string.` };
        }
        return { kind: 'bash', command: args.command, tool_call_id: call.id };
      case EDIT_TOOL:
        if (typeof args.command !== 'string' || typeof args.path !== 'string') {
          return { kind: 'format_error', tool_call_id: call.id, message: `${EDIT_TOOL} needs "command" and "path" strings.` };
        }
        return { kind: 'edit', command: args.command, path: args.path, args, tool_call_id: call.id };
      case SUBMIT_TOOL:
        return { kind: 'submit', answer: typeof args.answer === 'string' ? args.answer : undefined, tool_call_id: call.id };
      case BROWSER_TOOL:
        return parseBrowserArgs(args, call.id);
      default:
        return { kind: 'format_error', tool_call_id: call.id, message: `Unknown tool "${call.function.name}". The tools are ${BASH_TOOL}, ${EDIT_TOOL} and ${SUBMIT_TOOL}.` };
    }
  });
}

/**
 * A browser action from its tool arguments (`{action, url?, element_id?, text?, submit?,
 * direction?}`), checked: what an action needs must be there with its type, else a
 * `format_error` that says what is missing. An `element_id` given as a numeric string is taken.
 */
export function parseBrowserArgs(args: Record<string, unknown>, toolCallId?: string): BrowserAction | Extract<Action, { kind: 'format_error' }> {
  const id = toolCallId !== undefined ? { tool_call_id: toolCallId } : {};
  const fail = (message: string) => ({ kind: 'format_error' as const, message: `${BROWSER_TOOL}: ${message}`, ...id });
  const action = args.action;
  if (typeof action !== 'string' || !(BROWSER_ACTIONS as readonly string[]).includes(action)) {
    return fail(`"action" must be one of ${BROWSER_ACTIONS.join(', ')} (got ${JSON.stringify(action)?.slice(0, 100)})`);
  }
  const a = action as BrowserAction['action'];
  const out: BrowserAction = { kind: 'browser', action: a, args: {}, ...id };
  const elementId = typeof args.element_id === 'string' && /^\d+$/.test(args.element_id.trim()) ? Number(args.element_id) : args.element_id;
  if (a === 'goto') {
    if (typeof args.url !== 'string' || !args.url.trim()) return fail('goto needs a "url" string');
    out.args.url = args.url.trim();
  }
  if (a === 'click' || a === 'type') {
    if (typeof elementId !== 'number' || !Number.isInteger(elementId) || elementId < 1) return fail(`${a} needs "element_id", the [N] of an element (an integer ≥ 1)`);
    out.args.element_id = elementId;
  }
  if (a === 'type' || a === 'find') {
    if (typeof args.text !== 'string' || (a === 'find' && !args.text)) return fail(`${a} needs a "text" string`);
    out.args.text = args.text;
  }
  if (a === 'type' && args.submit !== undefined) out.args.submit = args.submit === true;
  if (a === 'scroll') {
    const d = args.direction ?? 'down';
    if (d !== 'up' && d !== 'down') return fail('scroll takes "direction" up or down');
    out.args.direction = d;
  }
  return out;
}

/**
 * Text mode: a reply's ```browser block holds one browser action as the tool's JSON arguments
 * (`{"action": "click", "element_id": 3}`); undefined when the reply has no such block.
 */
function parseTextBrowserAction(content: string): Action | undefined {
  const blocks = [...content.matchAll(/```browser[ \t]*\n([\s\S]*?)\n?```/g)].map((m) => m[1]!);
  if (!blocks.length) return undefined;
  if (blocks.length > 1 || /```(?:bash|sh)?[ \t]*\n/.test(content.replace(/```browser[ \t]*\n[\s\S]*?\n?```/g, ''))) {
    return { kind: 'format_error', message: 'Please always provide EXACTLY ONE action: one ```bash block or one ```browser block.' };
  }
  try {
    const parsed: unknown = JSON.parse(blocks[0]!);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parseBrowserArgs(parsed as Record<string, unknown>);
  } catch {
    return { kind: 'format_error', message: `A \`\`\`browser block holds one JSON object such as {"action": "goto", "url": "http://127.0.0.1:8000/"}; got: ${blocks[0]!.slice(0, 200)}` };
  }
}

function parseTextAction(content: string): Action {
  const browser = parseTextBrowserAction(content);
  if (browser) return browser;
  const blocks = [...content.matchAll(/```(?:bash|sh)?[ \t]*\n([\s\S]*?)\n?```/g)].map((m) => m[1]!);
  if (blocks.length !== 1) {
    return {
      kind: 'format_error',
      message:
        `Please always provide EXACTLY ONE action in triple backticks, found ${blocks.length} actions.\n` +
        `If you want to end the task, please issue the following command: \`echo ${SUBMIT_MARKER}\` without any other command.`,
    };
  }
  return { kind: 'bash', command: blocks[0]!.trim() };
}

/** Where a path given by the agent lands in the container (relative paths from the workspace). */
function containerPath(workdir: string, p: string): string {
  return path.posix.resolve(workdir, p);
}

/** Result of executing one action. `submitted` carries the submission text when the action ends the attempt. */
export interface ActionOutcome {
  observation: Observation;
  submitted?: string;
}

/**
 * Executes one action in the sandbox and returns its observation. `bash` runs through the exec
 * API; `edit` reads and writes files through the archive API; `submit` ends the attempt;
 * `format_error` is answered without touching the container. Never throws for a failing
 * command; throws on abort, engine errors and a broken connection to the Docker host.
 */
export async function executeAction(
  action: Action,
  sandbox: Sandbox,
  limits: { timeoutSec: number; outputCap: number; signal?: AbortSignal; browser?: Omit<BrowserActOptions, 'signal'> },
): Promise<ActionOutcome> {
  switch (action.kind) {
    case 'bash': {
      const observation = await sandbox.exec(action.command, limits);
      const lines = observation.stdout.split('\n');
      if (lines[0]?.trim() === SUBMIT_MARKER && observation.exit_code === 0) {
        return { observation, submitted: lines.slice(1).join('\n').trim() };
      }
      return { observation };
    }
    case 'edit':
      return { observation: await runEdit(action, sandbox, limits) };
    case 'submit':
      return { observation: textObservation('submitted', 0), submitted: action.answer ?? '' };
    case 'format_error':
      return { observation: textObservation(action.message, null) };
    case 'browser':
      return { observation: await BrowserSession.of(sandbox).act(action, { ...limits.browser, signal: limits.signal }) };
  }
}

function textObservation(text: string, exitCode: number | null, started = performance.now()): Observation {
  return {
    stdout: exitCode === 0 ? text : '',
    stderr: exitCode === 0 ? '' : text,
    exit_code: exitCode,
    truncated: false,
    timed_out: false,
    output_bytes: Buffer.byteLength(text),
    duration_ms: Math.round(performance.now() - started),
  };
}

async function runEdit(
  action: Extract<Action, { kind: 'edit' }>,
  sandbox: Sandbox,
  limits: { timeoutSec: number; outputCap: number; signal?: AbortSignal },
): Promise<Observation> {
  const started = performance.now();
  const file = containerPath(sandbox.workdir, action.path);
  const a = action.args;
  const fail = (msg: string) => textObservation(msg, 1, started);
  try {
    switch (action.command) {
      case 'view':
        return await sandbox.exec(
          `if [ -d ${shellQuote(file)} ]; then find ${shellQuote(file)} -maxdepth 2 -not -path '*/.*' | sort | head -n 500; else cat -n ${shellQuote(file)}; fi`,
          limits,
        );
      case 'create': {
        if (typeof a.file_text !== 'string') return fail('create needs "file_text".');
        await sandbox.exec(`mkdir -p ${shellQuote(path.posix.dirname(file))}`, limits);
        await writeContainerFile(sandbox, file, a.file_text);
        return textObservation(`File created: ${file}`, 0, started);
      }
      case 'str_replace':
      case 'insert': {
        const content = await readContainerFile(sandbox, file);
        if (content === undefined) return fail(`No such file: ${file}`);
        const text = content.toString('utf8');
        let updated: string;
        if (action.command === 'str_replace') {
          if (typeof a.old_str !== 'string' || !a.old_str) return fail('str_replace needs a non-empty "old_str".');
          const count = text.split(a.old_str).length - 1;
          if (count !== 1) return fail(`old_str occurs ${count} times in ${file}; it must occur exactly once.`);
          updated = text.replace(a.old_str, () => String(a.new_str ?? ''));
        } else {
          const lines = text.split('\n');
          const at = typeof a.insert_line === 'number' ? a.insert_line : -1;
          if (!Number.isInteger(at) || at < 0 || at > lines.length) return fail(`insert_line must be between 0 and ${lines.length}.`);
          lines.splice(at, 0, String(a.new_str ?? ''));
          updated = lines.join('\n');
        }
        await writeContainerFile(sandbox, file, updated);
        return textObservation(`File edited: ${file}`, 0, started);
      }
      default:
        return fail(`Unknown ${EDIT_TOOL} command "${action.command}"; use view, create, str_replace or insert.`);
    }
  } catch (err) {
    // A broken connection to the Docker host is no observation of the edit: the attempt ends
    // (and on a pool, moves to another host), as for a bash action.
    if ((err as Error).name === 'AbortedError' || isConnectionError(err)) throw err;
    return fail(`Edit failed: ${(err as Error).message}`);
  }
}

/**
 * How an observation is shown to the model: return code plus merged output, in the
 * `<returncode>` / `<output>` form mini-swe-agent uses.
 */
export function formatObservation(o: Observation): string {
  const output = o.stderr && o.stdout ? `${o.stdout}\n${o.stderr}` : o.stdout || o.stderr;
  return `<returncode>${o.exit_code ?? 'none'}</returncode>\n<output>\n${output}\n</output>`;
}

/**
 * How a browser observation is shown to the model: the page text (URL, title, tree), preceded
 * by the action's error when it failed or timed out.
 */
export function formatBrowserObservation(o: Observation): string {
  if (o.exit_code === 0) return o.stdout;
  const error = `Error: ${o.stderr || `exit code ${o.exit_code ?? 'none'}`}`;
  return o.stdout ? `${error}\n\n${o.stdout}` : error;
}

/** The messages that carry a step's observations back to the model (an agent config's `action_observation_template` formats them). */
export function observationMessages(actions: Action[], observations: Observation[], mode: 'tools' | 'text', protocol?: AgentProtocol): ChatMessage[] {
  const format = (o: Observation) => protocol?.observation(o) ?? formatObservation(o);
  const content = (action: Action | undefined, o: Observation) => (action?.kind === 'format_error' ? action.message : action?.kind === 'browser' ? formatBrowserObservation(o) : format(o));
  if (mode === 'text') {
    return [{ role: 'user', content: content(actions[0], observations[0]!) }];
  }
  const out: ChatMessage[] = [];
  let orphanError: string | undefined;
  actions.forEach((action, i) => {
    const o = observations[i]!;
    const text = content(action, o);
    if (action.tool_call_id) out.push({ role: 'tool', tool_call_id: action.tool_call_id, content: text });
    else orphanError = text;
  });
  if (orphanError) out.push({ role: 'user', content: orphanError });
  return out;
}
