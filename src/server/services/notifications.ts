// Notifications: what a write did to its members, derived from what the
// engine did (its ledger entries, and each changed member's view before and
// after), written to the `notifications` outbox in the write's own
// transaction with one delivery per matching webhook endpoint. A rolled-back
// write therefore leaves none, and a committed one always has its own.
// Types and payloads: docs/webhooks.md.
import { Prisma } from '@prisma/client';
import { formatInstant, memberView, type EngineEvent, type LedgerEntry, type MemberState, type MemberView, type Program } from '../engine.ts';
import type { Tx } from './transaction.ts';

export const NOTIFICATION_TYPES = [
  'member.signed_up',
  'points.earned',
  'points.redeemed',
  'points.reversed',
  'points.adjusted',
  'points.expired',
  'tier.changed',
  'club.joined',
  'club.ended',
  'referral.rewarded',
  'birthday.bonus',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The payload's shape; a change that is not purely additive gets a new version. */
export const PAYLOAD_VERSION = 1;

export interface NewNotification {
  type: NotificationType;
  member: string;
  at: number;
  payload: Record<string, Prisma.InputJsonValue | null>;
}

/**
 * Each member's view before the engine runs (the engine changes states in
 * place). null for a state the view cannot read: its changes are not
 * compared (the engine refuses such a member's events anyway).
 */
export function viewsBefore(program: Program, states: Iterable<{ state: MemberState }>): Map<string, MemberView | null> {
  const views = new Map<string, MemberView | null>();
  for (const { state } of states) {
    try {
      views.set(state.id, memberView(program, state));
    } catch {
      views.set(state.id, null);
    }
  }
  return views;
}

/** The rules that are notifications of their own rather than `points.earned`. */
const OWN_TYPE: Record<string, NotificationType> = { birthday: 'birthday.bonus', 'referral:referrer': 'referral.rewarded' };

/**
 * What one write did, in order: a signup, then what its entries did (in
 * entry order: time-driven expiry and birthdays first, as the engine wrote
 * them), then each member's clubs and tier. `event` is null for advanceTime.
 */
export function notificationsFor(
  program: Program,
  write: {
    event: EngineEvent | null;
    at: number;
    before: ReadonlyMap<string, MemberView | null>;
    changed: readonly MemberState[];
    entries: readonly LedgerEntry[];
  },
): NewNotification[] {
  const { event, at, before, changed, entries } = write;
  const after = new Map<string, MemberView>();
  for (const s of changed) after.set(s.id, memberView(program, s, at));
  const balance = (member: string) => after.get(member)?.balance ?? null;
  const out: NewNotification[] = [];

  if (event?.type === 'signup' && !before.has(event.member) && after.has(event.member)) {
    const view = after.get(event.member)!;
    out.push({
      type: 'member.signed_up',
      member: event.member,
      at: event.at,
      payload: { referrer: view.referrer, birthday: view.birthday, tier: view.tier?.name ?? null, balance: view.balance },
    });
  }

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const own = e.rule === null ? undefined : OWN_TYPE[e.rule];
    if (e.kind === 'earn' && own === undefined) {
      // One points.earned for the entries one order (or bonus) gave the member at once.
      const group = [e];
      while (i + 1 < entries.length) {
        const n = entries[i + 1]!;
        if (n.kind !== 'earn' || n.member !== e.member || n.ref !== e.ref || n.at !== e.at || (n.rule !== null && OWN_TYPE[n.rule] !== undefined)) break;
        group.push(n);
        i++;
      }
      out.push({
        type: 'points.earned',
        member: e.member,
        at: e.at,
        payload: {
          points: group.reduce((sum, g) => sum + g.points, 0),
          balance: balance(e.member),
          order: e.ref,
          rules: [...new Set(group.map((g) => g.rule ?? 'unknown'))],
          entries: group.map((g) => ({ points: g.points, rule: g.rule, line: g.line })),
        },
      });
      continue;
    }
    const common = { points: e.points, balance: balance(e.member) };
    if (own === 'birthday.bonus') out.push({ type: own, member: e.member, at: e.at, payload: { ...common, line: e.line } });
    else if (own === 'referral.rewarded') {
      out.push({
        type: own,
        member: e.member,
        at: e.at,
        payload: { ...common, referee: event && 'member' in event ? event.member : null, order: e.ref, line: e.line },
      });
    } else if (e.kind === 'redeem') out.push({ type: 'points.redeemed', member: e.member, at: e.at, payload: { ...common, points: -e.points } });
    else if (e.kind === 'reverse') out.push({ type: 'points.reversed', member: e.member, at: e.at, payload: { ...common, points: -e.points, order: e.ref } });
    else if (e.kind === 'expire') out.push({ type: 'points.expired', member: e.member, at: e.at, payload: { ...common, points: -e.points } });
    else if (e.kind === 'adjust') {
      const reason = event?.type === 'adjust' && event.member === e.member ? (event.reason ?? null) : null;
      out.push({ type: 'points.adjusted', member: e.member, at: e.at, payload: { ...common, reason } });
    }
  }

  for (const [member, now] of after) {
    const was = before.get(member);
    // A new member starts in its tier (member.signed_up says which); an unreadable one is not compared.
    if (!was) continue;
    const clubsBefore = new Set(was.clubs.map((c) => c.name));
    const clubsAfter = new Set(now.clubs.map((c) => c.name));
    for (const c of now.clubs) {
      if (!clubsBefore.has(c.name)) {
        out.push({ type: 'club.joined', member, at, payload: { club: c.name, since: formatInstant(c.since), until: c.until === null ? null : formatInstant(c.until) } });
      }
    }
    for (const c of was.clubs) {
      if (!clubsAfter.has(c.name)) {
        const cancelled = event?.type === 'cancel_club' && event.member === member && event.club === c.name;
        const ended = c.until !== null && c.until <= at ? c.until : at;
        out.push({ type: 'club.ended', member, at: ended, payload: { club: c.name, reason: cancelled ? 'cancelled' : 'expired' } });
      }
    }
    const from = was.tier;
    const to = now.tier;
    if ((from?.name ?? null) !== (to?.name ?? null)) {
      const up = (to?.index ?? -1) > (from?.index ?? -1);
      out.push({ type: 'tier.changed', member, at, payload: { from: from?.name ?? null, to: to?.name ?? null, direction: up ? 'up' : 'down' } });
    }
  }
  return out;
}

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
     WHERE n.merchant_id = ${merchantId}::uuid AND n.id = ANY(${ids}::bigint[])
     ORDER BY n.id, e.id`;
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
