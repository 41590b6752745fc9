// The server's single door to the language and the engine (docs/engine-api.md).
// Types are derived from the functions so the server follows the engine's
// own definitions instead of restating them.
import { compile, renderDiagnostic } from '../../dsl/index.ts';
export { fromMinorUnits, parseDate } from '../../dsl/values.ts';
export { EVENT_TYPES } from '../engine/index.ts';
import {
  advance,
  applyEvent,
  carryOver,
  challengeProgress,
  changeBirthday,
  eraseState,
  eventLine,
  formatCurrency,
  formatInstant,
  memberView,
  nextDue,
  parseBirthday,
  parseEvent,
  parseInstant,
  pendingPoints,
  quote,
  renameReferrer,
  ProgramDiff,
  redeemValue,
  Replay,
  rewardAvailability,
  upgradeOrder,
  upgradeState,
  vestingsOf,
} from '../engine/index.ts';

export { advance, applyEvent, carryOver, challengeProgress, changeBirthday, compile, eraseState, eventLine, formatCurrency, formatInstant, memberView, nextDue, parseBirthday, parseEvent, parseInstant, pendingPoints, quote, ProgramDiff, redeemValue, renameReferrer, renderDiagnostic, Replay, rewardAvailability, upgradeOrder, upgradeState, vestingsOf };
export type { ChallengeProgress, RewardAvailability } from '../engine/index.ts';

export type CompileResult = ReturnType<typeof compile>;
export type Program = NonNullable<CompileResult['program']>;
export type Diagnostic = CompileResult['diagnostics'][number];
export type EngineEvent = Parameters<typeof applyEvent>[1];
export type World = Parameters<typeof applyEvent>[2];
export type Outcome = ReturnType<typeof applyEvent>;
/** The engine's record of an accepted order, kept with the order for refunds. */
export type OrderRecord = NonNullable<Outcome['order']>;
export type MemberState = Parameters<typeof advance>[1];
/** One order's points waiting to vest (dsl.md 4.9). */
export type Vesting = ReturnType<typeof vestingsOf>[number];
export type LedgerEntry = ReturnType<typeof advance>[number];
export type MemberView = ReturnType<typeof memberView>;
export type Quote = ReturnType<typeof quote>;
export type QuoteOrder = Parameters<typeof quote>[2];
export type ReplayResult = ReturnType<Replay['result']>;
export type DiffResult = ReturnType<ProgramDiff['result']>;
/** Why the engine refused an event: a stable code, a message, and its figures. */
export type Refusal = NonNullable<Outcome['refusal']>;
export type RefusalCode = Refusal['code'];
