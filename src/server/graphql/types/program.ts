// Programs: the active version, its history, checking, publishing, simulating.
import type { Program, ReplayResult } from '../../engine.ts';
import { ProgramInvalidError } from '../../services/errors.ts';
import { compileSource, programOf, publishProgram } from '../../services/programs.ts';
import { simulate } from '../../services/simulate.ts';
import { ADMIN, KEYS, READ } from '../access.ts';
import { builder } from '../builder.ts';
import { compileComplexity } from '../cost.ts';
import { merchantId } from '../context.ts';
import { DiagnosticRef, Discount, discountShape, Money, money, pageComplexity, totalCountField, withSource } from './common.ts';

const TierDefinition = builder.objectRef<Program['tiers'][number]>('TierDefinition').implement({
  authScopes: KEYS,
  description: 'A tier as the program defines it, lowest first.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The tier name as written in the program.' }),
    threshold: t.float({ description: 'Minor units for the spend metric; points or orders otherwise (a whole number; Float because spend can exceed 32 bits).', resolve: (x) => x.threshold }),
    multiplier: t.string({ nullable: true, description: 'As written in the program, e.g. "1.25".', resolve: (x) => x.multiplierText }),
    discounts: t.field({
      type: [Discount],
      description: 'The tier\'s own discounts, in program order; a member gets only the discounts of their tier (they are not inherited from lower tiers).',
      resolve: (x) => x.discounts.map(discountShape),
    }),
    perks: t.stringList({ description: 'The perks members of this tier have, as written.', resolve: (x) => [...x.perks] }),
  }),
});

const ClubDefinition = builder.objectRef<Program['clubs'][number]>('ClubDefinition').implement({
  authScopes: KEYS,
  description: 'A club (paid or free membership) as the program defines it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The club name as written in the program.' }),
    fee: t.string({
      nullable: true,
      description: 'The fee as written, e.g. "9.99 USD per month"; null for a free club.',
      resolve: (c) => c.fee?.text ?? null,
    }),
    multiplier: t.string({ nullable: true, description: 'Earn multiplier as written, e.g. "2"; null when the club has none.', resolve: (c) => c.multiplierText }),
    discounts: t.field({ type: [Discount], description: 'The club\'s discounts, in program order.', resolve: (c) => c.discounts.map(discountShape) }),
    perks: t.stringList({ description: 'The perks members of this club have, as written.', resolve: (c) => [...c.perks] }),
  }),
});

type RewardShape = { reward: Program['rewards'][number]; program: Program };

const RewardDefinition = builder.objectRef<RewardShape>('RewardDefinition').implement({
  authScopes: KEYS,
  description: 'A reward of the catalog (`reward "NAME" { ... }`): what a member can take for points with redeemReward.',
  fields: (t) => ({
    name: t.string({ description: 'The reward name as written; redeemReward takes it exactly.', resolve: (x) => x.reward.name }),
    cost: t.int({ description: 'Points one redemption takes off the balance.', resolve: (x) => x.reward.cost }),
    value: t.field({ type: Money, nullable: true, description: 'What the reward is worth, for display (`value`); null when the program gives none.', resolve: (x) => (x.reward.value === null ? null : money(x.reward.value, x.program)) }),
    conditions: t.stringList({ description: 'Its `when` conditions as written (member.tier, member.club); all must hold.', resolve: (x) => x.reward.conditions.map((c) => c.text) }),
    limit: t.int({ nullable: true, description: 'At most this many redemptions per `limitPeriod`; null without a limit.', resolve: (x) => x.reward.limit?.amount ?? null }),
    limitPeriod: t.string({ nullable: true, description: 'The period of the limit: day, week, month, year (calendar periods in the program time zone) or member (ever).', resolve: (x) => x.reward.limit?.period ?? null }),
  }),
});

type ChallengeShape = { challenge: Program['challenges'][number]; program: Program };

const ChallengeDefinition = builder.objectRef<ChallengeShape>('ChallengeDefinition').implement({
  authScopes: KEYS,
  description: 'A challenge (`challenge "NAME" { ... }`): a one-off bonus on the first order of a calendar period (or of the member\'s life) that reaches the goal.',
  fields: (t) => ({
    name: t.string({ description: 'The challenge name as written; its bonus entries have rule `challenge:NAME`.', resolve: (x) => x.challenge.name }),
    goal: t.string({ description: 'The goal as written, e.g. "orders 3 per week" or "spend 50.00 USD per month".', resolve: (x) => x.challenge.goal.text }),
    metric: t.string({ description: '`orders` (counting orders in the period) or `spend` (paid on the matching eligible lines in the period).', resolve: (x) => x.challenge.goal.metric }),
    orders: t.int({ nullable: true, description: 'With `orders`: how many counting orders the goal takes; null for a spend goal.', resolve: (x) => (x.challenge.goal.metric === 'orders' ? x.challenge.goal.amount : null) }),
    spend: t.field({ type: Money, nullable: true, description: 'With `spend`: the amount the goal takes; null for an orders goal.', resolve: (x) => (x.challenge.goal.metric === 'spend' ? money(x.challenge.goal.amount, x.program) : null) }),
    period: t.string({ description: 'The goal\'s period: day, week (from Monday), month, year (calendar periods in the program time zone) or member (once ever).', resolve: (x) => x.challenge.goal.period }),
    bonus: t.int({ description: 'Points the order that reaches the goal earns.', resolve: (x) => x.challenge.bonus }),
  }),
});

export const ProgramVersionRef = builder.prismaObject('ProgramVersion', {
  authScopes: KEYS,
  description: 'One published version of the merchant\'s program.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The version\'s opaque id.' }),
    version: t.exposeInt('version', { description: 'The version number: 1 for the first publish, then one more per change.' }),
    name: t.exposeString('name', { description: 'The program name, from `program "..."`.' }),
    hash: t.exposeString('hash', { description: 'The sha256 of the source; ledger entries name the version they came from.' }),
    currency: t.exposeString('currency', { description: 'The program currency (ISO 4217), e.g. "USD".' }),
    active: t.exposeBoolean('active', { description: 'True for the version that applies to new events.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was published.' }),
    source: t.exposeString('source', { description: 'The `.loyalty` text exactly as published.' }),
    timezone: t.string({ description: 'The program time zone (IANA name), in which days, hours and birthdays are read.', resolve: (v) => programOf(v).timezone }),
    unit: t.string({ description: 'Display name of the points unit.', resolve: (v) => programOf(v).unit }),
    tiers: t.field({ type: [TierDefinition], description: 'The tiers, lowest first (empty without a tiers section).', resolve: (v) => [...programOf(v).tiers] }),
    clubs: t.field({ type: [ClubDefinition], description: 'The clubs, in program order.', resolve: (v) => [...programOf(v).clubs] }),
    rewards: t.field({
      type: [RewardDefinition],
      description: 'The rewards catalog, in program order (empty without rewards).',
      resolve: (v) => {
        const program = programOf(v);
        return program.rewards.map((reward) => ({ reward, program }));
      },
    }),
    challenges: t.field({
      type: [ChallengeDefinition],
      description: 'The challenges, in program order (empty without challenges).',
      resolve: (v) => {
        const program = programOf(v);
        return program.challenges.map((challenge) => ({ challenge, program }));
      },
    }),
  }),
});

const CheckResult = builder
  .objectRef<{ ok: boolean; source: string; program: Program | undefined; diagnostics: ReturnType<typeof withSource> }>(
    'CheckProgramResult',
  )
  .implement({
    authScopes: KEYS,
    description: 'What the compiler says about a program text.',
    fields: (t) => ({
      ok: t.exposeBoolean('ok', { description: 'True when the program compiles (warnings allowed).' }),
      name: t.string({ nullable: true, description: 'The program name; null when it does not compile.', resolve: (r) => r.program?.name ?? null }),
      hash: t.string({ nullable: true, description: 'The sha256 of the source; null when it does not compile.', resolve: (r) => r.program?.hash ?? null }),
      diagnostics: t.field({ type: [DiagnosticRef], description: 'Errors and warnings, in source order.', resolve: (r) => r.diagnostics }),
    }),
  });

const PublishPayload = builder
  .objectRef<{ versionId: string; created: boolean; retiered: number; warnings: ReturnType<typeof withSource> }>('PublishProgramPayload')
  .implement({
    authScopes: KEYS,
    description: 'A published program version.',
    fields: (t) => ({
      created: t.exposeBoolean('created', {
        description: 'False when the source equals the active version: nothing changed.',
      }),
      retiered: t.exposeInt('retiered', {
        description: "Members whose tier the new version changed at once: each member's tier is re-derived under it, as of their last event.",
      }),
      program: t.prismaField({
        type: 'ProgramVersion',
        description: 'The active version after the publish.',
        resolve: (query, p, _a, ctx) => ctx.prisma.programVersion.findUniqueOrThrow({ ...query, where: { id: p.versionId } }),
      }),
      warnings: t.field({ type: [DiagnosticRef], description: 'Warnings the compiler gave (a program with errors is never published).', resolve: (p) => p.warnings }),
    }),
  });

const SimulatedEntry = builder.objectRef<ReplayResult['members'][string]['ledger'][number]>('SimulatedLedgerEntry').implement({
  authScopes: KEYS,
  description: 'A ledger entry a simulation would write (replay.md ledger format).',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'When the entry would be written.', resolve: (e) => e.at }),
    kind: t.string({ description: 'One of earn, redeem, reverse, expire, as in `loyalty replay` results.', resolve: (e) => e.kind }),
    points: t.exposeInt('points', { description: 'Points, negative for redemptions, reversals and expiries.' }),
    rule: t.string({ nullable: true, description: 'The rule that wrote it, by name; null for entries no rule wrote.', resolve: (e) => e.rule }),
    ref: t.string({ nullable: true, description: 'The order, club or event it refers to.', resolve: (e) => e.ref }),
  }),
});

const SimulatedMember = builder
  .objectRef<ReplayResult['members'][string] & { id: string }>('SimulatedMember')
  .implement({
    authScopes: KEYS,
    description: 'A member at the end of a simulation.',
    fields: (t) => ({
      id: t.exposeID('id', { description: 'The member id from the events.' }),
      balance: t.exposeInt('balance', { description: 'Points balance at the end.' }),
      tier: t.string({ nullable: true, description: 'Tier at the end; null without tiers.', resolve: (m) => m.tier }),
      clubs: t.stringList({ description: 'Clubs active at the end.', resolve: (m) => [...m.clubs] }),
      ledger: t.field({ type: [SimulatedEntry], description: 'Every entry the simulation wrote for the member, oldest first.', resolve: (m) => [...m.ledger] }),
    }),
  });

const SimulatedError = builder.objectRef<ReplayResult['errors'][number]>('SimulationError').implement({
  authScopes: KEYS,
  description: 'An event the simulation refused, and why.',
  fields: (t) => ({
    line: t.int({ description: 'Index of the event in `events`, from 1.', resolve: (e) => e.line }),
    message: t.exposeString('message', { description: 'Why the event was refused.' }),
  }),
});

const Simulation = builder.objectRef<ReplayResult>('Simulation').implement({
  authScopes: KEYS,
  description: 'The replay result of a draft program over the given events; nothing is written.',
  fields: (t) => ({
    members: t.field({
      type: [SimulatedMember],
      description: 'Every member the events name, at the end.',
      resolve: (r) => Object.entries(r.members).map(([id, m]) => ({ ...m, id })),
    }),
    errors: t.field({ type: [SimulatedError], description: 'The refused events, in order.', resolve: (r) => [...r.errors] }),
    result: t.field({ type: 'JSON', description: 'The same result as `loyalty replay --json`.', resolve: (r) => r }),
  }),
});

builder.queryFields((t) => ({
  program: t.prismaField({
    type: 'ProgramVersion',
    authScopes: READ,
    nullable: true,
    description: 'The active program version, or null before the first publish.',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.programVersion.findFirst({ ...query, where: { merchantId: merchantId(ctx), active: true } }),
  }),
  programVersions: t.prismaConnection(
    {
      type: 'ProgramVersion',
      cursor: 'id',
      authScopes: READ,
      description: 'Every published version, newest first.',
      complexity: pageComplexity,
      totalCount: (_root, _args, ctx) => ctx.prisma.programVersion.count({ where: { merchantId: merchantId(ctx) } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.prisma.programVersion.findMany({ ...query, where: { merchantId: merchantId(ctx) }, orderBy: { version: 'desc' } }),
    },
    { name: 'ProgramVersionConnection', fields: (t) => ({ totalCount: t.int(totalCountField) }) },
    { name: 'ProgramVersionEdge' },
  ),
  checkProgram: t.field({
    type: CheckResult,
    authScopes: ADMIN,
    complexity: compileComplexity,
    description: 'Compiles a program and returns its diagnostics; changes nothing.',
    args: { source: t.arg.string({ required: true, description: 'The `.loyalty` program text.' }) },
    resolve: (_root, { source }, ctx) => {
      merchantId(ctx);
      const result = compileSource(source);
      return { ok: Boolean(result.program), source, program: result.program, diagnostics: withSource(result.diagnostics, source) };
    },
  }),
  simulate: t.field({
    type: Simulation,
    authScopes: ADMIN,
    description: 'Replays events (replay.md objects) against a draft program; nothing is written.',
    errors: { types: [ProgramInvalidError] },
    complexity: compileComplexity,
    args: {
      source: t.arg.string({ required: true, description: 'The draft `.loyalty` program text.' }),
      events: t.arg({ type: ['JSON'], required: true, description: 'Events as replay.md objects, in order.' }),
    },
    resolve: (_root, { source, events }, ctx) => {
      merchantId(ctx);
      return simulate(source, events);
    },
  }),
}));

builder.mutationFields((t) => ({
  publishProgram: t.field({
    type: PublishPayload,
    authScopes: ADMIN,
    complexity: compileComplexity,
    description: 'Compiles the program; on success stores it as a new version and makes it active.',
    errors: { types: [ProgramInvalidError] },
    args: { source: t.arg.string({ required: true, description: 'The `.loyalty` program text to publish.' }) },
    resolve: async (_root, { source }, ctx) => {
      const { version, created, diagnostics, retiered } = await publishProgram(ctx.prisma, merchantId(ctx), source, ctx);
      return { versionId: version.id, created, retiered, warnings: withSource(diagnostics, source) };
    },
  }),
}));
