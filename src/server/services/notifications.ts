// Notifications: what a write did to its members, derived from what the
// engine did (its ledger entries, and each changed member's view before and
// after), written to the `notifications` outbox in the write's own
// transaction with one delivery per matching webhook endpoint. A rolled-back
// write therefore leaves none, and a committed one always has its own.
// Types and payloads: docs/webhooks.md.
import { setTimeout as sleep } from 'node:timers/promises';
import { Prisma, type PrismaClient } from '@prisma/client';
import { Repeater } from 'graphql-yoga';
import { formatInstant, type Program } from '../engine.ts';
import { REMINDER_TYPES, remindersFor, type NewNotification } from '../../engine/notifications.ts';
import { inTransaction, type Tx } from './transaction.ts';

// The derivation is the engine's (shared with `loyalty replay --notifications`).
export { NOTIFICATION_TYPES, PAYLOAD_VERSION, notificationsFor, viewsBefore } from '../../engine/notifications.ts';
export type { NewNotification, NotificationType } from '../../engine/notifications.ts';
import { PAYLOAD_VERSION } from '../../engine/notifications.ts';

/**
 * Appends the notifications to the outbox and makes a pending delivery for
 * each enabled endpoint of the merchant that takes its type; in the caller's
 * transaction. Two statements, none when there is nothing to say.
 */
export async function recordNotifications(tx: Tx, merchantId: string, eventSeq: bigint | null, notifications: readonly NewNotification[]): Promise<void> {
  if (notifications.length === 0) return;
  const created = await tx.notification.createManyAndReturn({
    data: notifications.map((n) => ({
      merchantId,
      type: n.type,
      member: n.member,
      at: new Date(n.at),
      version: PAYLOAD_VERSION,
      payload: n.payload as Prisma.InputJsonObject,
      eventSeq,
    })),
    select: { id: true },
  });
  const ids = created.map((c) => c.id);
  await tx.$executeRaw`
    INSERT INTO deliveries (merchant_id, notification_id, endpoint_id, member)
    SELECT n.merchant_id, n.id, e.id, n.member
      FROM notifications n
      JOIN webhook_endpoints e ON e.merchant_id = n.merchant_id AND e.enabled AND (cardinality(e.types) = 0 OR n.type = ANY(e.types))
       -- A reminder goes to the endpoints that asked for it that many days before.
       AND (NOT n.type = ANY(${REMINDER_TYPES as string[]}::text[]) OR (n.payload ->> 'daysBefore')::int = e.reminder_days)
     WHERE n.merchant_id = ${merchantId}::uuid AND n.id = ANY(${ids}::bigint[])
     ORDER BY n.id, e.id`;
}

/**
 * The pull feed's horizon: every transaction with a smaller id has ended
 * (committed or rolled back), and every one still in flight or yet to start
 * has this id or a larger one. A notification's `tx` is its write's
 * transaction id, so the notifications with `tx` below the horizon are all
 * there will ever be below it: paging by (tx, id) under the horizon never
 * passes over one that commits later. Ids alone cannot do that: a write takes
 * its ids before it commits, and may commit after a write that took higher
 * ones. A long transaction holds the horizon back while it runs (the feed
 * waits; it loses nothing).
 */
export async function settledBefore(prisma: Pick<PrismaClient, '$queryRaw'>): Promise<bigint> {
  const [row] = await prisma.$queryRaw<{ horizon: bigint }[]>`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS horizon`;
  return row!.horizon;
}

/** What a receiver and the pull feed get: the envelope of a stored notification (docs/webhooks.md). */
export function envelope(n: { id: bigint; type: string; member: string; at: Date; version: number; payload: Prisma.JsonValue; created: Date }) {
  return {
    id: `ntf_${n.id.toString()}`,
    type: n.type,
    version: n.version,
    member: n.member,
    at: formatInstant(n.at.getTime()),
    created: n.created.toISOString(),
    data: n.payload,
  };
}

/**
 * A member's erasure (GDPR) reaches the outbox too: the member's id becomes
 * the pseudonym in their notifications and deliveries and where others'
 * payloads name them (referrer, referee), and birthdays are dropped.
 */
export async function eraseFromNotifications(tx: Tx, merchantId: string, memberId: string, alias: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE notifications SET member = ${alias}, payload = payload - 'birthday'
     WHERE merchant_id = ${merchantId}::uuid AND member = ${memberId}`;
  await tx.$executeRaw`UPDATE deliveries SET member = ${alias} WHERE merchant_id = ${merchantId}::uuid AND member = ${memberId}`;
  for (const field of ['referrer', 'referee']) {
    await tx.$executeRaw`
      UPDATE notifications SET payload = jsonb_set(payload, ARRAY[${field}::text], to_jsonb(${alias}::text))
       WHERE merchant_id = ${merchantId}::uuid AND payload ->> ${field}::text = ${memberId}`;
  }
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * The reminders a time step at `at` makes (points.expiring, club.ending),
 * for each lead time the merchant's enabled endpoints asked for
 * (`reminderDays`): once each, at the first time step within that many days
 * of what they announce. Candidates are the members due within the longest
 * lead time (an expiry is never before a member's next due time) and those
 * with a club membership ending in it; each is locked, so two processes
 * stepping time at once make a reminder once. Returns how many were made.
 */
export async function recordReminders(prisma: PrismaClient, merchantId: string, program: Program, at: number, eventSeq: bigint | null): Promise<number> {
  const endpoints = await prisma.webhookEndpoint.findMany({ where: { merchantId, enabled: true }, select: { types: true, reminderDays: true } });
  const days = [...new Set(endpoints.filter((e) => e.types.length === 0 || e.types.some((t) => REMINDER_TYPES.includes(t as NewNotification['type']))).map((e) => e.reminderDays))];
  if (days.length === 0) return 0;
  const from = new Date(at);
  const horizon = new Date(at + Math.max(...days) * DAY_MS);
  const candidates = await prisma.$queryRaw<{ externalId: string }[]>`
    SELECT m.external_id AS "externalId" FROM members m
     WHERE m.merchant_id = ${merchantId}::uuid AND m.erased_at IS NULL AND m.next_due_at <= ${horizon}
    UNION
    SELECT m.external_id FROM members m JOIN club_memberships c ON c.member_id = m.id
     WHERE m.merchant_id = ${merchantId}::uuid AND m.erased_at IS NULL AND c.until > ${from} AND c.until <= ${horizon}
    ORDER BY 1`;
  let made = 0;
  for (const { externalId } of candidates) {
    made += await inTransaction(prisma, async (tx) => {
      const [row] = await tx.$queryRaw<{ state: Prisma.JsonValue }[]>`
        SELECT state FROM members WHERE merchant_id = ${merchantId}::uuid AND external_id = ${externalId} FOR UPDATE`;
      if (!row) return 0;
      const due = remindersFor(program, row.state as unknown as Parameters<typeof remindersFor>[1], at, days);
      if (due.length === 0) return 0;
      const earlier = await tx.notification.findMany({
        where: { merchantId, member: externalId, type: { in: [...REMINDER_TYPES] } },
        select: { type: true, payload: true },
      });
      const fresh = due.filter(
        (r) => !earlier.some((m) => m.type === r.type && Object.entries(r.identity).every(([k, v]) => (m.payload as Record<string, unknown>)[k] === v)),
      );
      await recordNotifications(tx, merchantId, eventSeq, fresh);
      return fresh.length;
    });
  }
  return made;
}

/** How long a gap in the outbox's ids is watched for a notification that commits late. */
const GAP_WATCH_MS = 30_000;
const WATCH_PAGE = 100;

/**
 * The live feed (the GraphQL subscription): the merchant's notifications
 * recorded after `after` (or, without it, from now on) as they commit, of
 * `types` and `member` when given, each once. It polls the outbox every
 * `pollMs`, which works across processes and on embedded PGlite (one
 * connection; LISTEN would hold it). Ids come from one sequence, but a write
 * that took its ids earlier may commit after a later one: ids skipped over
 * are looked for again for GAP_WATCH_MS (a rolled-back write's never come),
 * and such a late one is yielded when it appears, after higher ids.
 */
export function watchNotifications(
  prisma: PrismaClient,
  merchantId: string,
  filter: { types?: readonly string[] | null; member?: string | null; after?: bigint | null },
  pollMs: number,
): AsyncIterable<Prisma.NotificationGetPayload<object>> {
  return new Repeater(async (push, stop) => {
    let stopped = false;
    void stop.then(() => (stopped = true));
    const where = {
      merchantId,
      ...(filter.types?.length ? { type: { in: [...filter.types] } } : {}),
      ...(filter.member != null ? { member: filter.member } : {}),
    };
    // The cursor runs over every id (not only the matching ones), so that gaps are real gaps.
    let cursor =
      filter.after ?? (await prisma.notification.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }))?.id ?? 0n;
    const gaps = new Map<bigint, number>();
    while (!stopped) {
      const now = Date.now();
      if (gaps.size > 0) {
        for (const [id, since] of gaps) if (now - since > GAP_WATCH_MS) gaps.delete(id);
        const late = await prisma.$queryRaw<{ id: bigint }[]>`SELECT id FROM notifications WHERE id = ANY(${[...gaps.keys()]}::bigint[])`;
        for (const { id } of late) gaps.delete(id);
        const mine = late.length ? await prisma.notification.findMany({ where: { ...where, id: { in: late.map((l) => l.id) } }, orderBy: { id: 'asc' } }) : [];
        for (const n of mine) await push(n);
      }
      const seen = await prisma.$queryRaw<{ id: bigint }[]>`SELECT id FROM notifications WHERE id > ${cursor} ORDER BY id LIMIT ${WATCH_PAGE}`;
      for (const { id } of seen) {
        for (let g = cursor + 1n; g < id && gaps.size < 10_000; g++) gaps.set(g, now);
        cursor = id;
      }
      if (seen.length > 0) {
        const mine = await prisma.notification.findMany({ where: { ...where, id: { in: seen.map((s) => s.id) } }, orderBy: { id: 'asc' } });
        for (const n of mine) await push(n);
      }
      if (seen.length < WATCH_PAGE) await Promise.race([sleep(pollMs), stop]);
    }
  });
}
