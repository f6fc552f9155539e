import type { PoolHostState } from '../../../common/src/protocol';
import type { AttemptState, RunInfo, RunReport } from '../../../common/src/run';
import type { Task } from '../../../common/src/task';
import type { Step, Trajectory } from '../../../common/src/trajectory';
import type { RunStore } from '../store/runStore';
import type { EnvironmentContext, PendingEnvironment } from './environment';
import type { Job } from './jobs';

/**
 * What the engine gives a place that runs an attempt elsewhere (JobPlace.execute): the attempt,
 * the run's store to write its trajectory in, the run's cancel signal, and the callbacks that
 * record its states and finished steps (as runAttempt's context has them).
 */
export interface RemoteAttempt {
  runId: string;
  task: Task;
  attempt: number;
  store: RunStore;
  signal: AbortSignal;
  onState(state: AttemptState): void;
  onStep(trajectory: Trajectory, step: Step): Promise<void>;
}

/**
 * Where one job runs: what its attempt takes from the place. A place on a Docker host of this
 * process has `environment` and `takeEnvironment`; a place that runs attempts elsewhere (a queue
 * worker) has `execute` instead.
 */
export interface JobPlace {
  /** The job's environment context there: Docker host, GPU allocator, image and command limits. */
  environment?: EnvironmentContext;
  /** Takes the job's environment, prepared ahead or started now; called once, when the attempt needs it. */
  takeEnvironment?(): PendingEnvironment;
  /**
   * Runs the attempt elsewhere and records it through `attempt` (its trajectory in
   * `attempt.store`, written as runAttempt writes it); resolves with the finished trajectory.
   * Throws AbortedError when the run is cancelled (the trajectory left unfinished for a resume).
   */
  execute?(attempt: RemoteAttempt, previous: Trajectory | undefined): Promise<Trajectory>;
  /** The host as the trajectory names it (`environment.host`). */
  hostLabel: string;
  /** Queues clean-up (container removal) that need not hold up the next job; done before `settle()` resolves. */
  background(work: () => Promise<unknown>): void;
  /**
   * Pool runs: fires (reason `host down: …`) when the place's Docker host is judged down; the
   * attempt stops at once, records no result and no step in flight, and rejects with
   * HostLostError (its job then runs again on another host, from its journal).
   */
  hostSignal?: AbortSignal;
  /**
   * Pool runs: asked before an attempt records an error: whether its host is lost (the failed
   * call may come before the periodic ping's verdict, so this confirms with a quick ping).
   * Resolves to the reason (`host down: …`) or undefined when the host answers.
   */
  hostLost?(): Promise<string | undefined>;
  /** Pool runs: set when this job comes here from a host that went down (HostMove's `from` and `reason`). */
  move?: { from: string; reason: string };
}

/**
 * An attempt ended without a result and goes back to the queue, to continue later from its
 * journal (the trajectory is left `running` on disk with every finished step, as a cancel
 * leaves it): its model was unavailable (ModelUnavailableError). JobWork.attempt rejects with
 * it; the runner puts the job at the end of its queue.
 */
export class RequeueError extends Error {}

/**
 * An attempt ended without a result because its Docker host was lost (JobPlace.hostLost): the
 * trajectory is left `running` on disk with every finished step in its journal, as a cancel
 * leaves it. JobWork.attempt rejects with it; the runner runs the job again elsewhere.
 */
export class HostLostError extends Error {}

/** What the engine does with each job a JobRunner runs. */
export interface JobWork {
  /** Runs the job's attempt at `place` and records it; resolves when it has ended, however it went. */
  attempt(job: Job, place: JobPlace): Promise<void>;
  /**
   * Records that the job could not run at all (every host stayed down past `hostWaitSec`): the
   * attempt is counted failed with `error` and no trajectory result (a resume runs it again).
   */
  fail?(job: Job, error: string): Promise<void>;
  /** The job waits for a place (`detail` says why) or stopped waiting (`undefined`). */
  waiting?(job: Job, detail: string | undefined): void;
  /** Whether the job will want an environment: false when an earlier process finished it or it has no model (nothing is prepared ahead for it). */
  wantsEnvironment(job: Job): Promise<boolean>;
}

/**
 * Runs a run's jobs somewhere: decides when and where each job's attempt runs, and holds what
 * the places need (connections, GPUs, environments prepared ahead). The engine keeps the run's
 * records (run.json, events, counts) and talks only to this interface. Implementations:
 * LocalRunner (a pool of workers on one Docker host, localRunner.ts) and PoolRunner (several
 * hosts, poolRunner.ts); a queue is the one to come. Calls come in this order: open, runAll, settle,
 * then removeLeftovers after a cancel.
 */
export interface JobRunner {
  /**
   * Connects to the places jobs run and removes what an earlier crash left there; called
   * before the run writes anything. Errors: a place does not answer (the message says what to do).
   */
  open(): Promise<void>;
  /**
   * Runs `work.attempt` for each of `jobs`, in that order of preference, and resolves when all
   * have ended, or once the run's signal has fired and the attempts started have ended (no job
   * starts after it). Rejects only if `work.attempt` does (other than with HostLostError: that
   * job runs again at another place, or RequeueError: that job goes to the end of the queue).
   */
  runAll(jobs: readonly Job[], work: JobWork): Promise<void>;
  /** Releases what the run still holds (environments prepared for no attempt) and waits for queued clean-up. Never throws: failures are logged. */
  settle(): Promise<void>;
  /** After a cancel: removes everything of the run left at its places (containers). */
  removeLeftovers(): Promise<void>;
  /** The live state of each host the run uses (the Hosts view; `trajlab/hosts/state`); undefined before `open`. */
  hostsState?(): PoolHostState[] | undefined;
  /** Pool runs: the hosts as run.json records them (RunInfo.hosts). */
  hostsInfo?(): RunInfo['hosts'];
  /** Pool runs: report.json's pool counts (host failures, attempts moved). */
  poolReport?(): Pick<RunReport, 'host_failures' | 'moved_attempts'>;
}
