// Scalars, money, and the error types shared by every domain type.
import { GraphQLError, Kind } from 'graphql';
import { fromMinorUnits, parseInstant, renderDiagnostic, type Diagnostic, type RefusalCode } from '../../engine.ts';
import { EventRefusedError, ProgramInvalidError } from '../../services/errors.ts';
import { KEYS, KEYS_AND_MEMBERS } from '../access.ts';
import { builder } from '../builder.ts';

/** ISO 8601 in UTC with `Z`, whole seconds unless the instant has milliseconds. */
export function isoInstant(value: Date | number | string): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/** The input as given, once the engine's instant parser accepts it. */
function checkedInstant(text: string): string {
  const parsed = parseInstant(text);
  if (parsed.ok) return text;
  throw new GraphQLError(`DateTime ${JSON.stringify(text)} ${parsed.error}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.scalarType('DateTime', {
  description:
    'An instant. Output: ISO 8601 in UTC (`2026-03-01T09:30:00Z`). Input: `YYYY-MM-DDTHH:MM[:SS[.fff]]` then `Z` or `±HH:MM`.',
  serialize: (value) => isoInstant(value),
  parseValue: (value) => {
    if (typeof value !== 'string') throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return checkedInstant(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return checkedInstant(ast.value);
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function literal(ast): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map((v) => literal(v));
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        throw new GraphQLError('JSON literals cannot hold variables', { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

export interface MoneyShape {
  minor: number;
  currency: string;
  exponent: number;
}

export function money(minor: number, program: { currency: string; currencyExponent: number }): MoneyShape {
  return { minor, currency: program.currency, exponent: program.currencyExponent };
}

export function formatMoney(m: MoneyShape): string {
  return fromMinorUnits(m.minor, m.exponent);
}

export const Money = builder.objectRef<MoneyShape>('Money').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'An exact amount of money in the program currency.',
  fields: (t) => ({
    amount: t.string({ description: 'Decimal string, e.g. "4.50".', resolve: (m) => formatMoney(m) }),
    minorUnits: t.float({
      description: 'Integer minor units (cents for USD); typed Float because an order total can exceed the 32 bits of GraphQL Int (it is always a whole number).',
      resolve: (m) => m.minor,
    }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code.' }),
  }),
});

/** A discount of a tier or a club: the percentage as written and the
 * categories it is on (null for `on everything`). */
export interface DiscountShape {
  percent: string;
  categories: string[] | null;
}

export function discountShape(d: { readonly text: string; readonly categories: ReadonlySet<string> | null }): DiscountShape {
  return { percent: d.text, categories: d.categories === null ? null : [...d.categories] };
}

export const Discount = builder.objectRef<DiscountShape>('Discount').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'A discount of a tier or a club (`discount 10% on category "beans"`, `discount 5% on everything`). On an order, each line gets only the largest discount that fits it, among the member\'s tier at the start of the order and the active clubs.',
  fields: (t) => ({
    percent: t.exposeString('percent', { description: 'The percentage taken off, as written, e.g. "12.5" for 12.5%.' }),
    everything: t.boolean({ description: 'True for `on everything`: the discount fits every line.', resolve: (d) => d.categories === null }),
    categories: t.stringList({
      nullable: true,
      description: 'The categories whose lines it fits; null for `on everything`.',
      resolve: (d) => (d.categories === null ? null : [...d.categories]),
    }),
  }),
});

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  authScopes: KEYS,
  description: 'An expected failure; query `message` on any of them.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'What went wrong, for a person to read.' }) }),
});

const REFUSALS: Record<RefusalCode, string> = {
  UNKNOWN_MEMBER: 'No member with this id has signed up: sign them up first.',
  ALREADY_SIGNED_UP: 'The member has signed up already.',
  SELF_REFERRAL: 'A member cannot refer themselves.',
  UNKNOWN_REFERRER: 'The referrer has not signed up.',
  OUT_OF_ORDER: 'The event is dated before the member\'s last event (`lastEventAt`): send events in time order.',
  UNREADABLE_STATE: 'The member\'s stored state is of a version this server cannot read (a server older than the data).',
  DUPLICATE_ORDER: 'An order with this id was already recorded.',
  UNKNOWN_ORDER: 'The member has no order with this id.',
  SKU_NOT_ON_ORDER: 'A refund names a sku the order does not have.',
  REFUND_EXCEEDS_ORDER: 'A refund takes back more of a sku than is left to refund (`refundable`).',
  NO_REDEMPTION: 'The program has no redeem section.',
  BELOW_MINIMUM: 'The redemption is below the program\'s minimum (`required`).',
  INSUFFICIENT_POINTS: 'The member has fewer points (`balance`) than the redemption asks for (`requested`).',
  ABOVE_MAX_SHARE: 'The redemption is worth more (`value`) than the program lets pay of this order (`max`).',
  UNKNOWN_CLUB: 'The program has no club of this name.',
  ALREADY_IN_CLUB: 'The member\'s membership of the club is active.',
  NOT_IN_CLUB: 'The member has no active membership of the club.',
  NOT_A_MEMBER_EVENT: 'The event does not belong to one member.',
  UNKNOWN_REWARD: 'The program has no reward of this name (names are exact).',
  REWARD_CONDITION_FALSE: 'The member does not meet a `when` of the reward (`condition`): its tier or clubs now.',
  REWARD_LIMIT_REACHED: 'The member has redeemed the reward as often as its limit allows in this period (`used` of `limit`).',
};

export const RefusalCodeEnum = builder.enumType('RefusalCode', {
  description: 'Why the program refused an event.',
  values: Object.fromEntries(Object.entries(REFUSALS).map(([code, description]) => [code, { value: code as RefusalCode, description }])),
});

builder.objectType(EventRefusedError, {
  authScopes: KEYS,
  name: 'EventRefused',
  description: 'The engine refused the event: nothing about it was written (entries that fell due before it were).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.field({ type: RefusalCodeEnum, description: 'A stable code to act on (see docs/api.md).', resolve: (e) => e.refusal.code }),
    balance: t.int({
      nullable: true,
      description: 'The member\'s balance, in points (INSUFFICIENT_POINTS).',
      resolve: (e) => e.refusal.balance ?? null,
    }),
    requested: t.int({
      nullable: true,
      description: 'The points the event asked for (BELOW_MINIMUM, INSUFFICIENT_POINTS, ABOVE_MAX_SHARE).',
      resolve: (e) => e.refusal.requested ?? null,
    }),
    required: t.int({
      nullable: true,
      description: 'The fewest points a redemption may be (BELOW_MINIMUM).',
      resolve: (e) => e.refusal.required ?? null,
    }),
    value: t.field({
      type: Money,
      nullable: true,
      description: 'What the redemption would have been worth (ABOVE_MAX_SHARE).',
      resolve: (e) => (e.refusal.value === undefined ? null : money(e.refusal.value, e.currency)),
    }),
    max: t.field({
      type: Money,
      nullable: true,
      description: 'The most a redemption may be worth for this order (ABOVE_MAX_SHARE).',
      resolve: (e) => (e.refusal.max === undefined ? null : money(e.refusal.max, e.currency)),
    }),
    refundable: t.int({
      nullable: true,
      description: 'The quantity of the sku still refundable (REFUND_EXCEEDS_ORDER).',
      resolve: (e) => e.refusal.refundable ?? null,
    }),
    lastEventAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'The member\'s last event: send events at or after it (OUT_OF_ORDER).',
      resolve: (e) => e.refusal.last ?? null,
    }),
  }),
});

export const DiagnosticRef = builder.objectRef<Diagnostic & { source: string }>('Diagnostic').implement({
  authScopes: KEYS,
  description: 'A compiler error or warning with its 1-based position.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'A stable code, e.g. "E_UNKNOWN_TIER" (docs/dsl.md lists them).' }),
    severity: t.string({ description: '"error" or "warning".', resolve: (d) => d.severity }),
    file: t.exposeString('file', { description: 'The file name the program was checked as.' }),
    line: t.exposeInt('line', { description: 'First line of the span, from 1.' }),
    column: t.exposeInt('column', { description: 'First column of the span, from 1.' }),
    endLine: t.exposeInt('endLine', { description: 'Last line of the span, from 1.' }),
    endColumn: t.exposeInt('endColumn', { description: 'Column after the span, from 1.' }),
    message: t.exposeString('message', { description: 'What is wrong.' }),
    hint: t.string({ nullable: true, description: 'How to fix it, when the compiler knows.', resolve: (d) => d.hint ?? null }),
    rendered: t.string({
      description: 'The diagnostic as `loyalty check` prints it: position, message, source line and caret.',
      resolve: ({ source, ...d }) => renderDiagnostic(d, source, { color: false }),
    }),
  }),
});

export function withSource(diagnostics: readonly Diagnostic[], source: string) {
  return diagnostics.map((d) => ({ ...d, source }));
}

builder.objectType(ProgramInvalidError, {
  authScopes: KEYS,
  name: 'ProgramInvalid',
  description: 'The program does not compile; nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    diagnostics: t.field({ type: [DiagnosticRef], description: 'Errors and warnings, in source order.', resolve: (e) => withSource(e.diagnostics, e.source) }),
  }),
});

/**
 * Connection options that give `totalCount` (added by the Prisma plugin for a
 * connection with `totalCount`) a description; the plugin's own resolver
 * reads the count the same way: a function for prismaConnection, a number
 * for relatedConnection.
 */
export const totalCountField = {
  nullable: false,
  description: 'How many items the whole list has, on every page.',
  extensions: { pothosPrismaTotalCount: true },
  resolve: (parent: object): number | Promise<number> => {
    const count = (parent as { totalCount?: number | (() => number | Promise<number>) }).totalCount;
    return typeof count === 'function' ? count() : (count ?? 0);
  },
} as const;

/** Connection `first` as a complexity multiplier. */
export const pageComplexity = (args: { first?: number | null; last?: number | null }) => ({
  field: 1,
  multiplier: Math.max(1, Math.min(100, args.first ?? args.last ?? 20)),
});
