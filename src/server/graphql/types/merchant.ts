// The authenticated merchant, and advancing its clock.
import { advanceTime } from '../../services/members.ts';
import { ADMIN, KEYS, READ } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId, scopeOf } from '../context.ts';

builder.prismaObject('Merchant', {
  authScopes: KEYS,
  description: 'The merchant the API key belongs to.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The merchant\'s id in this server.' }),
    name: t.exposeString('name', { description: 'The merchant\'s display name.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the merchant was created.' }),
  }),
});

const AdvanceTimePayload = builder
  .objectRef<{ at: number; members: number; entries: number }>('AdvanceTimePayload')
  .implement({
    authScopes: KEYS,
    description: 'What one run of `advanceTime` did.',
    fields: (t) => ({
      at: t.field({ type: 'DateTime', description: 'The time everything was brought up to.', resolve: (p) => p.at }),
      members: t.exposeInt('members', { description: 'Members something fell due for.' }),
      entries: t.exposeInt('entries', { description: 'Ledger entries written (expiries, birthday bonuses).' }),
    }),
  });

builder.queryField('merchant', (t) =>
  t.prismaField({
    type: 'Merchant',
    authScopes: READ,
    description: 'The merchant the credential belongs to.',
    resolve: (query, _root, _args, ctx) => ctx.prisma.merchant.findUniqueOrThrow({ ...query, where: { id: merchantId(ctx) } }),
  }),
);

builder.mutationField('advanceTime', (t) =>
  t.field({
    type: AdvanceTimePayload,
    authScopes: ADMIN,
    description:
      'Applies what falls due up to `at` (default now) for every member: lot and inactivity expiry, birthday bonuses, tier downgrades. The server also runs this on a schedule when LOYALTY_ADVANCE_INTERVAL_MS is set.',
    args: { at: t.arg({ type: 'DateTime', required: false, description: 'Bring members up to this time; default now.' }) },
    resolve: async (_root, { at }, ctx) => {
      return advanceTime(scopeOf(ctx), at ?? null);
    },
  }),
);
