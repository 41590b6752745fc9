// The engine: pure evaluation of a compiled program against member states.
// Replay and the GraphQL server call the same functions (docs/engine-api.md).
export { applyEvent, advance, changeBirthday, eraseState, renameReferrer, nextDue, clubsAt, membership, newMember, pendingPoints, vestingsOf, evaluation, planFor, rewardAvailability, challengeProgress } from './engine.ts';
export type { ChallengeProgress } from './engine.ts';
export type { RewardAvailability } from './engine.ts';
export { carryOver } from './carry.ts';
export { upgradeOrder, upgradeState } from './state.ts';
export type { Contribution } from './engine.ts';
export { EVENT_TYPES, eventLine, parseEvent, parseMoney } from './events.ts';
export { Replay } from './replay.ts';
export type { ReplayResult, MemberResult, ResultEntry, ReplayError, ReplayOptions } from './replay.ts';
export { formatInstant, parseBirthday, parseInstant, zoneFor } from './time.ts';
export { formatCurrency } from './refusals.ts';
export type { Refusal, RefusalCode, RefusalFigures } from './refusals.ts';
export { memberView, quote } from './view.ts';
export type { MemberView, Quote, TierView, DiscountView, ProgressView, ClubView } from './view.ts';
export type * from './types.ts';
export { diffPrograms, parseFrom, ProgramDiff, redeemValue } from './diff.ts';
export type { DiffOptions, DiffResult, MemberDiff, MemberSummary, SideTotals, ChangedCounts, TierMove } from './diff.ts';
