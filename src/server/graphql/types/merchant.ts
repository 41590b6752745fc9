// The authenticated merchant, and advancing its clock.
import { recordAdvanceTimeRun } from '../../metrics.ts';
import { advanceTime, type AdvanceFailure, type AdvanceResult } from '../../services/members.ts';
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

const AdvanceTimeFailure = builder.objectRef<AdvanceFailure>('AdvanceTimeFailure').implement({
  authScopes: KEYS,
  description: 'A member `advanceTime` could not bring up to date. Nothing was written for it; the next run tries again.',
  fields: (t) => ({
    memberId: t.exposeString('memberId', { description: 'Your id of the member.' }),
    message: t.exposeString('message', { description: 'What went wrong (also in the server log).' }),
  }),
});

const AdvanceTimePayload = builder.objectRef<AdvanceResult>('AdvanceTimePayload').implement({
  authScopes: KEYS,
  description: 'What one run of `advanceTime` did.',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'The time everything was brought up to.', resolve: (p) => p.at }),
    members: t.exposeInt('members', { description: 'Members it changed: their balance or tier moved, or they were written entries.' }),
    entries: t.exposeInt('entries', { description: 'Ledger entries written (expiries, birthday bonuses).' }),
    failed: t.exposeInt('failed', { description: 'Members it could not bring up to date; each is retried by the next run.' }),
    failures: t.field({
      type: [AdvanceTimeFailure],
      description: 'The members that failed (the first 100), with why.',
      resolve: (p) => p.failures,
    }),
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
      const started = performance.now();
      const result = await advanceTime(
        scopeOf(ctx),
        at ?? null,
        (memberId, error) => ctx.logger?.error({ err: error, merchantId: merchantId(ctx), memberId }, 'advanceTime failed for a member'),
        ctx,
      );
      recordAdvanceTimeRun({ trigger: 'request', changed: result.members, failed: result.failed, entries: result.entries, seconds: (performance.now() - started) / 1000 });
      return result;
    },
  }),
);
