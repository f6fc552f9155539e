/**
 * Cheap looks at a file's text that need no daemon: whether a JSON text is a trajectory the
 * inspector reads (for the CodeLens), and the tasks file a TrajLab trajectory records (for
 * "Replay in a fresh container"). Pure (no `vscode` import). The daemon's importers
 * (server/src/import/) remain the judge; these only decide what to offer.
 */
import type { InspectorFormat } from '../../../common/src/inspector';

/** How much of the start and of the end of a file the format sniff reads (characters). */
export const SNIFF_HEAD_CHARS = 8192;
export const SNIFF_TAIL_CHARS = 4096;

/**
 * The trajectory format a file seems to hold, from its first SNIFF_HEAD_CHARS (`head`) and last
 * SNIFF_TAIL_CHARS (`tail`) characters; undefined when none. Markers (the formats' own fields):
 * - TrajLab: `"schema_version": "trajlab.trajectory/…"` (common/src/trajectory.ts);
 * - Harbor ATIF: `"schema_version": "ATIF-v…"`;
 * - mini-swe-agent: `"trajectory_format": "mini-swe-agent…"` (written last, hence the tail), or
 *   its older message-list format (`[{"role": "system", …`) in a `*.traj.json` file;
 * - SWE-agent: a `"trajectory": [` list with `"environment"` or in a `*.traj` file.
 */
export function sniffTrajectoryFormat(head: string, tail: string, fileName: string): InspectorFormat | undefined {
  if (/"schema_version"\s*:\s*"trajlab\.trajectory\//.test(head)) return 'trajlab';
  if (/"schema_version"\s*:\s*"ATIF-v/.test(head)) return 'atif';
  if (/"trajectory_format"\s*:\s*"mini-swe-agent/.test(head) || /"trajectory_format"\s*:\s*"mini-swe-agent/.test(tail)) return 'mini-swe-agent';
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.traj.json') && /^\s*\[\s*\{\s*"role"\s*:\s*"system"/.test(head)) return 'mini-swe-agent-legacy';
  if (/^\s*\{[\s\S]*"trajectory"\s*:\s*\[/.test(head) && (lower.endsWith('.traj') || /"environment"\s*:/.test(head))) return 'swe-agent';
  return undefined;
}
