import * as path from 'node:path';
import type OpenAI from 'openai';
import type { Action, ChatMessage, Observation } from '../../../common/src/trajectory';
import { readContainerFile, writeContainerFile } from '../runtime/archive';
import { isConnectionError } from '../runtime/hostErrors';
import { shellQuote, type Sandbox } from '../runtime/sandbox';
import type { AgentProtocol } from './agentConfig';

/** First output line by which a text-mode agent submits (mini-swe-agent's convention). */
export const SUBMIT_MARKER = 'COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT';

export const BASH_TOOL = 'bash';
export const EDIT_TOOL = 'str_replace_based_edit';
export const SUBMIT_TOOL = 'submit';

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
      default:
        return { kind: 'format_error', tool_call_id: call.id, message: `Unknown tool "${call.function.name}". The tools are ${BASH_TOOL}, ${EDIT_TOOL} and ${SUBMIT_TOOL}.` };
    }
  });
}

function parseTextAction(content: string): Action {
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
  limits: { timeoutSec: number; outputCap: number; signal?: AbortSignal },
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

/** The messages that carry a step's observations back to the model (an agent config's `action_observation_template` formats them). */
export function observationMessages(actions: Action[], observations: Observation[], mode: 'tools' | 'text', protocol?: AgentProtocol): ChatMessage[] {
  const format = (o: Observation) => protocol?.observation(o) ?? formatObservation(o);
  if (mode === 'text') {
    const action = actions[0];
    const o = observations[0]!;
    return [{ role: 'user', content: action?.kind === 'format_error' ? action.message : format(o) }];
  }
  const out: ChatMessage[] = [];
  let orphanError: string | undefined;
  actions.forEach((action, i) => {
    const o = observations[i]!;
    const content = action.kind === 'format_error' ? action.message : format(o);
    if (action.tool_call_id) out.push({ role: 'tool', tool_call_id: action.tool_call_id, content });
    else orphanError = content;
  });
  if (orphanError) out.push({ role: 'user', content: orphanError });
  return out;
}
