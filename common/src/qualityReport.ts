/**
 * The quality report of a selection of trajectories (`trajlab report`, the Dataset panel's
 * Quality tab): per curation flag the count and examples with the step of the offence,
 * near-duplicate clusters, secrets by rule (where, never what), tampered trajectories, and
 * coverage (task types, repositories, rewards, steps). Computed by
 * server/src/stats/qualityReport.ts; rendered by webviews/src/dataset/qualityView.ts in both
 * the panel and the self-contained HTML file. Every text in it that came from a trajectory (task
 * ids, commands quoted in a flag's detail) has had its secrets redacted as `<REDACTED:rule>`.
 */
import type { Distribution, DropReason, ManifestSource, SecretTally, SelectionSummary, TrajectoryFlag } from './dataset';

export const QUALITY_REPORT_VERSION = 'trajlab.quality-report/1';
/** The id of the `<script type="application/json">` block that holds the report in the HTML file. */
export const QUALITY_REPORT_DATA_ID = 'trajlab-quality-data';

/** A trajectory the report points at. */
export interface QualityTrajectory {
  /** Absolute path of the trajectory file (what the inspector opens). */
  file: string;
  run_id: string;
  task_id: string;
  attempt: number;
  task_type: string;
  /** 0..1; null when unknown. */
  reward: number | null;
  steps: number;
}

/** One example of a finding: the trajectory, and the step (0-based position, as the inspector numbers steps) where it shows. */
export interface QualityExample extends QualityTrajectory {
  /** null when no step shows it (a diff-only finding, a secret in the task or the result). */
  step: number | null;
  /** One line saying what was found (for a secret: where, e.g. `steps[3].observations[0].stdout`). */
  detail: string;
}

/** A curation flag in the report. */
export interface QualityFlag {
  /** Trajectories with the flag (all of them, not only the examples). */
  count: number;
  /** The first `limits.examples` of them, in source order. */
  examples: QualityExample[];
}

/** A near-duplicate cluster: trajectories of one task whose actions and diffs are alike (server/src/dataset/nearDuplicates.ts). */
export interface NearCluster {
  task_id: string;
  /** Trajectories in the cluster, the kept one included. */
  size: number;
  /** The one a `--dedupe near` export keeps: reward, then fewest steps, then source order. */
  kept: QualityTrajectory;
  /** The others (the first `limits.members`), with their estimated Jaccard similarities (0..1) to the kept one. */
  members: (QualityTrajectory & { jaccard: number; diff_jaccard: number })[];
}

/** Secrets of one rule (the placeholder's name: `aws-access-key-id`). */
export interface QualitySecretRule {
  /** Distinct secrets, summed over trajectories. */
  found: number;
  trajectories: number;
  /** Where (`detail`: the JSON path of the text), never the secret. */
  examples: QualityExample[];
}

/** See the file comment. */
export interface QualityReport {
  schema_version: typeof QUALITY_REPORT_VERSION;
  trajlab_version: string;
  /** ISO time the report was computed. */
  created_at: string;
  sources: ManifestSource[];
  /** Caps of the lists (the counts always cover every trajectory). */
  limits: { examples: number; clusters: number; members: number; tampered: number };
  /** Trajectories in the selection, their tasks and runs. */
  trajectories: number;
  tasks: number;
  runs: string[];
  /** Files that are no readable trajectory (`{file, detail}`), and files left out by the filters. */
  corrupt: { file: string; detail: string }[];
  dropped: number;
  dropped_by_reason: Partial<Record<DropReason, number>>;
  /** Every flag (TRAJECTORY_FLAGS), with 0 when none. */
  flags: Record<TrajectoryFlag, QualityFlag>;
  near_duplicates: {
    /** The Jaccard threshold used (`--near-threshold`; default NEAR_DUPLICATE_THRESHOLD). */
    threshold: number;
    /** Clusters of two or more. */
    clusters: number;
    /** Trajectories in them. */
    in_clusters: number;
    /** What `--dedupe near` would drop: in_clusters − clusters. */
    redundant: number;
    /** The largest clusters first (at most `limits.clusters`). */
    largest: NearCluster[];
  };
  /**
   * With `--select K --by diversity`: what the selection picked, with its coverage per quota key
   * and group (candidates and picks; group names that held a secret redacted); null without.
   */
  selection: SelectionSummary | null;
  /** Secrets an export would redact, by rule; null when the scan was switched off. */
  secrets: (SecretTally & { rules: Record<string, QualitySecretRule> }) | null;
  /** Tampered trajectories (at most `limits.tampered`), each with every reason in `detail`. */
  tampered: QualityExample[];
  coverage: {
    /** Trajectories per task type (`unknown` when the task names none). */
    task_types: Record<string, number>;
    /** Trajectories per repository (TrajectorySummary.repo; `(none)` without one); the 30 largest, the rest as `(other)`. */
    repositories: Record<string, number>;
    reward: Distribution;
    steps: Distribution;
    exit_statuses: Record<string, number>;
  };
}
