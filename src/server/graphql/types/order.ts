// Orders: recording (idempotent on the merchant's order id), refunds, reads.
import { EventRefusedError } from '../../services/errors.ts';
import * as members from '../../services/members.ts';
import { KEYS, WRITE } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId, type Context } from '../context.ts';
import { Money, money } from './common.ts';
import { AT_DESCRIPTION, MemberPayload, OrderLineInput, WritePayload } from './member.ts';

interface StoredLine {
  sku: string;
  category: string;
  qty: number;
  price: number;
}
interface StoredRefund {
  at: string;
  lines: { sku: string; qty: number }[];
}

async function moneyOf(ctx: Context, merchant: string, minor: number) {
  const active = await ctx.programs.load(merchant);
  if (!active) throw new Error('an order exists but its merchant has no program');
  return money(minor, active.program);
}

const OrderLine = builder.objectRef<StoredLine & { merchantId: string }>('OrderLine').implement({
  authScopes: KEYS,
  fields: (t) => ({
    sku: t.exposeString('sku'),
    category: t.exposeString('category'),
    qty: t.exposeInt('qty'),
    price: t.field({ type: Money, description: 'Unit price.', resolve: (l, _a, ctx) => moneyOf(ctx, l.merchantId, l.price) }),
  }),
});

const RefundLine = builder.objectRef<{ sku: string; qty: number }>('RefundLine').implement({
  authScopes: KEYS,
  fields: (t) => ({ sku: t.exposeString('sku'), qty: t.exposeInt('qty') }),
});

const Refund = builder.objectRef<StoredRefund>('Refund').implement({
  authScopes: KEYS,
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (r) => r.at }),
    lines: t.field({ type: [RefundLine], resolve: (r) => r.lines }),
  }),
});

builder.prismaObject('Order', {
  authScopes: KEYS,
  description: 'An accepted order.',
  fields: (t) => ({
    id: t.exposeID('externalId', { description: 'The merchant\'s order id.' }),
    at: t.expose('at', { type: 'DateTime' }),
    channel: t.exposeString('channel', { nullable: true }),
    lines: t.field({
      type: [OrderLine],
      resolve: (o) => (o.lines as unknown as StoredLine[]).map((l) => ({ ...l, merchantId: o.merchantId })),
    }),
    total: t.field({
      type: Money,
      description: 'Sum of the line amounts before club discounts.',
      resolve: (o, _a, ctx) => moneyOf(ctx, o.merchantId, o.total),
    }),
    refunds: t.field({ type: [Refund], resolve: (o) => o.refunds as unknown as StoredRefund[] }),
    member: t.relation('member'),
    entries: t.relation('ledgerEntries', {
      description: 'Ledger entries that refer to this order (earnings, reversals, a referrer\'s reward).',
      query: { orderBy: { id: 'asc' } },
    }),
  }),
});

const RecordOrderInput = builder.inputType('RecordOrderInput', {
  fields: (t) => ({
    memberId: t.id({ required: true }),
    orderId: t.id({ required: true, description: 'The merchant\'s order id; recording it again with the same body returns the first result.' }),
    lines: t.field({ type: [OrderLineInput], required: true }),
    channel: t.string({ required: false, description: 'e.g. "app", for `when order.channel == "app"`.' }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RefundLineInput = builder.inputType('RefundLineInput', {
  fields: (t) => ({ sku: t.string({ required: true }), qty: t.int({ required: true }) }),
});

const RefundOrderInput = builder.inputType('RefundOrderInput', {
  fields: (t) => ({
    memberId: t.id({ required: true }),
    orderId: t.id({ required: true }),
    lines: t.field({ type: [RefundLineInput], required: true }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RecordOrderPayload = builder.objectRef<members.OrderResult>('RecordOrderPayload').implement({
  authScopes: KEYS,
  interfaces: [WritePayload],
  fields: (t) => ({
    replayed: t.exposeBoolean('replayed', {
      description: 'true when this order id was already recorded with the same body: the first result, nothing written.',
    }),
    order: t.prismaField({
      type: 'Order',
      resolve: (query, p, _a, ctx) => ctx.prisma.order.findUniqueOrThrow({ ...query, where: { id: p.orderId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  recordOrder: t.field({
    type: RecordOrderPayload,
    authScopes: WRITE,
    description:
      'Records an order and awards its points. Idempotent on `orderId`: the same body returns the first result; a different body is an ORDER_ID_CONFLICT error.',
    errors: { types: [EventRefusedError] },
    args: { input: t.arg({ type: RecordOrderInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      members.recordOrder(
        { prisma: ctx.prisma, merchantId: merchantId(ctx) },
        { ...input, memberId: String(input.memberId), orderId: String(input.orderId) },
      ),
  }),
  refundOrder: t.field({
    type: MemberPayload,
    authScopes: WRITE,
    description: 'Refunds lines of an order; takes back the points they earned (referral rewards stay).',
    errors: { types: [EventRefusedError] },
    args: { input: t.arg({ type: RefundOrderInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      members.refundOrder(
        { prisma: ctx.prisma, merchantId: merchantId(ctx) },
        { ...input, memberId: String(input.memberId), orderId: String(input.orderId) },
      ),
  }),
}));
