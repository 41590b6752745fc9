// Notifications (the pull feed, read scope) and webhooks (admin): endpoints,
// their deliveries, and redelivery. What each notification type carries:
// docs/webhooks.md.
import { DomainError } from '../../services/errors.ts';
import { envelope, NOTIFICATION_TYPES, settledBefore, watchNotifications, type NotificationType as NotificationTypeValue } from '../../services/notifications.ts';
import * as webhooks from '../../services/webhooks.ts';
import { ADMIN, KEYS, READ } from '../access.ts';
import { builder } from '../builder.ts';
import { merchantId } from '../context.ts';
import { pageComplexity } from './common.ts';

const enumName = (type: string) => type.replace('.', '_').toUpperCase();

export const NotificationType = builder.enumType('NotificationType', {
  description: 'What a notification says happened (docs/webhooks.md); the value on the wire is the dotted name, e.g. `points.earned`.',
  values: Object.fromEntries(NOTIFICATION_TYPES.map((t) => [enumName(t), { value: t, description: `\`${t}\`` }])) as Record<
    string,
    { value: NotificationTypeValue; description: string }
  >,
});

const DeliveryStatus = builder.enumType('DeliveryStatus', {
  description: 'Where a delivery is.',
  values: {
    PENDING: { value: 'pending', description: 'Not yet delivered: waiting for its first attempt or a retry.' },
    DELIVERED: { value: 'delivered', description: 'The endpoint answered 2xx.' },
    FAILED: { value: 'failed', description: 'Every attempt in the retry window failed; `redeliver` sends it again.' },
  } as const,
});

const NotificationRef = builder.prismaObject('Notification', {
  authScopes: KEYS,
  description: 'What a write did to a member, recorded in the write\'s own transaction: a webhook receiver gets the same in `body`.',
  fields: (t) => ({
    id: t.id({ description: 'Unique and stable (`ntf_…`): receivers dedupe by it (delivery is at least once).', resolve: (n) => `ntf_${n.id.toString()}` }),
    type: t.field({ type: NotificationType, description: 'What happened.', resolve: (n) => n.type as NotificationTypeValue }),
    memberId: t.exposeID('member', { description: 'The merchant\'s member id.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened in the program\'s time (an entry\'s or the event\'s time).' }),
    created: t.expose('created', { type: 'DateTime', description: 'When the server recorded it.' }),
    version: t.exposeInt('version', { description: 'The payload\'s shape version (1).' }),
    data: t.expose('payload', { type: 'JSON', description: 'The type\'s payload (docs/webhooks.md).' }),
    body: t.field({ type: 'JSON', description: 'The JSON a webhook receiver is sent for this notification.', resolve: (n) => envelope(n) }),
    deliveries: t.relation('deliveries', {
      authScopes: ADMIN,
      description: 'Its deliveries to the merchant\'s endpoints (admin).',
      query: { orderBy: { id: 'asc' } },
    }),
  }),
});

const WebhookEndpointRef = builder.prismaObject('WebhookEndpoint', {
  authScopes: ADMIN,
  description: 'Where the merchant\'s notifications are POSTed, signed with its secret.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The endpoint\'s id.' }),
    url: t.exposeString('url', { description: 'The receiver\'s http(s) URL.' }),
    types: t.field({ type: [NotificationType], description: 'The types it receives; empty: every type.', resolve: (e) => e.types as NotificationTypeValue[] }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled endpoint gets no new deliveries (pending ones are still sent).' }),
    secret: t.exposeString('secret', { description: 'The HMAC-SHA256 secret of its `Loyalty-Signature` header.' }),
    reminderDays: t.exposeInt('reminderDays', { description: 'How many days ahead it is sent reminders (`points.expiring`, `club.ending`).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it was last changed.' }),
  }),
});

const DeliveryRef = builder.prismaObject('Delivery', {
  authScopes: ADMIN,
  description: 'One notification to one endpoint.',
  fields: (t) => ({
    id: t.id({ description: 'The delivery\'s id, for `redeliver`.', resolve: (d) => d.id.toString() }),
    status: t.field({ type: DeliveryStatus, description: 'Where it is.', resolve: (d) => d.status as 'pending' | 'delivered' | 'failed' }),
    attempts: t.exposeInt('attempts', { description: 'Requests made so far (in this round: `redeliver` starts again at 0).' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', description: 'When the worker tries it next, while pending.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: 'The HTTP status of the last attempt; null when it got none (refused, timed out).' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last attempt failed.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true, description: 'When the last attempt was made.' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true, description: 'When the endpoint accepted it.' }),
    endpoint: t.relation('endpoint', { description: 'Where it goes.' }),
    notification: t.relation('notification', { description: 'What it carries.' }),
  }),
});

builder.queryFields((t) => ({
  notifications: t.prismaConnection(
    {
      type: 'Notification',
      cursor: 'merchantId_tx_id',
      authScopes: READ,
      description:
        'The pull feed: notifications in the order their writes committed, oldest first; page on with `after` (the last `endCursor` you processed). A notification appears once no write that started before its own is still in flight, so none can appear behind a cursor later.',
      complexity: pageComplexity,
      args: {
        types: t.arg({ type: [NotificationType], required: false, description: 'Only these types.' }),
        memberId: t.arg.id({ required: false, description: 'Only this member\'s.' }),
      },
      resolve: async (query, _root, { types, memberId }, ctx) =>
        ctx.prisma.notification.findMany({
          ...query,
          where: {
            merchantId: merchantId(ctx),
            tx: { lt: await settledBefore(ctx.prisma) },
            ...(types?.length ? { type: { in: [...types] } } : {}),
            ...(memberId != null ? { member: String(memberId) } : {}),
          },
          orderBy: [{ tx: 'asc' }, { id: 'asc' }],
        }),
    },
    { name: 'NotificationConnection' },
    { name: 'NotificationEdge' },
  ),
  webhookEndpoints: t.prismaField({
    type: [WebhookEndpointRef],
    authScopes: ADMIN,
    description: 'The merchant\'s webhook endpoints, oldest first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.webhookEndpoint.findMany({ ...query, where: { merchantId: merchantId(ctx) }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
  webhookDeliveries: t.prismaField({
    type: [DeliveryRef],
    authScopes: ADMIN,
    description: 'Deliveries, newest first (at most 100), optionally of one endpoint or in one status.',
    args: {
      endpointId: t.arg.id({ required: false, description: 'Only this endpoint\'s.' }),
      status: t.arg({ type: DeliveryStatus, required: false, description: 'Only in this status.' }),
      first: t.arg.int({ required: false, defaultValue: 20, description: 'At most this many (at most 100).' }),
    },
    resolve: (query, _root, { endpointId, status, first }, ctx) =>
      ctx.prisma.delivery.findMany({
        ...query,
        where: {
          merchantId: merchantId(ctx),
          ...(endpointId != null ? { endpointId: String(endpointId) } : {}),
          ...(status != null ? { status } : {}),
        },
        orderBy: { id: 'desc' },
        take: Math.max(1, Math.min(100, first ?? 20)),
      }),
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    authScopes: ADMIN,
    description: 'Adds an endpoint: the notifications recorded from now on (of `types`) are POSTed to it. Without `secret`, one is made (read it in `secret`).',
    args: {
      url: t.arg.string({ required: true, description: 'An http(s) URL.' }),
      types: t.arg({ type: [NotificationType], required: false, description: 'The types it receives; empty or absent: every type.' }),
      secret: t.arg.string({ required: false, description: 'Its signing secret, 16 to 200 characters.' }),
      reminderDays: t.arg.int({ required: false, description: 'How many days ahead reminders are sent (1 to 90; default 7).' }),
    },
    resolve: (_root, { url, types, secret, reminderDays }, ctx) => webhooks.createEndpoint(ctx.prisma, merchantId(ctx), { url, types, secret, reminderDays }),
  }),
  updateWebhookEndpoint: t.field({
    type: WebhookEndpointRef,
    authScopes: ADMIN,
    description: 'Changes an endpoint; an argument left out is kept.',
    args: {
      id: t.arg.id({ required: true, description: 'The endpoint\'s id.' }),
      url: t.arg.string({ required: false, description: 'A new http(s) URL.' }),
      types: t.arg({ type: [NotificationType], required: false, description: 'The types it receives; empty: every type.' }),
      secret: t.arg.string({ required: false, description: 'A new signing secret (the next requests are signed with it).' }),
      enabled: t.arg.boolean({ required: false, description: 'false: no new deliveries.' }),
      reminderDays: t.arg.int({ required: false, description: 'How many days ahead reminders are sent (1 to 90).' }),
    },
    resolve: (_root, { id, url, types, secret, enabled, reminderDays }, ctx) =>
      webhooks.updateEndpoint(ctx.prisma, merchantId(ctx), String(id), { url, types, secret, enabled, reminderDays }),
  }),
  deleteWebhookEndpoint: t.boolean({
    authScopes: ADMIN,
    description: 'Deletes an endpoint and its deliveries (pending ones are not sent).',
    args: { id: t.arg.id({ required: true, description: 'The endpoint\'s id.' }) },
    resolve: (_root, { id }, ctx) => webhooks.deleteEndpoint(ctx.prisma, merchantId(ctx), String(id)),
  }),
  redeliver: t.field({
    type: DeliveryRef,
    authScopes: ADMIN,
    description: 'Sends a delivery again at the next poll, delivered or failed, with a new round of retries.',
    args: { deliveryId: t.arg.id({ required: true, description: 'The delivery\'s id.' }) },
    resolve: (_root, { deliveryId }, ctx) => webhooks.redeliver(ctx.prisma, merchantId(ctx), String(deliveryId)),
  }),
}));

/** A notification id as the API shows it (`ntf_123`), as the outbox's id. */
function notificationId(id: string): bigint {
  const m = /^ntf_([0-9]{1,18})$/.exec(id);
  if (!m) throw new DomainError('BAD_USER_INPUT', 'after: a notification id (ntf_…) the API returned', { field: 'after' });
  return BigInt(m[1]!);
}

builder.subscriptionFields((t) => ({
  notifications: t.field({
    type: NotificationRef,
    authScopes: READ,
    description:
      'The live feed (for a dashboard): each notification as it is recorded, over Server-Sent Events. Without `after`, from now on; with it, first those recorded after that notification (resume after a disconnect), then the new ones. Each comes once; one that commits late comes after later ones (docs/webhooks.md).',
    args: {
      types: t.arg({ type: [NotificationType], required: false, description: 'Only these types.' }),
      memberId: t.arg.id({ required: false, description: 'Only this member\'s.' }),
      after: t.arg.id({ required: false, description: 'Start after this notification (`ntf_…`).' }),
    },
    subscribe: (_root, { types, memberId, after }, ctx) =>
      watchNotifications(
        ctx.prisma,
        merchantId(ctx),
        { types, member: memberId == null ? null : String(memberId), after: after == null ? null : notificationId(String(after)) },
        ctx.feedPollMs,
      ),
    resolve: (n) => n,
  }),
}));
