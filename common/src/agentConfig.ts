/**
 * An agent configuration (`--agent FILE`, the `trajlab.agent` setting): the prompts, the
 * protocol and the limits of the agent loop, as mini-swe-agent's and SWE-agent's YAML configs
 * give theirs. Every key is optional; a key left out keeps TrajLab's built-in behaviour. The
 * config a run used is recorded in every trajectory (`agent.config`) and its hash in run.json.
 * Templates are Jinja, rendered with @huggingface/jinja as Hugging Face chat templates are: one
 * trailing newline of the template is dropped, and a block tag (`{% if %}`) takes the line break
 * after it and the indentation before it (jinja2's trim_blocks and lstrip_blocks); write
 * `{{ "\n" }}` for a line break right after a tag.
 */
export interface AgentConfig {
  /** Name in records (`default`, `mini-swe-agent`, or the file's own). */
  name: string;
  /** `tools` (function calling) or `text` (one code block per reply). The `--mode` flag wins when given. */
  mode?: 'tools' | 'text';
  /** The system message. Variables: `workdir`, `command_timeout` (s), `submit_marker`, `mode`, `tools` (names offered). */
  system_template?: string;
  /** The first user message. Variables: `task` (the task's prompt), `answer_format` (the answer instruction, or ''), `workdir`. */
  instance_template?: string;
  /**
   * How a command's result is sent back. Variables: `output.returncode` (null when killed),
   * `output.output` (stdout, then stderr), `output.exception_info` ('' or why the command was
   * stopped: timeout), as mini-swe-agent names them.
   */
  action_observation_template?: string;
  /** Text mode: the reply to a reply without exactly one action. Variables: `actions` (the code blocks found), `error` (TrajLab's own message). */
  format_error_template?: string;
  /** Text mode: the regular expression (JavaScript syntax, flags `s`) whose first group is the command; a reply must match exactly once. Default: a ```bash block. */
  action_regex?: string;
  /** Text mode: send the submission back as a last user message, as mini-swe-agent does (default false). */
  submission_message?: boolean;
  /** Tool mode: the tools offered (default all three); a task's `expected_tools` narrows them (submit always stays). */
  tools?: ('bash' | 'editor' | 'submit')[];
  /** Model calls per attempt (0: no limit of the config's own; a task's `max_steps` and `--max-steps` win). */
  step_limit?: number;
  /** USD per attempt (0: none; `--cost-limit` wins). */
  cost_limit?: number;
}
