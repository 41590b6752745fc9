// What costly fields count towards an operation's complexity limit
// (COMPLEXITY_LIMIT in builder.ts): compiling and replaying grow with the size
// of their inputs, so their cost does too. A program of the largest size
// allowed (200,000 characters) costs about 16,700 of the 25,000 an operation
// may spend: one per operation, so that aliases cannot multiply the work. A
// field that compiles a program, or replays events, spreads these into its
// `complexity` (previewProgram too).

/** Characters of program source per unit of cost. */
export const SOURCE_CHARS_PER_UNIT = 12;
/** Replayed events per unit of cost. */
export const EVENTS_PER_UNIT = 2;

/** The cost of compiling `source`. */
export function sourceCost(source: string | null | undefined): number {
  return Math.ceil((source?.length ?? 0) / SOURCE_CHARS_PER_UNIT);
}

/** The cost of replaying `events`. */
export function eventsCost(events: readonly unknown[] | null | undefined): number {
  return Math.ceil((events?.length ?? 0) / EVENTS_PER_UNIT);
}

/** `complexity` of a field that compiles its `source` argument (and replays its `events`, if any). */
export const compileComplexity = (args: { source?: string | null; events?: readonly unknown[] | null }) => ({
  field: 1 + sourceCost(args.source) + eventsCost(args.events),
  multiplier: 1,
});

/** What replaying the merchant's whole history costs (previewProgram), whatever its size:
 * with a program, at most one preview of a large draft per operation, or a few of small ones. */
export const PREVIEW_COST = 5_000;

/** `complexity` of previewProgram: compiling its `source`, and replaying the log. */
export const previewComplexity = (args: { source?: string | null }) => ({
  field: 1 + sourceCost(args.source) + PREVIEW_COST,
  multiplier: 1,
});
