/**
 * Text and Markdown renderings of dataset statistics and run comparisons: the terminal output
 * of `trajlab stats` / `trajlab compare`, and `--markdown` (the quality report). Untrusted text
 * (task ids, commands, file names) is made printable (no terminal controls) and, in Markdown
 * tables, `|` and newlines are escaped.
 */
import type { DatasetStats, Distribution, GroupStats, PairedDifference, RunComparison, SelectionSummary } from '../../../common/src/dataset';
import { formatCost, formatCount, formatDuration, formatPercent, formatTokens, oneLine, UNKNOWN } from '../../../common/src/format';
import { sanitizeForTerminal } from '../util/terminal';

const num = (x: number | null, digits = 2) => (x === null ? UNKNOWN : Number.isInteger(x) ? formatCount(x) : x.toFixed(digits));

function dist(d: Distribution, f: (x: number | null) => string): string {
  if (!d.count) return d.unknown ? `unknown (${d.unknown})` : UNKNOWN;
  return `mean ${f(d.mean)}  p50 ${f(d.p50)}  p90 ${f(d.p90)}  max ${f(d.max)}${d.unknown ? `  (${d.unknown} unknown)` : ''}`;
}

function bars(d: Distribution, f: (x: number) => string, width = 30): string[] {
  const { edges, counts } = d.histogram;
  const top = Math.max(1, ...counts);
  return counts.map((c, i) => `  ${`[${f(edges[i]!)}, ${f(edges[i + 1]!)}${i === counts.length - 1 ? ']' : ')'}`.padEnd(22)} ${'█'.repeat(Math.round((c / top) * width)).padEnd(width)} ${c}`);
}

/** Columns padded to their widest cell. */
function columns(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

function groupCells(g: GroupStats): string[] {
  return [String(g.trajectories), String(g.tasks), formatPercent(g.success_rate), formatPercent(g.resolved_rate), num(g.reward_mean, 3)];
}

/**
 * One line on a diversity selection: `20 of 200 by diversity (seed 0, radius 0.453); groups
 * covered: type 10/10, repo 1/1, difficulty 2/3; quotas type=1`. The radius is the largest
 * distance (1 − estimated Jaccard) from a candidate to its nearest pick.
 */
export function selectionLine(sel: SelectionSummary): string {
  const covered = Object.keys(sel.coverage).map((k) => {
    const groups = Object.values(sel.coverage[k]);
    return `${k} ${groups.filter((g) => g.selected > 0).length}/${groups.length}`;
  });
  const quotas = sel.quotas.length ? `; quotas ${sel.quotas.map((q) => `${q.key}=${q.min}`).join(', ')}` : '';
  return sanitizeForTerminal(`${sel.selected} of ${sel.candidates} by ${sel.by} (seed ${sel.seed}, radius ${sel.radius.toFixed(3)}); groups covered: ${covered.join(', ')}${quotas}`);
}

/** `trajlab stats` for a terminal. */
export function renderStatsText(s: DatasetStats): string {
  const o = s.overall;
  const out: string[] = [];
  out.push(`trajectories  ${o.trajectories} (${s.runs.length} run(s), ${o.tasks} task(s); ${o.unfinished} unfinished, ${s.corrupt.length} corrupt file(s), ${s.dropped} left out)`);
  out.push(`success       ${formatPercent(o.success_rate)} of trajectories with a known outcome`);
  out.push(`resolved      ${formatPercent(o.resolved_rate)} of tasks`);
  const pk = Object.entries(s.pass_at_k);
  if (pk.length) out.push(`pass@k        ${pk.map(([k, v]) => `${k} ${v.value.toFixed(3)}`).join('  ')}`);
  out.push(`reward        ${dist(s.reward, (x) => num(x, 3))}`);
  if (s.reward.count) out.push(...bars(s.reward, (x) => x.toFixed(1)));
  out.push(`steps         ${dist(s.steps, (x) => num(x, 1))}`);
  out.push(`tokens        ${dist(s.tokens, formatTokens)}`);
  out.push(`cost          ${dist(s.cost_usd, formatCost)}  total ${formatCost(s.cost_usd.sum)}`);
  out.push(`duration      ${dist(s.duration_ms, formatDuration)}`);
  out.push(`exit status   ${Object.entries(s.exit_statuses).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || UNKNOWN}`);
  if (o.format_errors) out.push(`format errors ${o.format_errors}`);
  const flagged = Object.entries(s.flags).filter(([, n]) => n > 0);
  out.push(`flags         ${flagged.length ? flagged.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`);
  for (const [k] of flagged) for (const f of s.flag_examples[k as keyof typeof s.flag_examples] ?? []) out.push(`  ${k.padEnd(20)} ${f}`);
  if (s.selection) out.push(`selected      ${selectionLine(s.selection)} (the figures are of the selected)`);
  if (s.top_failing_commands.length) {
    out.push('', 'top failing commands');
    out.push(...columns(['program', 'failures', 'trajectories', 'example'], s.top_failing_commands.map((c) => [c.program, String(c.failures), String(c.trajectories), oneLine(c.example, 70)])).map((l) => `  ${l}`));
  }
  out.push('', 'by task type');
  out.push(...columns(['type', 'trajectories', 'tasks', 'success', 'resolved', 'reward', 'steps p50'], Object.entries(s.by_task_type).map(([k, g]) => [k, ...groupCells(g), num(g.steps_p50, 1)])).map((l) => `  ${l}`));
  if (Object.keys(s.by_run).length > 1 || Object.values(s.by_run).some((r) => r.model)) {
    out.push('', 'by run');
    out.push(...columns(['run', 'model', 'trajectories', 'tasks', 'success', 'resolved', 'reward'], Object.entries(s.by_run).map(([k, g]) => [k, g.model ?? UNKNOWN, ...groupCells(g)])).map((l) => `  ${l}`));
  }
  if (s.secrets?.found) {
    out.push('', `secrets: ${s.secrets.found} in ${s.secrets.trajectories} trajectories (${ruleCounts(s.secrets.by_rule)}); \`trajlab export\` redacts them (--secrets)`);
    for (const f of s.secrets.files) out.push(`  ${f.file}: ${f.where.join('; ')}`);
    if (s.secrets.files.length < s.secrets.trajectories) out.push(`  … and ${s.secrets.trajectories - s.secrets.files.length} more (--json)`);
  }
  if (s.corrupt.length) {
    out.push('', 'corrupt files (not counted)');
    for (const c of s.corrupt) out.push(`  ${c.file}: ${c.detail}`);
  }
  return sanitizeForTerminal(out.join('\n') + '\n');
}

/** `aws-access-key-id 1, github-token 2`. */
function ruleCounts(byRule: Record<string, number>): string {
  return Object.entries(byRule).map(([k, v]) => `${k} ${v}`).join(', ');
}

const md = (s: string) => sanitizeForTerminal(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function mdTable(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`, ...rows.map((r) => `| ${r.map(md).join(' | ')} |`)];
}

/** `trajlab stats --markdown`: the quality report. */
export function renderStatsMarkdown(s: DatasetStats, title = 'Dataset quality report'): string {
  const o = s.overall;
  const out: string[] = [`# ${md(title)}`, '', `TrajLab ${s.trajlab_version}. Sources: ${s.sources.map((x) => `\`${md(x.path)}\` (${x.kind}, ${x.files} file(s))`).join(', ')}.`, ''];
  out.push('## Overview', '');
  out.push(
    ...mdTable(
      ['figure', 'value'],
      [
        ['trajectories', String(o.trajectories)],
        ['tasks', String(o.tasks)],
        ['runs', String(s.runs.length)],
        ['unfinished', String(o.unfinished)],
        ['corrupt files', String(s.corrupt.length)],
        ['left out by filters', String(s.dropped - s.corrupt.length)],
        ['success rate', formatPercent(o.success_rate)],
        ['resolved rate (tasks)', formatPercent(o.resolved_rate)],
        ...Object.entries(s.pass_at_k).map(([k, v]) => [k, `${v.value.toFixed(3)} (${v.tasks} tasks)`]),
        ['reward mean', num(o.reward_mean, 3)],
        ['format errors', String(o.format_errors)],
        ['total cost', formatCost(s.cost_usd.sum)],
      ],
    ),
    '',
  );
  out.push('## Distributions', '');
  const row = (name: string, d: Distribution, f: (x: number | null) => string) => [name, String(d.count), f(d.mean), f(d.p50), f(d.p90), f(d.max), String(d.unknown)];
  out.push(
    ...mdTable(
      ['', 'n', 'mean', 'p50', 'p90', 'max', 'unknown'],
      [row('reward', s.reward, (x) => num(x, 3)), row('steps', s.steps, (x) => num(x, 1)), row('tokens', s.tokens, formatTokens), row('cost (USD)', s.cost_usd, formatCost), row('duration', s.duration_ms, formatDuration)],
    ),
    '',
  );
  if (s.reward.count) {
    out.push('### Reward histogram', '');
    out.push(...mdTable(['bin', 'trajectories'], s.reward.histogram.counts.map((c, i) => [`[${s.reward.histogram.edges[i]!.toFixed(1)}, ${s.reward.histogram.edges[i + 1]!.toFixed(1)}${i === s.reward.histogram.counts.length - 1 ? ']' : ')'}`, String(c)])), '');
  }
  out.push('## Curation flags', '');
  out.push(...mdTable(['flag', 'trajectories', 'examples'], Object.entries(s.flags).map(([k, n]) => [k, String(n), (s.flag_examples[k as keyof typeof s.flag_examples] ?? []).map((f) => `\`${f}\``).join(', ')])), '');
  if (s.selection) {
    out.push('## Selection', '', `${md(selectionLine(s.selection))}; the figures above are of the selected trajectories.`, '');
    out.push(...mdTable(['group', 'candidates', 'selected'], Object.keys(s.selection.coverage).flatMap((k) => Object.entries(s.selection!.coverage[k]!).map(([g, c]) => [`${k}=${md(g)}`, String(c.candidates), String(c.selected)]))), '');
  }
  out.push('## Exit statuses', '');
  out.push(...mdTable(['exit status', 'trajectories'], Object.entries(s.exit_statuses).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, String(v)])), '');
  if (s.top_failing_commands.length) {
    out.push('## Top failing commands', '');
    out.push(...mdTable(['program', 'failures', 'trajectories', 'example'], s.top_failing_commands.map((c) => [`\`${c.program}\``, String(c.failures), String(c.trajectories), `\`${oneLine(c.example, 100)}\``])), '');
  }
  out.push('## By task type', '');
  out.push(...mdTable(['type', 'trajectories', 'tasks', 'success', 'resolved', 'reward mean', 'steps p50'], Object.entries(s.by_task_type).map(([k, g]) => [k, ...groupCells(g), num(g.steps_p50, 1)])), '');
  out.push('## By run', '');
  out.push(...mdTable(['run', 'model', 'trajectories', 'tasks', 'success', 'resolved', 'reward mean'], Object.entries(s.by_run).map(([k, g]) => [k, g.model ?? UNKNOWN, ...groupCells(g)])), '');
  if (s.secrets?.found) {
    out.push('## Secrets', '', `${s.secrets.found} secret(s) in ${s.secrets.trajectories} trajectories, found by ${md(s.secrets.scanner)}; \`trajlab export\` redacts them.`, '');
    out.push(...mdTable(['rule', 'secrets'], Object.entries(s.secrets.by_rule).map(([k, v]) => [k, String(v)])), '');
    for (const f of s.secrets.files) out.push(`- \`${md(f.file)}\`: ${md(f.where.join('; '))}`);
    out.push('');
  }
  if (s.corrupt.length) {
    out.push('## Corrupt files', '');
    for (const c of s.corrupt) out.push(`- \`${md(c.file)}\`: ${md(c.detail)}`);
    out.push('');
  }
  return out.join('\n');
}

function diff(p: PairedDifference, f: (x: number | null) => string): string {
  if (p.mean === null) return UNKNOWN;
  const sign = (x: number) => (x > 0 ? '+' : x < 0 ? '-' : '') + f(Math.abs(x));
  return `${sign(p.mean)}${p.ci95 ? ` (95% CI, Student t with ${p.n - 1} df: ${sign(p.ci95[0])} to ${sign(p.ci95[1])})` : ''}, n=${p.n}`;
}

/** `trajlab compare` for a terminal (or Markdown with `markdown: true`). */
export function renderComparison(c: RunComparison, opts: { markdown?: boolean; allTasks?: boolean } = {}): string {
  const head = ['task', 'reward A', 'reward B', 'resolved A→B', 'steps A', 'steps B', 'cost A', 'cost B', 'change'];
  const shown = opts.allTasks ? c.tasks : c.tasks.filter((t) => t.change === 'fixed' || t.change === 'broken' || t.change === 'only_a' || t.change === 'only_b');
  const rows = shown.map((t) => [
    t.task_id,
    num(t.a?.reward_mean ?? null, 3),
    num(t.b?.reward_mean ?? null, 3),
    `${t.a ? (t.a.resolved ? 'yes' : 'no') : UNKNOWN}→${t.b ? (t.b.resolved ? 'yes' : 'no') : UNKNOWN}`,
    num(t.a?.steps_mean ?? null, 1),
    num(t.b?.steps_mean ?? null, 1),
    formatCost(t.a?.cost_usd_mean ?? null),
    formatCost(t.b?.cost_usd_mean ?? null),
    t.change,
  ]);
  const overall = [
    ['', 'A', 'B'],
    ['run', c.a.label, c.b.label],
    ['trajectories', String(c.a.stats.trajectories), String(c.b.stats.trajectories)],
    ['tasks', String(c.a.stats.tasks), String(c.b.stats.tasks)],
    ['resolved', formatPercent(c.a.stats.resolved_rate), formatPercent(c.b.stats.resolved_rate)],
    ['success', formatPercent(c.a.stats.success_rate), formatPercent(c.b.stats.success_rate)],
    ['reward mean', num(c.a.stats.reward_mean, 3), num(c.b.stats.reward_mean, 3)],
  ];
  const deltas = [
    `tasks in both: ${c.tasks_in_both}; fixed ${c.fixed.length}, broken ${c.broken.length}${c.resolved.mcnemar_p !== null ? ` (McNemar exact p = ${c.resolved.mcnemar_p.toPrecision(3)})` : ''}`,
    `paired B − A: resolved ${diff(c.resolved, (x) => `${((x ?? 0) * 100).toFixed(1)} pts`)}`,
    `              reward ${diff(c.reward, (x) => num(x, 3))}`,
    `              steps ${diff(c.steps, (x) => num(x, 1))}`,
    `              cost ${diff(c.cost_usd, formatCost)}`,
  ];
  if (opts.markdown) {
    const out = ['# Run comparison', '', ...mdTable(overall[0]!, overall.slice(1)), '', ...deltas.map((d) => `- ${md(d.trim())}`), ''];
    out.push(`## ${opts.allTasks ? 'Tasks' : 'Tasks that changed'}`, '');
    out.push(...(rows.length ? mdTable(head, rows) : ['(none)']), '');
    return out.join('\n');
  }
  const out = [...columns(overall[0]!, overall.slice(1)), '', ...deltas, ''];
  out.push(opts.allTasks ? 'tasks' : 'tasks that changed (--all for every task)');
  out.push(...(rows.length ? columns(head, rows).map((l) => `  ${l}`) : ['  (none)']));
  return sanitizeForTerminal(out.join('\n') + '\n');
}

