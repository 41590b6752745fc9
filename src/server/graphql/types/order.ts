// Orders: recording (idempotent on the merchant's order id), refunds, reads.
import { measuredWrite } from '../../metrics.ts';
import { EventRefusedError } from '../../services/errors.ts';
import * as members from '../../services/members.ts';
import { KEYS, READ, WRITE } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId, scopeOf, type Context } from '../context.ts';
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
  description: 'A line of an order, as recorded.',
  fields: (t) => ({
    sku: t.exposeString('sku', { description: 'The product\'s sku.' }),
    category: t.exposeString('category', { description: 'The product category the program\'s rules match on.' }),
    qty: t.exposeInt('qty', { description: 'Units bought.' }),
    price: t.field({ type: Money, description: 'Unit price.', resolve: (l, _a, ctx) => moneyOf(ctx, l.merchantId, l.price) }),
  }),
});

const RefundLine = builder.objectRef<{ sku: string; qty: number }>('RefundLine').implement({
  authScopes: KEYS,
  description: 'Units of one sku given back in a refund.',
  fields: (t) => ({
    sku: t.exposeString('sku', { description: 'The refunded sku.' }),
    qty: t.exposeInt('qty', { description: 'Units refunded.' }),
  }),
});

const Refund = builder.objectRef<StoredRefund>('Refund').implement({
  authScopes: KEYS,
  description: 'A refund of some lines of an order.',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'When the refund happened.', resolve: (r) => r.at }),
    lines: t.field({ type: [RefundLine], description: 'What was refunded.', resolve: (r) => r.lines }),
  }),
});

builder.prismaObject('Order', {
  authScopes: KEYS,
  description: 'An accepted order.',
  fields: (t) => ({
    id: t.exposeID('externalId', { description: 'The merchant\'s order id.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When the order happened.' }),
    channel: t.exposeString('channel', { nullable: true, description: 'The sales channel given with the order, e.g. "app".' }),
    lines: t.field({
      type: [OrderLine],
      description: 'The order lines, as recorded.',
      resolve: (o) => (o.lines as unknown as StoredLine[]).map((l) => ({ ...l, merchantId: o.merchantId })),
    }),
    total: t.field({
      type: Money,
      description: 'Sum of the line amounts before tier and club discounts.',
      resolve: (o, _a, ctx) => moneyOf(ctx, o.merchantId, Number(o.total)),
    }),
    refunds: t.field({ type: [Refund], description: 'Refunds of this order, oldest first.', resolve: (o) => o.refunds as unknown as StoredRefund[] }),
    member: t.relation('member', { description: 'The member who placed the order.' }),
    entries: t.relation('ledgerEntries', {
      description: 'Ledger entries that refer to this order (earnings, reversals, a referrer\'s reward).',
      query: { orderBy: { id: 'asc' } },
    }),
  }),
});

const RecordOrderInput = builder.inputType('RecordOrderInput', {
  description: 'An order to record.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The merchant\'s id of the member who placed it.' }),
    orderId: t.id({ required: true, description: 'The merchant\'s order id; recording it again with the same body returns the first result.' }),
    lines: t.field({ type: [OrderLineInput], required: true, description: 'The order lines (at least one).' }),
    channel: t.string({ required: false, description: 'The sales channel, e.g. "app", for `when order.channel == "app"`.' }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RefundLineInput = builder.inputType('RefundLineInput', {
  description: 'Units of one sku to refund.',
  fields: (t) => ({
    sku: t.string({ required: true, description: 'A sku of the order.' }),
    qty: t.int({ required: true, description: 'Units to refund (at most what is left of the line).' }),
  }),
});

const RefundOrderInput = builder.inputType('RefundOrderInput', {
  description: 'A refund of some lines of a recorded order.',
  fields: (t) => ({
    memberId: t.id({ required: true, description: 'The member who placed the order.' }),
    orderId: t.id({ required: true, description: 'The merchant\'s order id given to `recordOrder`.' }),
    refundId: t.id({
      required: true,
      description: 'Your id for this refund: a retry with it and the same body returns the first result and writes nothing; another body is IDEMPOTENCY_CONFLICT.',
    }),
    lines: t.field({ type: [RefundLineInput], required: true, description: 'What to refund.' }),
    at: t.field({ type: 'DateTime', required: false, description: AT_DESCRIPTION }),
  }),
});

const RecordOrderPayload = builder.objectRef<members.OrderResult>('RecordOrderPayload').implement({
  authScopes: KEYS,
  description: 'A recorded order and the points it earned.',
  interfaces: [WritePayload],
  fields: (t) => ({
    order: t.prismaField({
      type: 'Order',
      description: 'The recorded order.',
      resolve: (query, p, _a, ctx) => ctx.prisma.order.findUniqueOrThrow({ ...query, where: { id: p.orderId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  recordOrder: t.field({
    type: RecordOrderPayload,
    authScopes: WRITE,
    description:
      'Records an order and awards its points. Idempotent on `orderId`: the same body returns the first result; a different body is an IDEMPOTENCY_CONFLICT error.',
    errors: { types: [EventRefusedError] },
    args: { input: t.arg({ type: RecordOrderInput, required: true, description: 'The order.' }) },
    resolve: (_root, { input }, ctx) =>
      measuredWrite('recordOrder', () =>
        // The request's API key, when it is checked by the write's lock statement (http/authentication.ts).
        members.recordOrder({ ...scopeOf(ctx), apiKey: ctx.keyToVerify() }, { ...input, memberId: String(input.memberId), orderId: String(input.orderId) })),
  }),
  refundOrder: t.field({
    type: MemberPayload,
    authScopes: WRITE,
    description: 'Refunds lines of an order; takes back the points they earned (referral rewards stay).',
    errors: { types: [EventRefusedError] },
    args: { input: t.arg({ type: RefundOrderInput, required: true, description: 'The refund.' }) },
    resolve: (_root, { input }, ctx) =>
      measuredWrite('refundOrder', () =>
        members.refundOrder(scopeOf(ctx), { ...input, memberId: String(input.memberId), orderId: String(input.orderId), refundId: String(input.refundId) })),
  }),
}));

builder.queryField('order', (t) =>
  t.prismaField({
    type: 'Order',
    nullable: true,
    authScopes: READ,
    description: "One order by the merchant's order id; null if there is none.",
    args: { id: t.arg.id({ required: true, description: "The merchant's order id (`orderId` of recordOrder)." }) },
    resolve: (query, _root, { id }, ctx) =>
      ctx.prisma.order.findUnique({
        ...query,
        where: { merchantId_externalId: { merchantId: merchantId(ctx), externalId: String(id) } },
      }),
  }),
);
