// previewProgram: a draft program against the merchant's recorded history
// (services/preview.ts); nothing is written.
import { resolveArrayConnection } from '@pothos/plugin-relay';
import { parseInstant, redeemValue, type DiffResult, type Program } from '../../engine.ts';
import { DomainError, ProgramInvalidError } from '../../services/errors.ts';
import { previewProgram, type Preview } from '../../services/preview.ts';
import { ADMIN, KEYS } from '../access.ts';
import { builder } from '../builder.ts';
import { previewComplexity } from '../cost.ts';
import { merchantId } from '../context.ts';
import { Money, money, pageComplexity } from './common.ts';

type Totals = DiffResult['totals']['before'];
type MemberDiff = DiffResult['members'][number];
type Summary = MemberDiff['before'];

interface RulePoints {
  rule: string | null;
  points: number;
}

const rulePoints = (byRule: Record<string, number>): RulePoints[] =>
  Object.entries(byRule)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([rule, points]) => ({ rule: rule === '' ? null : rule, points }));

const RulePointsRef = builder.objectRef<RulePoints>('RulePoints').implement({
  authScopes: KEYS,
  description: 'Points earned by one rule (earn entries only).',
  fields: (t) => ({
    rule: t.string({ nullable: true, description: 'The rule, by name (`base` for the base rate, event names for `on ...` rules); null for entries no rule wrote.', resolve: (r) => r.rule }),
    points: t.float({ description: 'Points (a whole number; Float because a merchant\'s total can exceed 32 bits).', resolve: (r) => r.points }),
  }),
});

const TierCount = builder.objectRef<Totals['tiers'][number]>('PreviewTierCount').implement({
  authScopes: KEYS,
  description: 'How many members a tier has at the end.',
  fields: (t) => ({
    tier: t.string({ nullable: true, description: 'The tier; null for a program without tiers.', resolve: (c) => c.tier }),
    members: t.exposeInt('members', { description: 'Members in it.' }),
  }),
});

const points = (description: string) => ({ description: `${description} (a whole number; Float because it can exceed 32 bits).` });

const PreviewTotals = builder.objectRef<{ totals: Totals; program: Program }>('PreviewTotals').implement({
  authScopes: KEYS,
  description: 'What one side of a preview gives over the history: the active program (`before`) or the draft (`after`).',
  fields: (t) => ({
    program: t.string({ description: 'The program name.', resolve: (s) => s.totals.program }),
    hash: t.string({ description: 'The sha256 of the program source.', resolve: (s) => s.totals.version }),
    members: t.int({ description: 'Members the history signs up.', resolve: (s) => s.totals.members }),
    earned: t.float({ ...points('Points written by earn entries'), resolve: (s) => s.totals.earned }),
    earnedByRule: t.field({ type: [RulePointsRef], description: 'Earned points by rule, by rule name.', resolve: (s) => rulePoints(s.totals.earnedByRule) }),
    redeemed: t.float({ ...points('Points redeemed, as a positive number'), resolve: (s) => s.totals.redeemed }),
    expired: t.float({ ...points('Points expired, as a positive number'), resolve: (s) => s.totals.expired }),
    reversed: t.float({ ...points('Points reversed by refunds, as a positive number'), resolve: (s) => s.totals.reversed }),
    adjusted: t.float({ ...points('Net points of staff adjustments (either sign)'), resolve: (s) => s.totals.adjusted }),
    outstanding: t.float({ ...points('The sum of the balances at the end: earned − redeemed − expired − reversed + adjusted'), resolve: (s) => s.totals.outstanding }),
    outstandingValue: t.field({
      type: Money,
      nullable: true,
      description: 'What `outstanding` is worth at the program\'s redeem rate (the liability); null without a `redeem` section.',
      resolve: (s) => {
        const minor = redeemValue(s.program, s.totals.outstanding);
        return minor === null ? null : money(minor, s.program);
      },
    }),
    tiers: t.field({ type: [TierCount], description: 'Members per tier at the end, in the program\'s tier order.', resolve: (s) => s.totals.tiers }),
    errors: t.int({ description: 'Events this side refused (the same event can be refused on one side only).', resolve: (s) => s.totals.errors }),
  }),
});

const ChangedCounts = builder.objectRef<DiffResult['totals']['changed']>('PreviewChangedCounts').implement({
  authScopes: KEYS,
  description: 'How many members the draft changes.',
  fields: (t) => ({
    members: t.exposeInt('members', { description: 'Members whose balance, tier or clubs differ.' }),
    balance: t.exposeInt('balance', { description: 'Members whose balance differs.' }),
    tier: t.exposeInt('tier', { description: 'Members whose tier differs.' }),
    clubs: t.exposeInt('clubs', { description: 'Members whose active clubs differ.' }),
  }),
});

const TierMove = builder.objectRef<DiffResult['tierMatrix'][number]>('PreviewTierMove').implement({
  authScopes: KEYS,
  description: 'A cell of the tier movement matrix: members in tier `from` at the end under the active program and in `to` under the draft.',
  fields: (t) => ({
    from: t.string({ nullable: true, description: 'The tier before (null: a program without tiers).', resolve: (m) => m.from }),
    to: t.string({ nullable: true, description: 'The tier after (null: a program without tiers).', resolve: (m) => m.to }),
    members: t.exposeInt('members', { description: 'Members that move so (staying put included).' }),
  }),
});

const MemberSide = builder.objectRef<{ summary: Summary; byRule: Record<string, number> }>('PreviewMemberSide').implement({
  authScopes: KEYS,
  description: 'A member at the end of the history, under one of the two programs.',
  fields: (t) => ({
    balance: t.int({ description: 'Points balance.', resolve: (s) => s.summary.balance }),
    tier: t.string({ nullable: true, description: 'Tier; null without tiers.', resolve: (s) => s.summary.tier }),
    clubs: t.stringList({ description: 'Active clubs.', resolve: (s) => [...s.summary.clubs] }),
    pointsByRule: t.field({ type: [RulePointsRef], description: 'Points earned by rule, by rule name.', resolve: (s) => rulePoints(s.byRule) }),
  }),
});

const PreviewMember = builder.objectRef<MemberDiff>('PreviewMember').implement({
  authScopes: KEYS,
  description: 'A member the draft changes: balance, tier or clubs differ.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The member id.' }),
    balanceChange: t.int({ description: 'Balance after − balance before.', resolve: (m) => m.after.balance - m.before.balance }),
    before: t.field({ type: MemberSide, description: 'Under the active program.', resolve: (m) => ({ summary: m.before, byRule: m.byRule.before }) }),
    after: t.field({ type: MemberSide, description: 'Under the draft.', resolve: (m) => ({ summary: m.after, byRule: m.byRule.after }) }),
  }),
});

const ProgramPreview = builder.objectRef<Preview>('ProgramPreview').implement({
  authScopes: KEYS,
  description:
    'A draft program compared with the active one over the merchant\'s recorded history (GET /events.jsonl, in time order). `before` is the active version over the whole history (not each event under the version it was applied with); nothing is written.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime', nullable: true, description: 'When the draft starts to apply (members carried into it then); null: from the start.', resolve: (p) => p.result.from }),
    to: t.field({ type: 'DateTime', nullable: true, description: 'Events before this instant only; null: the whole history.', resolve: (p) => p.to }),
    events: t.int({ description: 'Events replayed.', resolve: (p) => p.events }),
    versions: t.int({ description: 'Program versions the merchant has published: with more than one, `before` still replays the active one over all of the history.', resolve: (p) => p.versions }),
    before: t.field({ type: PreviewTotals, description: 'Totals under the active program.', resolve: (p) => ({ totals: p.result.totals.before, program: p.before }) }),
    after: t.field({ type: PreviewTotals, description: 'Totals under the draft.', resolve: (p) => ({ totals: p.result.totals.after, program: p.after }) }),
    changed: t.field({ type: ChangedCounts, description: 'How many members the draft changes.', resolve: (p) => p.result.totals.changed }),
    tierMatrix: t.field({ type: [TierMove], description: 'Members by (tier before, tier after), every pair that has any, in tier order.', resolve: (p) => p.result.tierMatrix }),
    members: t.connection(
      {
        type: PreviewMember,
        description: 'The members the draft changes, the largest balance change first (then by id).',
        complexity: pageComplexity,
        args: { tier: t.arg.string({ description: 'Only members in this tier before or after.' }) },
        resolve: (p, args) => {
          const list = args.tier == null ? p.result.members : p.result.members.filter((m) => m.before.tier === args.tier || m.after.tier === args.tier);
          return { ...resolveArrayConnection({ args }, list), totalCount: list.length };
        },
      },
      {
        name: 'PreviewMemberConnection',
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many members the whole list has, on every page.',
            resolve: (parent) => (parent as { totalCount?: number }).totalCount ?? 0,
          }),
        }),
      },
      { name: 'PreviewMemberEdge' },
    ),
  }),
});

/** A DateTime argument as epoch ms (the scalar has checked it). */
function instantArg(name: string, text: string | null | undefined): number | undefined {
  if (text == null) return undefined;
  const parsed = parseInstant(text);
  if (!parsed.ok) throw new DomainError('BAD_USER_INPUT', `${name}: ${parsed.error}`);
  return parsed.ms;
}

builder.queryFields((t) => ({
  previewProgram: t.field({
    type: ProgramPreview,
    authScopes: ADMIN,
    description:
      'Replays the merchant\'s recorded history under the active program and under a draft and compares them (totals, liability, tiers, the members that change); nothing is written.',
    errors: { types: [ProgramInvalidError] },
    complexity: previewComplexity,
    args: {
      source: t.arg.string({ required: true, description: 'The draft `.loyalty` program text.' }),
      from: t.arg({ type: 'DateTime', description: 'The draft applies from this instant, as if published then (members carried into it); before it both sides replay the active program. Absent: from the start.' }),
      to: t.arg({ type: 'DateTime', description: 'Only events before this instant. Absent: the whole history.' }),
    },
    resolve: (_root, { source, from, to }, ctx) => {
      const opts = { from: instantArg('from', from), to: instantArg('to', to) };
      return previewProgram(ctx.prisma, merchantId(ctx), source, {
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
      });
    },
  }),
}));
