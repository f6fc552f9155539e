import picomatch from 'picomatch';
import type { RejectedLine } from '../../../common/src/run';
import type { Trajectory } from '../../../common/src/trajectory';
import type { TaskEntry } from '../tasks/reader';
import type { Logger } from '../util/log';

/** A map key of one attempt (task ids may hold any character but NUL). */
export function attemptKey(taskId: string, attempt: number): string {
  return `${taskId}\u0000${attempt}`;
}

/** `o` without its keys whose value is undefined. */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** One attempt of one task: the unit a run schedules. */
export interface Job {
  entry: TaskEntry;
  /** 1-based. */
  attempt: number;
}

/** Which of a tasks file's tasks a run runs (RunOptions' `filter` and `taskIds`, and a `replay:` model's trajectory). */
export interface TaskSelection {
  tasksFile: string;
  /** Glob over task ids (picomatch, dotfiles matched). */
  filter?: string;
  /** Exact task ids; a warning names those the file lacks. */
  taskIds?: string[];
  /** A `replay:` model's recorded trajectory: only its task runs, taken from the trajectory when the file lacks it. */
  replay?: Trajectory;
}

/**
 * The tasks of a run: `tasks` (the file's valid lines) narrowed to the replayed task, then to
 * `filter`, then to `taskIds`. Warns through `logger`: ids the file lacks, each rejected line
 * (`file:line:column: message`), and an empty selection (saying why).
 */
export function selectTasks(tasks: TaskEntry[], rejected: RejectedLine[], selection: TaskSelection, logger: Logger): TaskEntry[] {
  const { tasksFile, filter, taskIds, replay } = selection;
  if (replay) {
    const wanted = replay.task_id;
    tasks = tasks.filter((t) => t.task.task_id === wanted);
    if (!tasks.length) tasks = [{ line: replay.source?.line ?? 0, task: replay.task }];
  }
  if (filter) {
    const match = picomatch(filter, { dot: true });
    tasks = tasks.filter((t) => match(t.task.task_id));
  }
  if (taskIds) {
    const wanted = new Set(taskIds);
    tasks = tasks.filter((t) => wanted.has(t.task.task_id));
    const found = new Set(tasks.map((t) => t.task.task_id));
    const missing = taskIds.filter((id) => !found.has(id));
    if (missing.length) logger.warn(`task id(s) not in ${tasksFile}: ${missing.map((id) => JSON.stringify(id)).join(', ')}`);
  }
  for (const r of rejected) logger.warn(`${r.file}:${r.line}:${r.column}: ${r.message} (line skipped)`);
  if (!tasks.length) {
    logger.warn(
      filter || taskIds
        ? `no task in ${tasksFile} matches the selection (${filter ? `--filter ${JSON.stringify(filter)}` : ''}${filter && taskIds ? ', ' : ''}${taskIds ? `${taskIds.length} task id(s)` : ''}); nothing to run`
        : `${tasksFile} has no valid task; nothing to run (\`trajlab validate\` lists the problems)`,
    );
  }
  return tasks;
}

/**
 * The jobs of a run in the order they start: attempt 1 of every task, then attempt 2, and so
 * on; within an attempt, higher `priority` first (default 5), then file order.
 */
export function jobList(tasks: TaskEntry[], attempts: number): Job[] {
  const jobs: Job[] = [];
  const ordered = [...tasks].sort((a, b) => (b.task.priority ?? 5) - (a.task.priority ?? 5) || a.line - b.line);
  for (let attempt = 1; attempt <= attempts; attempt++) for (const entry of ordered) jobs.push({ entry, attempt });
  return jobs;
}
