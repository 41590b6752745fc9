// Carrying a member into a new program version. A member's state outlives
// the program that wrote it: `prepare` re-maps what is kept by name (limits,
// clubs, the tier metric), and this re-derives the tier under the new
// thresholds as of the member's own last event, as that member's next event
// would. The server applies it to every member when a version is published,
// so the tier it shows (and filters on) is never the old program's.
import type { Program } from '../../dsl/program.ts';
import { evaluateTier, prepare, evaluation, updateDue } from './engine.ts';
import { currentState } from './state.ts';
import type { MemberState } from './types.ts';

/** Re-derives `s`'s tier under `program` at `s.at`; true when its tier or grace changed. */
export function carryOver(program: Program, s: MemberState): boolean {
  currentState(s);
  const rt = evaluation(program);
  prepare(rt, s);
  const tier = s.tier;
  const grace = s.graceUntil;
  evaluateTier(rt, s, s.at);
  updateDue(rt, s);
  return s.tier !== tier || s.graceUntil !== grace;
}
