// Ledger entries: every point, with the rule, source line and program version that produced it.
import { programOf } from '../../services/programs.ts';
import { KEYS, MEMBER_VISIBLE } from '../access.ts';
import { builder } from '../builder.ts';

export const LedgerKind = builder.enumType('LedgerKind', {
  description: 'What a ledger entry did to the balance.',
  values: {
    EARN: { value: 'earn', description: 'Points earned (rules, bonuses, tier and club multipliers, referrals).' },
    REDEEM: { value: 'redeem', description: 'Points spent.' },
    EXPIRE: { value: 'expire', description: 'Points that expired.' },
    REVERSE: { value: 'reverse', description: 'Points taken back by a refund.' },
    ADJUST: { value: 'adjust', description: 'A correction by the merchant\'s staff (adjustPoints), either sign.' },
  } as const,
});

builder.prismaObject('LedgerEntry', {
  authScopes: KEYS,
  description: 'One line of a member\'s points ledger. Entries are never changed or deleted.',
  fields: (t) => ({
    id: t.id({ ...MEMBER_VISIBLE, description: 'The entry\'s id; ids grow in the order entries were written.', resolve: (e) => e.id.toString() }),
    at: t.expose('at', { ...MEMBER_VISIBLE, type: 'DateTime', description: 'When the entry took effect (for expiry and birthdays: when it fell due).' }),
    kind: t.field({ ...MEMBER_VISIBLE, type: LedgerKind, description: 'Whether the entry earned, spent, expired, reversed or adjusted points.', resolve: (e) => e.kind }),
    points: t.int({ ...MEMBER_VISIBLE, description: 'Signed: negative for redeem, expire and reverse; either sign for adjust.', resolve: (e) => Number(e.points) }),
    rule: t.exposeString('rule', { ...MEMBER_VISIBLE,
      nullable: true,
      description: 'Rule name, or base, signup, birthday, event:NAME, tier:NAME, club:NAME, club:NAME:join, referral:referee, referral:referrer, challenge:NAME, reward:NAME.',
    }),
    reason: t.exposeString('reason', { ...MEMBER_VISIBLE, nullable: true, description: 'Why staff made an `adjust` entry, as they gave it; null for other kinds.' }),
    actor: t.exposeString('actor', {
      nullable: true,
      description: 'Who made an `adjust` entry: the label of the admin key (its id when it has no label); null for other kinds.',
    }),
    ref: t.exposeString('ref', { ...MEMBER_VISIBLE, nullable: true, description: 'The merchant\'s order id the entry refers to.' }),
    line: t.exposeInt('line', { ...MEMBER_VISIBLE, nullable: true, description: 'Line of the program source that produced the entry.' }),
    sourceLine: t.string({ ...MEMBER_VISIBLE,
      nullable: true,
      description: 'The text of that source line, e.g. `multiplier 2x`.',
      select: { programVersion: true },
      resolve: (e) => (e.line === null ? null : (programOf(e.programVersion).lines[e.line]?.trim() ?? null)),
    }),
    programVersion: t.relation('programVersion', { description: 'The program version whose rule produced the entry.' }),
    order: t.relation('order', { nullable: true, description: 'The order the entry came from, if any.' }),
    member: t.relation('member', { description: 'The member whose balance the entry changed.' }),
    memberId: t.string({ ...MEMBER_VISIBLE,
      description: 'The merchant\'s id of the member whose balance the entry changed.',
      select: { member: { select: { externalId: true } } },
      resolve: (e) => e.member.externalId,
    }),
  }),
});
