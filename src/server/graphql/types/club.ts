// Club membership history and referrals, as stored beside the engine state.
import { KEYS } from '../access.ts';
import { builder } from '../builder.ts';

builder.prismaObject('ClubMembership', {
  authScopes: KEYS,
  description: 'One club membership period.',
  fields: (t) => ({
    club: t.exposeString('club', { description: 'The club\'s name in the program.' }),
    since: t.expose('since', { type: 'DateTime', description: 'When the membership started.' }),
    until: t.expose('until', { type: 'DateTime', nullable: true, description: 'Exclusive end; null for a free club not cancelled.' }),
    cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true, description: 'When the member cancelled; null if they did not.' }),
  }),
});

builder.prismaObject('Referral', {
  authScopes: KEYS,
  description: 'A referral: `referrer` brought `referee`.',
  fields: (t) => ({
    referrer: t.relation('referrer', { description: 'The member who referred.' }),
    referee: t.relation('referee', { description: 'The member who was referred.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the referee signed up.' }),
    rewardedAt: t.expose('rewardedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the referrer was rewarded for the referee\'s first qualifying order.',
    }),
    rewardOrder: t.relation('rewardOrder', { nullable: true, description: 'The referee\'s order that earned the referrer\'s reward; null until then.' }),
  }),
});
