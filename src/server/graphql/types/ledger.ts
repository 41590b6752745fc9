// Ledger entries: every point, with the rule, source line and program version that produced it.
import { programOf } from '../../services/programs.ts';
import { KEYS, MEMBER_VISIBLE } from '../access.ts';
import { builder } from '../builder.ts';

export const LedgerKind = builder.enumType('LedgerKind', {
  values: {
    earn: { description: 'Points earned (rules, bonuses, tier and club multipliers, referrals).' },
    redeem: { description: 'Points spent.' },
    expire: { description: 'Points that expired.' },
    reverse: { description: 'Points taken back by a refund.' },
  } as const,
});

builder.prismaObject('LedgerEntry', {
  authScopes: KEYS,
  description: 'One line of a member\'s points ledger. Entries are never changed or deleted.',
  fields: (t) => ({
    id: t.id({ ...MEMBER_VISIBLE, resolve: (e) => e.id.toString() }),
    at: t.expose('at', { ...MEMBER_VISIBLE, type: 'DateTime', description: 'When the entry took effect (for expiry and birthdays: when it fell due).' }),
    kind: t.field({ ...MEMBER_VISIBLE, type: LedgerKind, resolve: (e) => e.kind }),
    points: t.exposeInt('points', { ...MEMBER_VISIBLE, description: 'Signed: negative for redeem, expire and reverse.' }),
    rule: t.exposeString('rule', { ...MEMBER_VISIBLE,
      nullable: true,
      description: 'Rule name, or base, signup, birthday, event:NAME, tier:NAME, club:NAME, club:NAME:join, referral:referee, referral:referrer.',
    }),
    ref: t.exposeString('ref', { ...MEMBER_VISIBLE, nullable: true, description: 'The merchant\'s order id the entry refers to.' }),
    line: t.exposeInt('line', { ...MEMBER_VISIBLE, nullable: true, description: 'Line of the program source that produced the entry.' }),
    sourceLine: t.string({ ...MEMBER_VISIBLE,
      nullable: true,
      description: 'The text of that source line, e.g. `multiplier 2x`.',
      select: { programVersion: true },
      resolve: (e) => (e.line === null ? null : (programOf(e.programVersion).lines[e.line]?.trim() ?? null)),
    }),
    programVersion: t.relation('programVersion'),
    order: t.relation('order', { nullable: true }),
    member: t.relation('member'),
  }),
});
