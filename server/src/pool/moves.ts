/**
 * The bookkeeping of an attempt that moves off a host that went down (pool runs): the host
 * changes its trajectory records, and the reply whose actions did not finish there.
 */
import type { HostMove } from '../../../common/src/run';
import type { ChatMessage } from '../../../common/src/trajectory';

/**
 * The trajectory's `environment.moves` once an attempt starts on `to`: the `earlier` moves
 * (oldest first, kept also when no step had finished) and, when it comes from a host that went
 * down (`move`), one more with `at_step` (steps finished before the move) and `time` (ISO).
 */
export function hostMoves(earlier: HostMove[] | undefined, move: { from: string; reason: string } | undefined, to: string, atStep: number, time: string): HostMove[] {
  return [...(earlier ?? []), ...(move ? [{ from: move.from, to, at_step: atStep, time, reason: move.reason }] : [])];
}

/**
 * How many of `messages` to keep when an attempt stops between steps (cancel, lost host): those
 * up to the last finished step (`finished`: the count then), plus any that came after it before
 * the next reply (a multi-step task's next prompt); the reply whose actions did not finish, and
 * what followed it, go: a resume asks the model again.
 */
export function messagesToKeep(messages: readonly ChatMessage[], finished: number): number {
  const i = messages.findIndex((m, j) => j >= finished && m.role === 'assistant');
  return i >= 0 ? i : messages.length;
}
