/**
 * Agent configurations (AgentConfig, common/src/agentConfig.ts): the two built in (`default`,
 * TrajLab's own prompts and protocol; `mini-swe-agent`, mini-swe-agent's), reading a config
 * file, and the protocol an attempt follows under a config (AgentProtocol).
 *
 * `mini-swe-agent` reproduces the prompts and text protocol of mini-swe-agent's GitHub-issue
 * config (SWE-agent/mini-swe-agent, src/minisweagent/config/github_issue.yaml: system_template,
 * instance_template, action_observation_template, format_error_template; the ```mswea_bash_command
 * action regex; src/minisweagent/agents/default.py: DefaultAgent.parse_action takes the one match
 * of the regex, stripped; has_finished submits when the first line of the output, left-stripped,
 * is COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT and sends the rest of the output back as the last user
 * message), checked against a real trajectory of it (../shared/fixtures/foreign/
 * mini-swe-agent.github_issue.traj.json).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import { Template } from '@huggingface/jinja';
import type OpenAI from 'openai';
import type { AgentConfig } from '../../../common/src/agentConfig';
import type { Task } from '../../../common/src/task';
import type { Action, Observation } from '../../../common/src/trajectory';
import { ListFileError, parseYamlFile } from '../util/listFile';
import { BASH_TOOL, EDIT_TOOL, SUBMIT_MARKER, SUBMIT_TOOL, TOOLS } from './actions';

/** TrajLab's own agent: every key left out, so the built-in prompts and protocol apply. */
export const DEFAULT_AGENT: AgentConfig = { name: 'default' };

const MSWEA_FENCE = '```mswea_bash_command';

/** mini-swe-agent's GitHub-issue agent (see the file comment). */
export const MINI_SWE_AGENT: AgentConfig = {
  name: 'mini-swe-agent',
  mode: 'text',
  system_template: [
    'You are a helpful assistant that can interact with a computer.',
    '',
    'Your response must contain exactly ONE bash code block with ONE command (or commands connected with && or ||).',
    'Include a THOUGHT section before your command where you explain your reasoning process.',
    'Format your response as shown in <format_example>.',
    '',
    '<format_example>',
    'Your reasoning and analysis here. Explain why you want to perform the action.',
    '',
    MSWEA_FENCE,
    'your_command_here',
    '```',
    '</format_example>',
    '',
    'Failure to follow these rules will cause your response to be rejected.',
    'To finish, issue the following command: `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`',
    'without any other command.',
    '',
    '',
  ].join('\n'),
  instance_template: [
    'Please solve this issue: {{task}}',
    '',
    'You can execute bash commands and edit files to implement the necessary changes.',
    '',
    '## Recommended Workflow',
    '1. Analyze the codebase by finding and reading relevant files',
    '2. Create a script to reproduce the issue',
    '3. Edit the source code to resolve the issue',
    '4. Verify your fix works by running your script again',
    '5. Test edge cases to ensure your fix is robust',
    '',
    '## Important Rules',
    '',
    '1. Every response must contain exactly one action',
    '2. The action must be enclosed in triple backticks',
    '3. Directory or environment variable changes are not persistent. Every action is executed in a new subshell.',
    '   However, you can prefix any action with `MY_ENV_VAR=MY_VALUE cd /path/to/working/dir && ...` or write/load environment variables from files',
    '4. To finish, issue the following command: `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`.',
    '   Do not combine it with any other command.',
    '',
    '## Formatting your response',
    '',
    'Here is an example of a correct response:',
    '',
    '<example_response>',
    'THOUGHT: I need to understand the structure of the repository first. Let me check what files are in the current directory to get a better understanding of the codebase.',
    '',
    MSWEA_FENCE,
    'ls -la',
    '```',
    '</example_response>',
    '',
    '## Useful command examples',
    '',
    '### Create a new file:',
    '',
    MSWEA_FENCE,
    "cat <<'EOF' > newfile.py",
    'import numpy as np',
    'hello = "world"',
    'print(hello)',
    'EOF',
    '```',
    '',
    '### Edit files with sed:',
    '',
    MSWEA_FENCE,
    '# Replace all occurrences',
    "sed -i 's/old_string/new_string/g' filename.py",
    '',
    '# Replace only first occurrence',
    "sed -i 's/old_string/new_string/' filename.py",
    '',
    '# Replace first occurrence on line 1',
    "sed -i '1s/old_string/new_string/' filename.py",
    '',
    '# Replace all occurrences in lines 1-10',
    "sed -i '1,10s/old_string/new_string/g' filename.py",
    '```',
    '',
    '### View file content:',
    '',
    MSWEA_FENCE,
    '# View specific lines with numbers',
    "nl -ba filename.py | sed -n '10,20p'",
    '```',
    '',
    '### Any other command you want to run',
    '',
    MSWEA_FENCE,
    'anything',
    '```',
    '',
  ].join('\n'),
  action_observation_template: [
    '{% if output.exception_info -%}',
    '<exception>{{output.exception_info}}</exception>',
    '{% endif -%}',
    '<returncode>{{output.returncode}}</returncode>',
    '{% if output.output | length < 10000 -%}',
    '<output>',
    '{{ output.output -}}',
    '</output>',
    '{%- else -%}',
    '<warning>',
    'The output of your last command was too long.',
    'Please try a different command that produces less output.',
    "If you're looking at a file you can try use head, tail or sed to view a smaller number of lines selectively.",
    "If you're using grep or find and it produced too much output, you can use a more selective search pattern.",
    "If you really need to see something from the full command's output, you can redirect output to a file and then search in that file.",
    '</warning>',
    '{%- set elided_chars = output.output | length - 10000 -%}',
    '<output_head>',
    '{{ output.output[:5000] }}',
    '</output_head>',
    '<elided_chars>',
    '{{ elided_chars }} characters elided',
    '</elided_chars>',
    '<output_tail>',
    '{{ output.output[-5000:] }}',
    '</output_tail>',
    '{%- endif -%}',
    '',
  ].join('\n'),
  format_error_template: [
    'Please always provide EXACTLY ONE action in triple backticks, found {{actions|length}} actions.',
    'If you want to end the task, please issue the following command: `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT`',
    'without any other command.',
    'Else, please format your response exactly as follows:',
    '',
    '<response_example>',
    'Here are some thoughts about why you want to perform the action.',
    '',
    MSWEA_FENCE,
    '<action>',
    '```',
    '</response_example>',
    '',
  ].join('\n'),
  action_regex: '```mswea_bash_command\\s*\\n(.*?)\\n```',
  submission_message: true,
  step_limit: 0,
  cost_limit: 0,
};

/** The built-in configs, by the name `--agent` takes. */
export const BUILTIN_AGENTS: Record<string, AgentConfig> = { default: DEFAULT_AGENT, 'mini-swe-agent': MINI_SWE_AGENT };

const TEMPLATE = { type: 'string' };
const AGENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    mode: { enum: ['tools', 'text'] },
    system_template: TEMPLATE,
    instance_template: TEMPLATE,
    action_observation_template: TEMPLATE,
    format_error_template: TEMPLATE,
    action_regex: { type: 'string', minLength: 1 },
    submission_message: { type: 'boolean' },
    tools: { type: 'array', items: { enum: ['bash', 'editor', 'submit'] }, uniqueItems: true },
    step_limit: { type: 'integer', minimum: 0 },
    cost_limit: { type: 'number', minimum: 0 },
  },
} as const;
const validate = new Ajv2020({ strict: true }).compile(AGENT_SCHEMA);

/**
 * Checks an agent config (AgentConfig): its keys and their types, its templates parse, its
 * `action_regex` compiles with one group. Returns the problem `{path, message}`, or undefined.
 */
export function agentConfigProblem(value: unknown): { path: (string | number)[]; message: string; atKey?: boolean } | undefined {
  if (!validate(value)) {
    const e = validate.errors![0]!;
    const path = e.instancePath.split('/').slice(1);
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return { path: [...path, String(p.additionalProperty)], message: `unknown key ${JSON.stringify(p.additionalProperty)} (an agent config has ${Object.keys(AGENT_SCHEMA.properties).join(', ')})`, atKey: true };
    if (e.keyword === 'required') return { path, message: `an agent config needs "${String(p.missingProperty)}"` };
    if (!path.length) return { path, message: `an agent config is a map of keys (${Object.keys(AGENT_SCHEMA.properties).join(', ')}), or {agent: {...}}` };
    return { path, message: `"${path.join('.')}" ${e.message ?? 'is not valid'}${e.keyword === 'enum' ? ` (${(p.allowedValues as unknown[]).join(', ')})` : ''}` };
  }
  const c = value as AgentConfig;
  for (const key of ['system_template', 'instance_template', 'action_observation_template', 'format_error_template'] as const) {
    if (c[key] === undefined) continue;
    try {
      new Template(c[key]);
    } catch (err) {
      return { path: [key], message: `"${key}" is not a Jinja template: ${(err as Error).message}` };
    }
  }
  if (c.action_regex !== undefined) {
    try {
      if (new RegExp(`${c.action_regex}|`).exec('')!.length < 2) return { path: ['action_regex'], message: '"action_regex" needs a group: the command is its first group' };
    } catch (err) {
      return { path: ['action_regex'], message: `"action_regex" is not a regular expression: ${(err as Error).message}` };
    }
  }
  return undefined;
}

/**
 * The agent config `nameOrFile` names: a built-in (`default`, `mini-swe-agent`), else a YAML or
 * JSON file holding the config, or `{agent: {...}}` as mini-swe-agent's files nest it (a file
 * without `name` is named after itself). Errors: ListFileError `file:line:col: message` for a
 * bad file; a name that is neither a built-in nor a file.
 */
export function readAgentConfig(nameOrFile: string): AgentConfig {
  const builtin = BUILTIN_AGENTS[nameOrFile];
  if (builtin) return builtin;
  let text: string;
  try {
    text = fs.readFileSync(nameOrFile, 'utf8');
  } catch (err) {
    throw new ListFileError(`${nameOrFile}:1:1: no built-in agent config of that name (${Object.keys(BUILTIN_AGENTS).join(', ')}) and not a readable file: ${(err as Error).message}`);
  }
  const { value, errorAt } = parseYamlFile(text, nameOrFile);
  const nested = value && typeof value === 'object' && !Array.isArray(value) && 'agent' in value && Object.keys(value).length === 1;
  const root: (string | number)[] = nested ? ['agent'] : [];
  const raw = nested ? (value as { agent: unknown }).agent : value;
  const config = raw && typeof raw === 'object' && !Array.isArray(raw) && !('name' in raw) ? { name: nameOrFile.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/, ''), ...raw } : raw;
  const problem = agentConfigProblem(config);
  if (problem) throw errorAt([...root, ...problem.path], problem.message, problem.atKey);
  return config as AgentConfig;
}

/** sha256 (hex) of `config` as JSON with its keys sorted: run.json's `agent_config_sha256`. */
export function agentConfigHash(config: AgentConfig): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Renders a template with @huggingface/jinja (see AgentConfig on its whitespace rules). */
function render(template: string, vars: Record<string, unknown>): string {
  return new Template(template).render(vars);
}

const TOOL_OF: Record<string, string> = { bash: BASH_TOOL, editor: EDIT_TOOL, submit: SUBMIT_TOOL };

/**
 * What an attempt does under a config: its templates rendered, its text-mode action regex, the
 * tools it offers. Keys the config leaves out are answered `undefined`, and the caller keeps
 * TrajLab's built-in behaviour for them.
 */
export class AgentProtocol {
  private readonly regex: RegExp | undefined;

  constructor(readonly config: AgentConfig) {
    this.regex = config.action_regex !== undefined ? new RegExp(config.action_regex, 'gs') : undefined;
  }

  /** The system message, or undefined (built-in). */
  systemPrompt(vars: { workdir: string; commandTimeoutSec: number; mode: 'tools' | 'text'; tools: string[] }): string | undefined {
    const t = this.config.system_template;
    return t === undefined ? undefined : render(t, { workdir: vars.workdir, command_timeout: vars.commandTimeoutSec, submit_marker: SUBMIT_MARKER, mode: vars.mode, tools: vars.tools });
  }

  /** The first user message for the task's prompt `task`, or undefined (built-in). */
  instanceMessage(task: string, answerFormat: string, workdir: string): string | undefined {
    const t = this.config.instance_template;
    return t === undefined ? undefined : render(t, { task, answer_format: answerFormat, workdir });
  }

  /** How observation `o` goes back to the model, or undefined (built-in). */
  observation(o: Observation): string | undefined {
    const t = this.config.action_observation_template;
    if (t === undefined) return undefined;
    const output = o.stderr && o.stdout ? `${o.stdout}\n${o.stderr}` : o.stdout || o.stderr;
    return render(t, { output: { returncode: o.exit_code, output, exception_info: o.timed_out ? 'The command timed out.' : '' } });
  }

  /** Text mode: the action of a reply by `action_regex` (exactly one match, its group stripped), or undefined (built-in parsing). */
  parseText(content: string): Action | undefined {
    if (!this.regex) return undefined;
    const found = [...content.matchAll(this.regex)].map((m) => m[1] ?? '');
    if (found.length === 1) return { kind: 'bash', command: found[0]!.trim() };
    return { kind: 'format_error', message: this.formatError(found, `expected exactly one action, found ${found.length}`) ?? `Please always provide EXACTLY ONE action, found ${found.length} actions.` };
  }

  /** The format-error message for the code blocks `actions` found (TrajLab's message `error`), or undefined (built-in). */
  formatError(actions: string[], error: string): string | undefined {
    const t = this.config.format_error_template;
    return t === undefined ? undefined : render(t, { actions, error });
  }

  /**
   * Text mode with `submission_message`: whether `o` submits, mini-swe-agent's rule (the first line
   * of the output, left-stripped, is the marker), and the submission (the rest of the output,
   * line breaks kept); undefined when the config does not say.
   */
  submission(o: Observation): { submitted: boolean; text: string } | undefined {
    if (!this.config.submission_message) return undefined;
    const output = (o.stdout + o.stderr).replace(/^\s+/, '');
    const lines = output.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    return lines.length && lines[0]!.trim() === SUBMIT_MARKER ? { submitted: true, text: lines.slice(1).join('') } : { submitted: false, text: '' };
  }

  /**
   * Tool mode: the tool schemas offered for `task`: the config's `tools` (default all), narrowed to
   * the task's `expected_tools` when it names any of them (`str_replace_based_edit` or `editor`
   * for the editor); `submit` always stays, or the attempt could not end.
   */
  toolsFor(task: Pick<Task, 'expected_tools'>): OpenAI.Chat.ChatCompletionTool[] {
    const names = new Set((this.config.tools ?? ['bash', 'editor', 'submit']).map((t) => TOOL_OF[t]!));
    const expected = new Set((task.expected_tools ?? []).map((t) => TOOL_OF[t] ?? t));
    const narrowed = [...names].some((n) => expected.has(n)) ? new Set([...names].filter((n) => expected.has(n))) : names;
    narrowed.add(SUBMIT_TOOL);
    return TOOLS.filter((t) => narrowed.has((t as { function: { name: string } }).function.name));
  }
}
