/**
 * The parts of a trajectory read from a file that curation reads (flags.ts, tampering.ts,
 * nearDuplicates.ts), taken only where they have the shape common/src/trajectory.ts promises. A
 * file passes the reader's check (dataset/reader.ts) with its steps an array; what is inside them
 * may still be damaged (a number for a command, null for an observation): such a part is left
 * out here, so that one damaged file never stops `stats` or `export`.
 */
import type { Action, Observation, Step } from '../../../common/src/trajectory';

/** One action of a step with its observation (undefined where missing or damaged). */
export interface StepAction {
  a: Action;
  o: Observation | undefined;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Whether `a` is an action of a known kind whose text fields are strings. */
function wellFormedAction(a: unknown): a is Action {
  if (!isObject(a) || typeof a.kind !== 'string') return false;
  if (a.kind === 'bash') return typeof a.command === 'string';
  if (a.kind === 'edit') return typeof a.command === 'string' && typeof a.path === 'string';
  return true;
}

/** Whether `o` is an observation with string outputs. */
function wellFormedObservation(o: unknown): o is Observation {
  return isObject(o) && typeof o.stdout === 'string' && typeof o.stderr === 'string';
}

/** The well-formed actions of step `s` (in order) with their observations; [] for a damaged step. */
export function stepActions(s: Step | unknown): StepAction[] {
  if (!isObject(s) || !Array.isArray(s.actions)) return [];
  const observations = Array.isArray(s.observations) ? s.observations : [];
  const out: StepAction[] = [];
  s.actions.forEach((a: unknown, i: number) => {
    if (wellFormedAction(a)) out.push({ a, o: wellFormedObservation(observations[i]) ? (observations[i] as Observation) : undefined });
  });
  return out;
}

/** `xs` when it is an array of strings' worth: its string items; [] for anything else. */
export function strings(xs: unknown): string[] {
  return Array.isArray(xs) ? xs.filter((x): x is string => typeof x === 'string') : [];
}
