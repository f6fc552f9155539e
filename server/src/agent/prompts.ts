import type { Task } from '../../../common/src/task';
import { taskEval, taskPrompt } from '../../../common/src/task';
import { SUBMIT_MARKER } from './actions';

/**
 * The system prompt of an attempt. Tool mode describes the three tools; text mode follows
 * mini-swe-agent's contract (one ```bash block per reply, submit by echoing SUBMIT_MARKER).
 */
export function systemPrompt(mode: 'tools' | 'text', workdir: string, commandTimeoutSec: number, browser = false): string {
  const common =
    `You are an autonomous agent solving a task inside a sandboxed Linux container (Debian, no network unless the task says so).\n` +
    `The task's files are in ${workdir}. Each command runs in a fresh shell in ${workdir} (cd does not persist between commands) ` +
    `and is killed after ${commandTimeoutSec} seconds. Do not start interactive programs.`;
  if (mode === 'tools') {
    return `${common}\nUse the tools: bash to run commands, str_replace_based_edit to view and edit files, ` +
      (browser ? `browser to browse web pages (elements are numbered [N] in each observation: pass N as element_id), ` : '') +
      `and submit when you are done (put your final answer in submit's "answer" when the task asks for one).`;
  }
  const browse = browser
    ? `\nTo use the web browser instead of a command, give EXACTLY ONE browser block holding one JSON action, e.g.\n\n\`\`\`browser\n{"action": "goto", "url": "http://127.0.0.1:8000/"}\n\`\`\`\n\n` +
      `Actions: goto(url), click(element_id), type(element_id, text, submit), scroll(direction), back, forward, find(text), read, screenshot; ` +
      `element ids are the [N] numbers of the latest page observation.`
    : '';
  return (
    `${common}\n` +
    `Your reply must contain a short THOUGHT and then EXACTLY ONE bash code block with one command ` +
    `(or commands joined with && or ||), like:\n\nTHOUGHT: I will list the files.\n\n\`\`\`bash\nls -la\n\`\`\`\n\n` +
    `When you are done, run \`echo ${SUBMIT_MARKER}\` as the first command of your final block, followed by your final answer ` +
    `if the task asks for one, e.g. \`echo ${SUBMIT_MARKER} && echo '<answer>42</answer>'\`. You cannot continue after that.` +
    browse
  );
}

/** The first user message: the task's prompt, plus the answer format when the task checks an answer. */
export function taskMessage(task: Task): string {
  const format = answerFormat(task);
  return format ? `${taskPrompt(task)}\n\n${format}` : taskPrompt(task);
}

/** The answer instruction of a task that checks an exact answer without its own pattern (`Give your final answer as <answer>…</answer>.`), else ''. */
export function answerFormat(task: Task): string {
  const ev = taskEval(task);
  return ev.answer !== undefined && !ev.answer_pattern ? 'Give your final answer as <answer>…</answer>.' : '';
}

/**
 * The user message that starts step `index` of a multi-step task: its `description`; the first
 * step's is preceded by the task's own prompt when it has one (the task's first user message).
 */
export function taskStepMessage(task: Task, index: number): string {
  const description = task.steps?.[index]?.description ?? '';
  if (index > 0) return description;
  return [taskMessage(task), description].filter((text) => text.trim() !== '').join('\n\n');
}
