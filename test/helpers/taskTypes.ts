/**
 * Trajectories of ten task categories for the diversity-selection tests and bench: each category
 * has a prompt and six programs of its own, and each trajectory of a category runs the same
 * twelve commands in one of three rotations with one command of its own, so two trajectories of
 * one category are alike (an estimated Jaccard around a half) and two of different categories
 * share next to nothing. The category is the task's `metadata.category`; its task type (the task
 * schema knows four) is CATEGORY_TYPE's.
 */
import type { Task, TaskType } from '../../common/src/task';
import type { Trajectory } from '../../common/src/trajectory';
import { word } from './nearCopies';
import { finishedTrajectory } from './trajectories';

/** Ten categories, each with its six programs. */
const PROGRAMS = {
  code: ['python', 'pytest', 'black', 'mypy', 'pip', 'ruff'],
  swe: ['git', 'grep', 'sed', 'tox', 'patch', 'diff'],
  reasoning: ['bc', 'awk', 'expr', 'factor', 'seq', 'sort'],
  web: ['curl', 'wget', 'jq', 'http', 'nc', 'dig'],
  data: ['sqlite3', 'csvtool', 'duckdb', 'xsv', 'parquet-tools', 'csvstat'],
  devops: ['docker', 'kubectl', 'terraform', 'helm', 'ansible', 'systemctl'],
  docs: ['sphinx-build', 'mkdocs', 'pandoc', 'aspell', 'vale', 'markdownlint'],
  security: ['openssl', 'nmap', 'gpg', 'bandit', 'trivy', 'semgrep'],
  frontend: ['npm', 'npx', 'eslint', 'tsc', 'vite', 'jest'],
  ml: ['nvidia-smi', 'torchrun', 'accelerate', 'tensorboard', 'wandb', 'huggingface-cli'],
} as const;
export type Category = keyof typeof PROGRAMS;
export const CATEGORIES = Object.keys(PROGRAMS) as Category[];

/** Each category's task type (the schema's four). */
export const CATEGORY_TYPE: Record<Category, TaskType> = { code: 'code', data: 'code', ml: 'code', swe: 'swe', devops: 'swe', security: 'swe', reasoning: 'reasoning', docs: 'reasoning', web: 'web', frontend: 'web' };

/** The commands of trajectory `i` of `category`: its 12 commands rotated by i mod 3, command i mod 12 with a word of i's own. */
export function categoryCommands(category: Category, i: number): string[] {
  const progs = PROGRAMS[category];
  const base = Array.from({ length: 12 }, (_, s) => `${progs[s % 6]} ${category}_step_${s} --${category}-opt ${progs[(s + 1) % 6]}`);
  const rotated = base.slice((i % 3) * 4).concat(base.slice(0, (i % 3) * 4));
  rotated[i % 12] = `${progs[i % 6]} ${word(i)} ${word((i * 7 + 3) % 676)}`;
  return rotated;
}

/**
 * Trajectory `i` of `category` (task `<category>-<i>`, attempt 1, reward i mod 2): a prompt naming
 * the category's programs, categoryCommands and a submit; `task` merges into the task snapshot
 * (repo, FAIL_TO_PASS, metadata).
 */
export function categoryTrajectory(category: Category, i: number, opts: { runId?: string; task?: Partial<Task> } = {}): Trajectory {
  return finishedTrajectory({
    taskId: `${category}-${i}`,
    runId: opts.runId,
    actions: [...categoryCommands(category, i), { kind: 'submit' }],
    task: { task_type: CATEGORY_TYPE[category], description: `A ${category} task: use ${PROGRAMS[category].join(', ')} to finish the job.`, metadata: { category }, ...opts.task },
    reward: i % 2,
  });
}
