// Dry run of a draft program: replay events against it with no database.
import { Replay, type ReplayResult } from '../engine.ts';
import { DomainError, ProgramInvalidError } from './errors.ts';
import { compileSource } from './programs.ts';

export const MAX_SIMULATED_EVENTS = 10_000;

/** Events are replay.md objects; event i is reported as line i + 1. */
export function simulate(source: string, events: readonly unknown[]): ReplayResult {
  if (events.length > MAX_SIMULATED_EVENTS) {
    throw new DomainError('BAD_USER_INPUT', `simulate takes at most ${MAX_SIMULATED_EVENTS} events`);
  }
  const compiled = compileSource(source);
  if (!compiled.program) throw new ProgramInvalidError(compiled.diagnostics, source);
  const replay = new Replay(compiled.program);
  events.forEach((event, i) => replay.pushLine(JSON.stringify(event) ?? 'null', i + 1));
  return replay.result();
}
