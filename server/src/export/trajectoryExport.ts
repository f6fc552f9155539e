/**
 * Writing a trajectory in another tool's format: the one entry point of `trajlab convert` and of
 * the inspector's "Export this trajectory…" for single-trajectory formats. Dataset-level exports
 * (SFT JSONL, ShareGPT, …) live beside it in this folder.
 */
import type { Trajectory } from '../../../common/src/trajectory';
import { toAtif } from './atif';
import { toMiniSweAgent } from './miniSweAgent';

/** Formats a single trajectory can be written in. */
export const TRAJECTORY_EXPORT_FORMATS = ['trajlab', 'atif', 'mini-swe-agent'] as const;
export type TrajectoryExportFormat = (typeof TRAJECTORY_EXPORT_FORMATS)[number];

/**
 * The trajectory as a JSON value of `format`: `trajlab` (as is), `atif` (Harbor ATIF v1.5, v1.6
 * with images, export/atif.ts) or `mini-swe-agent` (`trajectory_format: "mini-swe-agent-1.1"`,
 * export/miniSweAgent.ts). `file` is the trajectory's file, which ATIF's image paths are made
 * absolute against (AtifExportOptions). Pure; never throws.
 */
export function exportTrajectory(t: Trajectory, format: TrajectoryExportFormat, file?: string): unknown {
  switch (format) {
    case 'trajlab':
      return t;
    case 'atif':
      return toAtif(t, { file });
    case 'mini-swe-agent':
      return toMiniSweAgent(t);
  }
}
