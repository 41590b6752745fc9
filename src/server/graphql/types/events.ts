// The event log (read), and its audit against the stored states (admin).
import { verifyMerchant, type VerifyDifference as VerifyDifferenceShape, type VerifyReport } from '../../services/verify.ts';
import { ADMIN, READ } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId } from '../context.ts';
import { pageComplexity, totalCountField } from './common.ts';

builder.prismaObject('Event', {
  authScopes: READ,
  description: 'One event of the log, as the server applied it. Events are never changed (an erasure renames the member they name).',
  fields: (t) => ({
    seq: t.id({ description: 'Its sequence number: events of a merchant were applied in this order.', resolve: (e) => e.seq.toString() }),
    type: t.exposeString('type', { description: 'The replay.md type: signup, order, refund, redeem, join_club, cancel_club, event, adjust, tick; or birthday (a corrected birthday, which replay.md has no event for).' }),
    member: t.exposeString('member', { nullable: true, description: "The merchant's member id; null for a tick." }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
    line: t.exposeString('line', { description: 'The event as a replay.md line.' }),
    key: t.exposeString('key', { nullable: true, description: 'The idempotency key it holds (accepted writes only), e.g. `order:A-1001` or `write:<your key>`.' }),
    accepted: t.exposeBoolean('accepted', { description: 'False when the engine refused it.' }),
    refusalCode: t.exposeString('refusalCode', { nullable: true, description: 'Why it was refused (a RefusalCode value).' }),
    refusal: t.exposeString('refusal', { nullable: true, description: 'The refusal in words.' }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime', description: 'When the server applied it.' }),
    programVersion: t.relation('programVersion', { description: 'The program version it was applied under.' }),
  }),
});

builder.queryField('events', (t) =>
  t.prismaConnection(
    {
      type: 'Event',
      cursor: 'seq',
      authScopes: READ,
      description: 'The event log in the order the server applied it (GET /events.jsonl exports it in time order, for `loyalty replay`).',
      complexity: pageComplexity,
      args: { member: t.arg.id({ required: false, description: 'Only the events of this member.' }) },
      totalCount: (_root, { member }, ctx) => ctx.prisma.event.count({ where: { merchantId: merchantId(ctx), ...(member != null ? { member: String(member) } : {}) } }),
      resolve: (query, _root, { member }, ctx) =>
        ctx.prisma.event.findMany({ ...query, where: { merchantId: merchantId(ctx), ...(member != null ? { member: String(member) } : {}) }, orderBy: { seq: 'asc' } }),
    },
    { name: 'EventConnection', fields: (t) => ({ totalCount: t.int(totalCountField) }) },
    { name: 'EventEdge' },
  ),
);

const VerifyDifference = builder.objectRef<VerifyDifferenceShape>('VerifyDifference').implement({
  authScopes: ADMIN,
  description: 'A member whose stored state, balance or ledger is not what the log gives.',
  fields: (t) => ({
    member: t.exposeString('member', { description: "The merchant's member id." }),
    what: t.exposeString('what', { description: 'What differs: state, balance, ledger, missing (stored, no event creates it) or extra (the log creates it, not stored).' }),
    message: t.exposeString('message', { description: 'The difference.' }),
  }),
});

const VerifyReportRef = builder.objectRef<VerifyReport & { ok: boolean }>('VerifyReport').implement({
  authScopes: ADMIN,
  description: 'The audit of the event log: replaying it with the program versions gives the stored states, balances and ledgers.',
  fields: (t) => ({
    events: t.exposeInt('events', { description: 'Events replayed.' }),
    members: t.exposeInt('members', { description: 'Members compared.' }),
    skipped: t.exposeInt('skipped', { description: 'Erased members, not compared (their log lost the personal data they were derived from).' }),
    ok: t.exposeBoolean('ok', { description: 'True when nothing differs.' }),
    differences: t.field({ type: [VerifyDifference], description: 'What differs (at most 1,000).', resolve: (r) => r.differences }),
  }),
});

builder.queryField('verifyLedger', (t) =>
  t.field({
    type: VerifyReportRef,
    authScopes: ADMIN,
    description: "Replays the merchant's event log and compares member by member with what is stored (`npm run db:verify` does it for every merchant).",
    // A full replay of the history: as costly as a page of 100 members.
    complexity: 100,
    resolve: async (_root, _args, ctx) => {
      const r = await verifyMerchant(ctx.prisma, merchantId(ctx));
      return { ...r, ok: r.differences.length === 0 };
    },
  }),
);
