// Members: reads (balance, tier, progress, clubs, referrals, orders, ledger),
// sign-up, redemption, clubs, custom events, and quotes.
import { advance, challengeProgress, pendingPoints, rewardAvailability, vestingsOf, type ChallengeProgress, type MemberState, type MemberView, type RewardAvailability, type Vesting } from '../../engine.ts';
import { DomainError, EventRefusedError } from '../../services/errors.ts';
import * as members from '../../services/members.ts';
import { ADMIN, KEYS, KEYS_AND_MEMBERS, MEMBER_VISIBLE, READ, readOrSelf, WRITE } from '../access.ts';
import { measuredWrite } from '../../metrics.ts';
import { builder } from '../builder.ts';
import { merchantId, scopeOf, type Context, type ViewedMember } from '../context.ts';
import type { InputRef } from '@pothos/core';
import { Discount, Money, money, pageComplexity, RefusalCodeEnum, totalCountField } from './common.ts';


async function viewAt(member: ViewedMember, ctx: Context, at?: string | null): Promise<MemberView | null> {
  return ctx.view(member, at ? Date.parse(at) : undefined);
}

type ProgressShape = NonNullable<MemberView['progress']> & { merchantId: string };
type TierShape = NonNullable<MemberView['tier']> & { progress: ProgressShape | null };

const MemberTier = builder.objectRef<TierShape>('MemberTier').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'The tier a member is in, with what it gives.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The tier\'s name in the program.' }),
    multiplier: t.string({ nullable: true, description: 'Earn multiplier as written in the program, e.g. "1.25".', resolve: (x) => x.multiplier }),
    discounts: t.field({
      type: [Discount],
      description: 'Discounts the tier gives on the member\'s orders (only this tier\'s: lower tiers\' are not inherited).',
      resolve: (x) => [...x.discounts],
    }),
    perks: t.stringList({ description: 'Perks the tier gives, as named in the program.', resolve: (x) => [...x.perks] }),
    progress: t.field({
      type: TierProgress,
      nullable: true,
      description: 'Progress towards the next tier (null when the program has no qualifying metric).',
      resolve: (x) => x.progress,
    }),
  }),
});

const TierMetric = builder.enumType('TierMetric', {
  description: 'What a program\'s tiers qualify on.',
  values: {
    SPEND: { value: 'spend', description: 'Money spent on eligible orders.' },
    POINTS: { value: 'points', description: 'Points earned.' },
    ORDERS: { value: 'orders', description: 'Number of accepted orders.' },
  } as const,
});

const TierProgress = builder.objectRef<ProgressShape>('TierProgress').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'How far the member is towards the next tier.',
  fields: (t) => ({
    metric: t.field({ type: TierMetric, description: 'What the tiers qualify on.', resolve: (p) => p.metric }),
    value: t.float({ description: 'Qualifying value now: minor units for spend, else points or orders (a whole number; Float because spend can exceed 32 bits).', resolve: (p) => p.value }),
    nextTier: t.string({ nullable: true, description: 'The next tier up; null at the top tier.', resolve: (p) => p.nextTier }),
    remaining: t.float({ nullable: true, description: 'Still needed for the next tier, in the unit of `value`.', resolve: (p) => p.remaining }),
    valueMoney: t.field({
      type: Money,
      nullable: true,
      description: 'For the spend metric: `value` as money.',
      resolve: async (p, _a, ctx) => {
        const active = await ctx.programs.load(p.merchantId);
        return p.metric === 'spend' && active ? money(p.value, active.program) : null;
      },
    }),
    remainingMoney: t.field({
      type: Money,
      nullable: true,
      description: 'For the spend metric: `remaining` as money.',
      resolve: async (p, _a, ctx) => {
        const active = await ctx.programs.load(p.merchantId);
        return p.metric === 'spend' && active && p.remaining !== null ? money(p.remaining, active.program) : null;
      },
    }),
    graceUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the member drops to a lower tier unless they qualify again (programs with `keep`).',
      resolve: (p) => p.graceUntil,
    }),
  }),
});

const ActiveClub = builder.objectRef<MemberView['clubs'][number]>('ActiveClub').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'A club membership active now (or at the time asked for).',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The club\'s name in the program.' }),
    since: t.field({ type: 'DateTime', description: 'When the membership started.', resolve: (c) => c.since }),
    until: t.field({ type: 'DateTime', nullable: true, description: 'Exclusive end; null until cancelled for a free club.', resolve: (c) => c.until }),
    perks: t.stringList({ description: 'Perks the club gives, as named in the program.', resolve: (c) => [...c.perks] }),
  }),
});

type MemberRewardShape = RewardAvailability & { currency: string; currencyExponent: number };

const MemberReward = builder.objectRef<MemberRewardShape>('MemberReward').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'A reward of the catalog as this member sees it: whether redeemReward would be accepted now, and why not.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The reward name; redeemReward takes it exactly.' }),
    cost: t.exposeInt('cost', { description: 'Points one redemption takes off the balance.' }),
    value: t.field({ type: Money, nullable: true, description: 'What it is worth, for display; null when the program gives none.', resolve: (r) => (r.value === null ? null : money(r.value, r)) }),
    available: t.exposeBoolean('available', { description: 'True when redeemReward would be accepted now.' }),
    reason: t.field({
      type: RefusalCodeEnum,
      nullable: true,
      description: 'Why not, when not available: REWARD_CONDITION_FALSE, REWARD_LIMIT_REACHED or INSUFFICIENT_POINTS (checked in that order).',
      resolve: (r) => r.refusal?.code ?? null,
    }),
    message: t.string({ nullable: true, description: 'Why not, for a person to read.', resolve: (r) => r.refusal?.message ?? null }),
    condition: t.string({ nullable: true, description: 'With REWARD_CONDITION_FALSE: the `when` the member does not meet, as written.', resolve: (r) => r.refusal?.condition ?? null }),
    used: t.exposeInt('used', { description: 'Redemptions in the limit\'s current period (ever, for `per member`); 0 without a limit.' }),
    limit: t.int({ nullable: true, description: 'The limit per period; null without one.', resolve: (r) => r.limit?.amount ?? null }),
    limitPeriod: t.string({ nullable: true, description: 'The period of the limit: day, week, month, year or member; null without a limit.', resolve: (r) => r.limit?.period ?? null }),
  }),
});

type MemberChallengeShape = ChallengeProgress & { goalText: string; bonus: number; currency: string; currencyExponent: number };

const MemberChallenge = builder.objectRef<MemberChallengeShape>('MemberChallenge').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'A challenge as this member stands in it: progress in the current calendar period (ever, for `per member`), whether its bonus was earned in it, and when it starts again.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The challenge name; its bonus entries have rule `challenge:NAME`.' }),
    goal: t.string({ description: 'The goal as written, e.g. "orders 3 per week".', resolve: (c) => c.goalText }),
    metric: t.exposeString('metric', { description: 'The goal\'s kind: `orders` or `spend`.' }),
    period: t.exposeString('period', { description: 'The goal\'s period: day, week, month, year or member.' }),
    bonus: t.exposeInt('bonus', { description: 'Points the order that reaches the goal earns.' }),
    orders: t.int({ nullable: true, description: 'With `orders`: counting orders so far in the period; null for a spend goal.', resolve: (c) => (c.metric === 'orders' ? c.value : null) }),
    ordersGoal: t.int({ nullable: true, description: 'With `orders`: counting orders the goal takes; null for a spend goal.', resolve: (c) => (c.metric === 'orders' ? c.goal : null) }),
    spend: t.field({ type: Money, nullable: true, description: 'With `spend`: paid on the matching eligible lines so far in the period (refunds do not take it back); null for an orders goal.', resolve: (c) => (c.metric === 'spend' ? money(c.value, c) : null) }),
    spendGoal: t.field({ type: Money, nullable: true, description: 'With `spend`: the amount the goal takes; null for an orders goal.', resolve: (c) => (c.metric === 'spend' ? money(c.goal, c) : null) }),
    completed: t.exposeBoolean('completed', { description: 'True when the bonus was earned in the current period (for `per member`: ever); no second one comes before the period resets.' }),
    resetsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the period ends and progress starts from zero: 00:00 program time of the next day, Monday, 1st of the month or 1 January; null for `per member`.',
      resolve: (c) => (c.resetsAt === null ? null : new Date(c.resetsAt)),
    }),
  }),
});

const PendingRule = builder.objectRef<{ rule: string; points: number }>('PendingRule').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'One contribution of pending points, as it will be written to the ledger.',
  fields: (t) => ({
    rule: t.exposeString('rule', { description: 'The rule name, as in ledger entries: base, a rule\'s name, tier:NAME, club:NAME, referral:referee, referral:referrer, challenge:NAME.' }),
    points: t.exposeInt('points', { description: 'Points still to be written (after any refunds before vesting).' }),
  }),
});

const PendingPoints = builder.objectRef<Vesting>('PendingPoints').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'Points of one order computed but not yet written (programs with `pending`, dsl.md 4.9).',
  fields: (t) => ({
    orderId: t.exposeString('order', { description: 'The order the points are for; for a referrer\'s reward, the referee\'s order.' }),
    points: t.int({ description: 'Points still to be written.', resolve: (v) => v.contributions.reduce((sum, c) => sum + c.points, 0) }),
    vestsAt: t.field({ type: 'DateTime', description: 'When the points are written (the order\'s time + the pending duration); entries are dated then.', resolve: (v) => v.at }),
    byRule: t.field({
      type: [PendingRule],
      description: 'The contributions, in the order they will be written; one reduced to 0 by a refund is written as nothing.',
      resolve: (v) => v.contributions.map((c) => ({ rule: c.rule, points: c.points })),
    }),
  }),
});

export const MemberRef = builder.prismaObject('Member', {
  authScopes: KEYS,
  description: 'A member of the merchant\'s program.',
  fields: (t) => ({
    id: t.exposeID('externalId', { ...MEMBER_VISIBLE, description: 'The merchant\'s own id for the member.' }),
    birthday: t.exposeString('birthday', { nullable: true, description: 'YYYY-MM-DD, if the member gave it.' }),
    note: t.exposeString('note', { nullable: true, description: "The merchant's note on the member (updateMember); keys read it, member tokens do not." }),
    erasedAt: t.expose('erasedAt', { type: 'DateTime', nullable: true, description: 'When eraseMember removed the member\'s personal data; null otherwise.' }),
    signupAt: t.expose('signupAt', { type: 'DateTime', description: 'When the member signed up.' }),
    lastEventAt: t.expose('lastEventAt', { type: 'DateTime', description: 'The member\'s clock: the time of their last event. Earlier writes are refused.' }),
    balance: t.int({ ...MEMBER_VISIBLE, description: 'Points balance: the sum of the ledger.', resolve: (m) => Number(m.balance) }),
    pendingPoints: t.int({
      ...MEMBER_VISIBLE,
      description: 'Points scheduled and not yet written (programs with `pending`): they are not in the balance and cannot be redeemed until they vest. As of the member\'s last event, like the balance.',
      resolve: (m) => pendingPoints(m.state as unknown as MemberState),
    }),
    pending: t.field({
      type: [PendingPoints],
      ...MEMBER_VISIBLE,
      description: 'Pending points by order, in the order they were scheduled.',
      resolve: (m) => vestingsOf(m.state as unknown as MemberState),
    }),
    tier: t.field({
      type: MemberTier,
      ...MEMBER_VISIBLE,
      nullable: true,
      description: 'Current tier; null when the program has no tiers.',
      resolve: async (m, _a, ctx) => {
        const view = await viewAt(m, ctx);
        if (!view?.tier) return null;
        const progress = view.progress ? { ...view.progress, merchantId: m.merchantId } : null;
        return { ...view.tier, progress };
      },
    }),
    clubs: t.field({
      type: [ActiveClub],
      ...MEMBER_VISIBLE,
      description: 'Club memberships active at `at` (default: now).',
      args: { at: t.arg({ type: 'DateTime', required: false, description: 'The time to look at; default now.' }) },
      resolve: async (m, { at }, ctx) => (await viewAt(m, ctx, at))?.clubs ?? [],
    }),
    rewards: t.field({
      type: [MemberReward],
      ...MEMBER_VISIBLE,
      description: 'The rewards catalog for this member at `at` (default: now): each reward, whether it can be redeemed then, and why not.',
      args: { at: t.arg({ type: 'DateTime', required: false, description: 'The time to look at; default now (never before the member\'s last event).' }) },
      resolve: async (m, { at }, ctx) => {
        const active = await ctx.programs.load(m.merchantId);
        if (!active) return [];
        const p = active.program;
        const last = m.lastEventAt?.getTime() ?? 0;
        const t = Math.max(at ? Date.parse(at) : ctx.now, last);
        // A copy brought to t: expiries and tier changes due by then count.
        const s = structuredClone(m.state) as unknown as MemberState;
        if (t > s.at) advance(p, s, t);
        return rewardAvailability(p, s, t).map((r) => ({ ...r, currency: p.currency, currencyExponent: p.currencyExponent }));
      },
    }),
    challenges: t.field({
      type: [MemberChallenge],
      ...MEMBER_VISIBLE,
      description: "The program's challenges for this member at `at` (default: now), in program order, from the member's stored progress.",
      args: { at: t.arg({ type: 'DateTime', required: false, description: 'The time to look at; default now (never before the member\'s last event).' }) },
      resolve: async (m, { at }, ctx) => {
        const active = await ctx.programs.load(m.merchantId);
        if (!active) return [];
        const p = active.program;
        const last = m.lastEventAt?.getTime() ?? 0;
        const t = Math.max(at ? Date.parse(at) : ctx.now, last);
        // A copy: reading it under another program version re-maps it.
        const s = structuredClone(m.state) as unknown as MemberState;
        return challengeProgress(p, s, t).map((c, i) => ({ ...c, goalText: p.challenges[i]!.goal.text, bonus: p.challenges[i]!.bonus, currency: p.currency, currencyExponent: p.currencyExponent }));
      },
    }),
    perks: t.stringList({
      ...MEMBER_VISIBLE,
      description: 'Perks from the tier and the active clubs.',
      resolve: async (m, _a, ctx) => (await viewAt(m, ctx))?.perks ?? [],
    }),
    clubHistory: t.relation('clubMemberships', {
      description: 'Every club membership period, oldest first.',
      query: { orderBy: { since: 'asc' } },
    }),
    referredBy: t.relation('referredBy', { nullable: true, description: 'The referral that brought this member, if any.' }),
    referrals: t.relation('referralsMade', {
      description: 'Members this member referred, oldest first.',
      query: { orderBy: { createdAt: 'asc' } },
    }),
    orders: t.relatedConnection('orders', {
      cursor: 'id',
      description: 'Accepted orders, newest first.',
      complexity: pageComplexity,
      totalCount: true,
      query: { orderBy: [{ at: 'desc' }, { id: 'desc' }] },
    }, { fields: (t) => ({ totalCount: t.int(totalCountField) }) }),
    ledger: t.relatedConnection('ledgerEntries', {
      ...MEMBER_VISIBLE,
      cursor: 'id',
      description: 'The points ledger, newest entry first.',
      complexity: pageComplexity,
      totalCount: true,
      query: { orderBy: { id: 'desc' } },
    }, { fields: (t) => ({ totalCount: t.int(totalCountField) }) }),
  }),
});

/** A tier filter must name a tier of the active program: a typo or a
 * miscased name would otherwise look like an empty tier. */
async function checkTierName(ctx: Context, merchant: string, tier: string): Promise<void> {
  const active = await ctx.programs.load(merchant);
  const names = active?.program.tiers.map((x) => x.name) ?? [];
  if (names.includes(tier)) return;
  const known = names.length ? `the tiers are ${names.map((n) => JSON.stringify(n)).join(', ')}` : 'the active program has no tiers';
  throw new DomainError('BAD_USER_INPUT', `unknown tier ${JSON.stringify(tier)}: ${known}`, { tiers: names });
}

builder.queryFields((t) => ({
  member: t.prismaField({
    type: 'Member',
    nullable: true,
    description: 'One member by the merchant\'s id; null if there is none.',
    authScopes: (_root, { id }) => readOrSelf(String(id)),
    args: { id: t.arg.id({ required: true, description: 'The merchant\'s member id.' }) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.prisma.member.findUnique({
        ...query,
        where: { merchantId_externalId: { merchantId: merchantId(ctx), externalId: String(id) } },
      }),
  }),
  members: t.prismaConnection({
    type: 'Member',
    cursor: 'id',
    authScopes: READ,
    description: 'Members in sign-up order, optionally only those in one tier.',
    complexity: pageComplexity,
    args: { tier: t.arg.string({ required: false, description: 'Only members in this tier, named exactly as in the active program.' }) },
    totalCount: (_root, { tier }, ctx) => ctx.prisma.member.count({ where: { merchantId: merchantId(ctx), ...(tier != null ? { tier } : {}) } }),
    resolve: async (query, _root, { tier }, ctx) => {
      const id = merchantId(ctx);
      if (tier != null) await checkTierName(ctx, id, tier);
      return ctx.prisma.member.findMany({
        ...query,
        where: { merchantId: id, ...(tier != null ? { tier } : {}) },
        orderBy: [{ signupAt: 'asc' }, { id: 'asc' }],
      });
    },
  }, { name: 'MemberConnection', fields: (t) => ({ totalCount: t.int(totalCountField) }) }, { name: 'MemberEdge' }),
}));

// ------------------------------------------------------------------ writes

/** What every member write returns: the member afterwards and the entries written. */
export const WritePayload = builder.interfaceRef<members.WriteResult>('WritePayload').implement({
  authScopes: KEYS,
  description: 'What every member write returns: the member afterwards and the entries written.',
  fields: (t) => ({
    member: t.prismaField({
      type: 'Member',
      description: 'The member as the write left them.',
      resolve: (query, p, _a, ctx) => ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id: p.memberId } }),
    }),
    entries: t.prismaField({
      type: ['LedgerEntry'],
      description: "The ledger entries this write produced for the member, in the order they were written (a referrer's reward is in `referrerEntries`).",
      resolve: (query, p, _a, ctx) =>
        ctx.prisma.ledgerEntry.findMany({ ...query, where: { id: { in: p.entryIds }, memberId: p.memberId }, orderBy: { id: 'asc' } }),
    }),
    referrerEntries: t.prismaField({
      type: ['LedgerEntry'],
      description: "The entries this write produced for the member's referrer (the referral reward an order earned them), in order; usually none.",
      resolve: (query, p, _a, ctx) =>
        ctx.prisma.ledgerEntry.findMany({ ...query, where: { id: { in: p.entryIds }, memberId: { not: p.memberId } }, orderBy: { id: 'asc' } }),
    }),
    points: t.exposeInt('points', { description: 'Sum of the points this write gave the member.' }),
    replayed: t.exposeBoolean('replayed', {
      description: 'True when this was a retry of a write already applied (same key and body): its first result, and nothing was written.',
    }),
  }),
});

export const MemberPayload = builder.objectRef<members.WriteResult>('MemberPayload').implement({
  authScopes: KEYS,
  description: 'The result of a member write.',
  interfaces: [WritePayload],
});

const IDEMPOTENCY_DESCRIPTION =
  'Your key for this write; always send one. A retry with the same key and body returns the first result (`replayed`) and writes nothing; another body is IDEMPOTENCY_CONFLICT.';

export const AT_DESCRIPTION =
  "When it happened (for backfills); default now. An event earlier than the member's last event is refused.";

const SignupInput = builder.inputType('SignupInput', {
  description: 'A new member.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s id for the new member.' }),
    birthday: t.string({ required: false, description: 'YYYY-MM-DD.' }),
    referrerId: t.id({ required: false, description: 'The member who referred this one.' }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RedeemInput = builder.inputType('RedeemPointsInput', {
  description: 'Points a member spends.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s member id.' }),
    points: t.int({ required: true, description: 'How many points to spend.' }),
    orderTotal: t.string({ required: false, description: 'Order value the points pay towards (decimal string); checked against `max N% of order`.' }),
    idempotencyKey: t.string({ required: false, description: IDEMPOTENCY_DESCRIPTION }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RedeemRewardInput = builder.inputType('RedeemRewardInput', {
  description: 'A member taking a reward of the catalog (`reward "NAME" { ... }`) for its cost in points.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s member id.' }),
    reward: t.string({ required: true, description: 'The reward\'s name in the program, exactly as written.' }),
    idempotencyKey: t.string({ required: false, description: IDEMPOTENCY_DESCRIPTION }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const ClubInput = builder.inputType('ClubInput', {
  description: 'A member joining or leaving a club.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s member id.' }),
    club: t.string({ required: true, description: 'The club\'s name in the program.' }),
    idempotencyKey: t.string({ required: false, description: IDEMPOTENCY_DESCRIPTION }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const EventInput = builder.inputType('RecordEventInput', {
  description: 'A custom event for a member.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s member id.' }),
    name: t.string({ required: true, description: 'Matches an `on event "NAME"` section; other names write nothing.' }),
    idempotencyKey: t.string({ required: false, description: IDEMPOTENCY_DESCRIPTION }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

export const OrderLineInput = builder.inputType('OrderLineInput', {
  description: 'One line of an order.',
  fields: (t) => ({
    sku: t.string({ required: true, description: 'The product\'s SKU; rules and discounts can name it.' }),
    category: t.string({ required: true, description: 'The product\'s category; rules can name it.' }),
    qty: t.int({ required: true, description: 'How many units, at least 1.' }),
    price: t.string({ required: true, description: 'Unit price, a decimal string in the program currency, e.g. "4.50".' }),
  }),
});

const QuoteInput = builder.inputType('QuoteInput', {
  description: 'An order as it would be recorded.',
  fields: (t) => ({
    lines: t.field({ type: [OrderLineInput], required: true, description: 'The order\'s lines.' }),
    channel: t.string({ required: false, description: 'Where the order would be placed, e.g. "app"; rules can name it.' }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

/** A member write: the authenticated merchant's scope, the input with ids as strings. */
function memberMutation<Input extends { memberId: string | number }>(
  name: string,
  description: string,
  input: InputRef<Input>,
  run: (scope: members.Scope, input: Input & { memberId: string }) => Promise<members.WriteResult>,
) {
  builder.mutationField(name, (t) =>
    t.field({
      type: MemberPayload,
      authScopes: WRITE,
      description,
      errors: { types: [EventRefusedError] },
      args: { input: t.arg({ type: input, required: true, description: 'What to write.' }) },
      resolve: (_root, args, ctx) => {
        // Pothos cannot narrow the args of a generic input; the schema guarantees `input`.
        const { input: given } = args as unknown as { input: Input };
        return measuredWrite<members.WriteResult>(name, () => run(scopeOf(ctx), { ...given, memberId: String(given.memberId) }));
      },
    }),
  );
}

memberMutation('signup', 'Signs a member up: awards the signup bonus and records the referrer.', SignupInput, (scope, i) =>
  members.signup(scope, { ...i, referrerId: i.referrerId == null ? null : String(i.referrerId) }),
);
memberMutation(
  'redeemPoints',
  'Spends points; refused below `min`, above the balance, or above `max`% of `orderTotal`.',
  RedeemInput,
  members.redeemPoints,
);
memberMutation(
  'redeemReward',
  'Redeems a catalog reward: a `redeem` entry of minus its cost (rule `reward:NAME`). Refused for an unknown reward (UNKNOWN_REWARD), a `when` the member does not meet now (REWARD_CONDITION_FALSE), a used-up limit (REWARD_LIMIT_REACHED) or a cost above the balance (INSUFFICIENT_POINTS).',
  RedeemRewardInput,
  members.redeemReward,
);
memberMutation('joinClub', 'Starts a club membership for one fee period.', ClubInput, members.joinClub);
memberMutation('cancelClub', 'Ends an active club membership.', ClubInput, members.cancelClub);
memberMutation('recordEvent', 'Records a custom event such as "review"; awards its `on event` bonus.', EventInput, members.recordEvent);

// ------------------------------------------------------------------ corrections

const AdjustPointsInput = builder.inputType('AdjustPointsInput', {
  description: "A correction of a member's points by the merchant's staff.",
  fields: (t) => ({
    memberId: t.id({ required: true, description: "The merchant's member id." }),
    points: t.int({ required: true, description: 'Points to add (positive) or take away (negative); not zero. May take the balance below zero.' }),
    reason: t.string({ required: true, description: 'Why, for the ledger and the audit (at most 500 characters).' }),
    idempotencyKey: t.string({
      required: true,
      description: 'Your key for this correction: a retry with the same key and body returns the first result and writes nothing; another body is IDEMPOTENCY_CONFLICT.',
    }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const AdjustPointsPayload = builder.objectRef<members.WriteResult>('AdjustPointsPayload').implement({
  authScopes: KEYS,
  description: 'A correction applied: its `adjust` entry (after any expiries that fell due before it).',
  interfaces: [WritePayload],
});

builder.mutationField('adjustPoints', (t) =>
  t.field({
    type: AdjustPointsPayload,
    authScopes: ADMIN,
    description:
      "Corrects a member's points (dsl.md 4.12): one `adjust` entry with the reason and the key's label. Never refused for a known member; idempotent on `idempotencyKey`.",
    errors: { types: [EventRefusedError] },
    args: { input: t.arg({ type: AdjustPointsInput, required: true, description: 'The correction.' }) },
    resolve: (_root, { input }, ctx) =>
      measuredWrite('adjustPoints', () => members.adjustPoints(scopeOf(ctx), ctx, { ...input, memberId: String(input.memberId) })),
  }),
);

// ------------------------------------------------------------------ quote

type QuoteShape = Awaited<ReturnType<typeof members.quoteOrder>>;
const asMoney = (q: QuoteShape, minor: number) => ({ minor, currency: q.currency, exponent: q.exponent });

const QuoteEntry = builder.objectRef<QuoteShape['entries'][number]>('QuoteEntry').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'Points one rule would give.',
  fields: (t) => ({
    rule: t.string({ nullable: true, description: 'The rule, named as in ledger entries.', resolve: (e) => e.rule }),
    points: t.exposeInt('points', { description: 'Points the rule would give.' }),
    line: t.int({ nullable: true, description: 'Line of the program source with the rule.', resolve: (e) => e.line }),
  }),
});

const QuoteDiscount = builder
  .objectRef<{ sku: string; amount: { minor: number; currency: string; exponent: number } }>('QuoteDiscount')
  .implement({
    authScopes: KEYS_AND_MEMBERS,
    description: 'A discount on one order line.',
    fields: (t) => ({
      sku: t.exposeString('sku', { description: 'The discounted line\'s SKU.' }),
      amount: t.field({ type: Money, description: 'How much is taken off the line.', resolve: (d) => d.amount }),
    }),
  });

const NotAppliedReason = builder.enumType('NotAppliedReason', {
  description: 'Why a rule or challenge gives nothing to a quoted order, in the order the engine decides (dsl.md 4.2 step 5, 4.11).',
  values: {
    NO_ELIGIBLE_LINE: { description: 'Every line of the order is excluded by the program.' },
    CONDITION: { description: 'A `during`, `days`, `hours` or `when` of the rule does not hold.' },
    NO_MATCHING_LINE: { description: 'No eligible line matches the filters (for a challenge: the order does not count).' },
    NOTHING_EARNED: { description: 'The effect comes to 0 points on this order (e.g. `extra 1 point per 10 USD` on 4 USD).' },
    LIMIT_USED: { description: 'The rule\'s limit is used up in the current period; see resetsAt.' },
    GOAL_NOT_REACHED: { description: 'The order counts for the challenge but does not reach its goal; the message says how far it gets.' },
    ALREADY_COMPLETED: { description: 'The challenge\'s bonus was already earned in this period (or ever, for `per member`).' },
  } as const,
});

const QuoteNotApplied = builder.objectRef<QuoteShape['notApplied'][number]>('QuoteNotApplied').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'A rule or challenge the order would get nothing from, and why.',
  fields: (t) => ({
    rule: t.exposeString('rule', { description: 'The rule\'s name, or `challenge:NAME`, as in ledger entries.' }),
    reason: t.field({ type: NotAppliedReason, description: 'The first reason, as a code to act on.', resolve: (n) => n.reason }),
    why: t.string({ resolve: (n) => n.message, description: 'The reason in words, e.g. "`days sat, sun` does not hold for this order" or "2 of 3 orders this week with this order".' }),
    line: t.exposeInt('line', { description: 'The program line of the cause: the failing condition, the limit\'s rule, the effect, or the challenge.' }),
    resetsAt: t.field({ type: 'DateTime', nullable: true, description: 'For a limit or a challenge: when its period starts again; null for `per member` and `per order`.', resolve: (n) => (n.resetsAt === null ? null : new Date(n.resetsAt)) }),
  }),
});

const Quote = builder.objectRef<QuoteShape>('Quote').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'What an order would earn now; nothing is written.',
  fields: (t) => ({
    points: t.exposeInt('points', { description: 'Points the order would earn in all.' }),
    entries: t.field({ type: [QuoteEntry], description: 'Those points, rule by rule.', resolve: (q) => [...q.entries] }),
    total: t.field({ type: Money, description: 'Eligible paid amount after tier and club discounts.', resolve: (q) => asMoney(q, q.total) }),
    discounts: t.field({
      type: [QuoteDiscount],
      description: 'Discounts the member would get, line by line.',
      resolve: (q) => q.discounts.map((d) => ({ sku: d.sku, amount: asMoney(q, d.amount) })),
    }),
    perks: t.stringList({ description: 'Perks the member has for this order.', resolve: (q) => [...q.perks] }),
    notApplied: t.field({
      type: [QuoteNotApplied],
      description: 'Every rule and challenge of the program the order would get nothing from, in source order, each with why.',
      resolve: (q) => q.notApplied,
    }),
  }),
});

builder.queryField('quote', (t) =>
  t.field({
    type: Quote,
    authScopes: (_root, { member }) => readOrSelf(String(member)),
    description: 'Points, discounts and perks an order would get for a member; nothing is written.',
    args: {
      member: t.arg.id({ required: true, description: 'The merchant\'s member id.' }),
      order: t.arg({ type: QuoteInput, required: true, description: 'The order to price.' }),
    },
    resolve: (_root, { member, order }, ctx) =>
      members.quoteOrder(scopeOf(ctx), { ...order, memberId: String(member) }),
  }),
);
