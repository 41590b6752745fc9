// Member writes and dry runs. Each write is one transaction (inTransaction):
// lock the member row, load the engine state (and the referrer's, for
// orders), apply the engine, write the ledger entries, store the new states
// with a version check, and mirror what the API reads (orders, clubs,
// referrals). Refused events still store what the engine moved forward
// (entries that fell due before the event), then report the refusal.
import { createHash, randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '@prisma/client';
import { z } from 'zod';
import {
  advance,
  applyEvent,
  eventLine,
  formatCurrency,
  formatInstant,
  memberView,
  nextDue,
  parseEvent,
  quote,
  type EngineEvent,
  type LedgerEntry,
  type MemberState,
  type OrderRecord,
  type Quote,
  type Refusal,
} from '../engine.ts';
import { actorLabel, recordAudit, type AuditActor } from './audit.ts';
import { DomainError, EventRefusedError } from './errors.ts';
import { notificationsFor, recordNotifications, recordReminders, viewsBefore } from './notifications.ts';
import { requireActiveProgram, type ActiveProgram } from './programs.ts';
import { inTransaction, VersionConflict, type Tx } from './transaction.ts';

export interface Scope {
  prisma: PrismaClient;
  merchantId: string;
  /** How far ahead of now a write's `at` may be (default DEFAULT_MAX_FUTURE_MS); a sandbox merchant has no limit. */
  maxFutureMs?: number;
}

/**
 * Tills' clocks drift, so a write may be dated a little ahead of the server;
 * much further would stop the member, since every later event earlier than
 * it is refused as out of order (dsl.md 4.1).
 */
export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000;

export interface MemberRow {
  id: string;
  externalId: string;
  state: MemberState;
  version: number;
  lastEventAt: Date;
  /** The cached columns as stored before this write. */
  balance: bigint;
  tier: string | null;
}

/** What a write did: the member it was for and the ledger entries it wrote, in order. */
export interface WriteResult {
  memberId: string;
  entryIds: bigint[];
  /** Sum of the points the write gave the member (not the referrer). */
  points: number;
  /** true when this was a retry of a write already applied (same key and body): its first result, nothing written. */
  replayed: boolean;
}

export interface OrderResult extends WriteResult {
  orderId: string;
}

// ---------------------------------------------------------------- inputs

export interface OrderLineInput {
  sku: string;
  category: string;
  qty: number;
  /** Unit price, a decimal string in the program currency ("4.50"). */
  price: string;
}

export interface RefundLineInput {
  sku: string;
  qty: number;
}

const name = z.string().min(1).max(200);
/** Size limits the engine does not impose; its parser checks everything else. */
const limits = z.looseObject({
  member: name.optional(),
  id: name.optional(),
  order: name.optional(),
  referrer: name.nullish(),
  club: name.optional(),
  name: name.optional(),
  reward: name.optional(),
  channel: z.string().max(100).nullish(),
  lines: z.array(z.looseObject({ sku: name, category: name.optional() })).max(500).optional(),
});

/**
 * Amounts the API accepts. Within them the engine's arithmetic is exact and
 * every figure fits the columns (64-bit) and GraphQL's Int (32-bit) that
 * carry it; beyond them a write is BAD_USER_INPUT and nothing is written.
 */
export const LIMITS = {
  /** Units of a sku on one order line. */
  quantity: 1_000_000,
  /** A unit price, minor units (100,000,000.00 USD; 10,000,000,000 JPY). */
  unitPrice: 10_000_000_000,
  /** An order's total, Σ qty × price, and a redemption's `orderTotal`, minor units. */
  orderTotal: 1_000_000_000_000,
  /** A balance and a ledger entry, points (GraphQL's Int). */
  points: 2_147_483_647,
} as const;

function checkAmounts(active: ActiveProgram, event: EngineEvent): void {
  const money = (minor: number) => formatCurrency(active.program, minor);
  const refuse = (message: string, details: Record<string, unknown>) => {
    throw new DomainError('BAD_USER_INPUT', message, details);
  };
  if ('lines' in event && event.type === 'order') {
    let total = 0;
    event.lines.forEach((l, i) => {
      if (l.qty > LIMITS.quantity) refuse(`lines.${i}.qty ${l.qty} is above the limit of ${LIMITS.quantity}`, { limit: LIMITS.quantity });
      if (l.price > LIMITS.unitPrice) {
        refuse(`lines.${i}.price ${money(l.price)} is above the limit of ${money(LIMITS.unitPrice)}`, { limit: money(LIMITS.unitPrice) });
      }
      total += l.qty * l.price;
    });
    if (total > LIMITS.orderTotal) refuse(`the order's total ${money(total)} is above the limit of ${money(LIMITS.orderTotal)}`, { limit: money(LIMITS.orderTotal) });
  }
  if (event.type === 'refund') {
    event.lines.forEach((l, i) => {
      if (l.qty > LIMITS.quantity) refuse(`lines.${i}.qty ${l.qty} is above the limit of ${LIMITS.quantity}`, { limit: LIMITS.quantity });
    });
  }
  if (event.type === 'redeem' && event.orderTotal != null && event.orderTotal > LIMITS.orderTotal) {
    refuse(`orderTotal ${money(event.orderTotal)} is above the limit of ${money(LIMITS.orderTotal)}`, { limit: money(LIMITS.orderTotal) });
  }
}

/** Events written without an `at`: their time is taken under the member's lock (stampTime). */
const IMPLICIT_AT = new WeakSet<EngineEvent>();

/**
 * Builds the replay-format JSON of an event and validates it with the engine's
 * own parser, so the API accepts exactly what replay accepts (money strings,
 * ISO times with an offset, positive quantities). An explicit `at` may be at
 * most `maxFutureMs` ahead of now, except for a sandbox merchant (QA moves
 * its clock freely).
 */
function toEvent(scope: Scope, active: ActiveProgram, raw: Record<string, unknown>): EngineEvent {
  const checked = limits.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new DomainError('BAD_USER_INPUT', `${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const now = Date.now();
  const value = { ...raw, at: raw.at ?? formatInstant(now) };
  const parsed = parseEvent(active.program, value);
  if (parsed.error !== undefined) throw new DomainError('BAD_USER_INPUT', parsed.error);
  const event = parsed.event;
  checkAmounts(active, event);
  if (raw.at == null) IMPLICIT_AT.add(event);
  const latest = now + (scope.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
  if (!active.sandbox && event.at > latest) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `"at" ${formatInstant(event.at)} is in the future: the latest accepted now is ${formatInstant(latest)} (the server's clock plus the allowed skew); a sandbox merchant may move its clock freely`,
      { at: formatInstant(event.at), latest: formatInstant(latest) },
    );
  }
  return event;
}

/**
 * An event sent without `at` happens when the member's lock is held, and
 * never earlier than the member's last event: taking "now" before waiting
 * for the lock would date it before a write that got the lock first, and the
 * engine would refuse it as out of order.
 */
function stampTime(event: EngineEvent & { member: string }, rows: Map<string, MemberRow>): void {
  if (!IMPLICIT_AT.has(event)) return;
  event.at = Math.max(Date.now(), rows.get(event.member)?.lastEventAt.getTime() ?? 0);
}

// ---------------------------------------------------------------- persistence

export async function loadMembers(tx: Tx, merchantId: string, externalIds: string[], lock: boolean): Promise<Map<string, MemberRow>> {
  const ids = [...new Set(externalIds)];
  if (ids.length === 0) return new Map();
  const rows = lock
    ? await tx.$queryRaw<MemberRow[]>`
        SELECT id::text AS "id", external_id AS "externalId", state, version, last_event_at AS "lastEventAt", balance, tier
          FROM members WHERE merchant_id = ${merchantId}::uuid AND external_id = ANY(${ids})
         ORDER BY id FOR UPDATE`
    : await tx.$queryRaw<MemberRow[]>`
        SELECT id::text AS "id", external_id AS "externalId", state, version, last_event_at AS "lastEventAt", balance, tier
          FROM members WHERE merchant_id = ${merchantId}::uuid AND external_id = ANY(${ids})`;
  return new Map(rows.map((r) => [r.externalId, r]));
}

/** Stores changed member states (insert for a new member) and the entries; returns entry ids. */
export async function persist(
  tx: Tx,
  merchantId: string,
  active: ActiveProgram,
  at: number,
  rows: Map<string, MemberRow>,
  changed: readonly MemberState[],
  entries: readonly LedgerEntry[],
  orderRefs: ReadonlyMap<string, string>,
  eventSeq: bigint,
  correction: Correction | null = null,
): Promise<bigint[]> {
  const { program, version: programVersion } = active;
  for (const e of entries) {
    if (Math.abs(e.points) > LIMITS.points) {
      throw new DomainError('BAD_USER_INPUT', `the event would write an entry of ${e.points} points, beyond the limit of ${LIMITS.points}`, { limit: LIMITS.points });
    }
  }
  for (const state of changed) {
    const view = memberView(program, state, at);
    if (Math.abs(view.balance) > LIMITS.points) {
      throw new DomainError('BAD_USER_INPUT', `the event would bring member "${view.id}"'s balance to ${view.balance} points, beyond the limit of ${LIMITS.points}`, {
        limit: LIMITS.points,
      });
    }
    const due = nextDue(program, state);
    const cached = {
      state: state as unknown as Prisma.InputJsonValue,
      balance: view.balance,
      tier: view.tier?.name ?? null,
      nextDueAt: due === null ? null : new Date(due),
    };
    const row = rows.get(view.id);
    if (row) {
      const lastEventAt = new Date(Math.max(row.lastEventAt.getTime(), at));
      const { count } = await tx.member.updateMany({
        where: { id: row.id, version: row.version },
        data: { ...cached, lastEventAt, version: { increment: 1 } },
      });
      if (count !== 1) throw new VersionConflict(row.id);
    } else {
      const id = randomUUID();
      await tx.member.create({
        data: {
          id,
          merchantId,
          externalId: view.id,
          birthday: view.birthday ?? null,
          signupAt: new Date(view.signupAt ?? at),
          lastEventAt: new Date(at),
          ...cached,
        },
      });
      rows.set(view.id, { id, externalId: view.id, state, version: 0, lastEventAt: new Date(at), balance: BigInt(view.balance), tier: cached.tier });
    }
  }
  if (entries.length === 0) return [];
  const created = await tx.ledgerEntry.createManyAndReturn({
    data: entries.map((e) => {
      const member = rows.get(e.member);
      if (!member) throw new Error(`engine wrote an entry for member ${e.member} it was not given`);
      return {
        merchantId,
        memberId: member.id,
        at: new Date(e.at),
        kind: e.kind,
        points: e.points,
        rule: e.rule,
        ref: e.ref,
        line: e.line,
        programVersionId: programVersion.id,
        orderId: e.ref === null ? null : (orderRefs.get(e.ref) ?? null),
        eventSeq,
        ...(correction !== null && e.kind === 'adjust' ? correction : {}),
      };
    }),
    select: { id: true },
  });
  return created.map((c) => c.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface Applied {
  refusal: Refusal | null;
  program: ActiveProgram['program'];
  entryIds: bigint[];
  entries: readonly LedgerEntry[];
  rows: Map<string, MemberRow>;
  /** The first result, when the event's key was already applied. */
  replayed: WriteResult | null;
}

/**
 * The common write: lock the member (and load `also`), apply the event,
 * run `beforePersist` when it was accepted (rows the entries point at, such
 * as the order), persist, then `afterPersist`.
 */
async function applyMemberEvent(
  tx: Tx,
  scope: Scope,
  active: ActiveProgram,
  event: EngineEvent & { member: string },
  opts: {
    /** The member rows, when the caller has locked them already. */
    locked?: Map<string, MemberRow>;
    also?: string[];
    orderRefs?: Map<string, string>;
    /** The client's idempotency key: an accepted event holds it, and a retry with it gets the first result. */
    key?: string;
    /** The caller has already answered a retry of this key (recordOrder, from its order row): only store it. */
    keyChecked?: boolean;
    /** What the `adjust` entry of a correction records besides the engine's fields. */
    correction?: Correction;
    /** Accepted orders the event may name (a refund's order), as the engine recorded them. */
    orders?: Map<string, OrderRecord>;
    beforePersist?: (rows: Map<string, MemberRow>, order: OrderRecord | null) => Promise<void>;
    afterPersist?: (rows: Map<string, MemberRow>, entries: readonly LedgerEntry[], order: OrderRecord | null) => Promise<void>;
  } = {},
): Promise<Applied> {
  const rows = opts.locked ?? (await loadMembers(tx, scope.merchantId, [event.member], true));
  stampTime(event, rows);
  const bodyHash = eventBodyHash(active.program, event);
  if (opts.key !== undefined && !opts.keyChecked) {
    // Under the member's lock, a concurrent retry has committed (and is found) or not begun.
    const first = await firstResult(tx, scope.merchantId, opts.key, event, bodyHash);
    if (first) return { refusal: null, program: active.program, entryIds: first.entryIds, entries: [], rows, replayed: first };
  }
  if (opts.also?.length) {
    // Read without a lock: if the engine changes one of these (a referrer's
    // reward), the version check in persist() catches a concurrent change.
    for (const [k, v] of await loadMembers(tx, scope.merchantId, opts.also, false)) if (!rows.has(k)) rows.set(k, v);
  }
  const before = viewsBefore(active.program, rows.values());
  const outcome = applyEvent(active.program, event, {
    get: (id: string) => rows.get(id)?.state,
    // Order ids are unique per merchant by index; the caller loads the one an event names.
    order: (id: string) => opts.orders?.get(id),
  });
  if (!outcome.error) await opts.beforePersist?.(rows, outcome.order);
  const seq = await logEvent(tx, scope.merchantId, active, event, outcome.refusal, outcome.refusal ? null : (opts.key ?? null), bodyHash);
  const entryIds = await persist(
    tx,
    scope.merchantId,
    active,
    event.at,
    rows,
    outcome.changed,
    outcome.entries,
    opts.orderRefs ?? new Map(),
    seq,
    opts.correction ?? null,
  );
  if (!outcome.error) await opts.afterPersist?.(rows, outcome.entries, outcome.order);
  await recordNotifications(tx, scope.merchantId, seq, notificationsFor(active.program, { event, at: event.at, before, changed: outcome.changed, entries: outcome.entries }));
  return { refusal: outcome.refusal, program: active.program, entryIds, entries: outcome.entries, rows, replayed: null };
}

function finish(applied: Applied, memberExternalId: string): WriteResult {
  if (applied.replayed) return applied.replayed;
  if (applied.refusal) throw new EventRefusedError(applied.refusal, applied.program);
  const row = applied.rows.get(memberExternalId);
  if (!row) throw new Error('accepted event without its member row');
  const points = applied.entries.reduce((sum, e) => (e.member === memberExternalId ? sum + e.points : sum), 0);
  return { memberId: row.id, entryIds: applied.entryIds, points, replayed: false };
}

// ---------------------------------------------------------------- the event log

const keyText = z.string().min(1).max(200);

/** A client's key, checked, in the namespace of its kind of write (`refund:R-1`, `write:K`). */
function writeKey(field: string, value: string, namespace: string): string {
  const key = keyText.safeParse(value);
  if (!key.success) throw new DomainError('BAD_USER_INPUT', `${field}: ${key.error.issues[0]!.message}`);
  return `${namespace}:${key.data}`;
}

/** The optional `idempotencyKey` of redeemPoints, recordEvent, joinClub, cancelClub (and adjustPoints). */
function clientKey(input: { idempotencyKey?: string | null }): string | undefined {
  return input.idempotencyKey == null ? undefined : writeKey('idempotencyKey', input.idempotencyKey, 'write');
}

/**
 * sha256 of the event's canonical body: its replay.md line without `at`
 * (`"25.0"` and `"25.00"` are one price). The time is compared apart: a
 * retry that leaves `at` to the server matches the stored one.
 */
function eventBodyHash(program: ActiveProgram['program'], event: EngineEvent): string {
  return createHash('sha256').update(eventLine(program, event, { at: false })).digest('hex');
}

/**
 * A correction that replay.md has no event for (a birthday corrected by
 * updateMember), logged so that verify can derive the state from the log;
 * the export leaves it out.
 */
export async function logBirthdayCorrection(tx: Tx, merchantId: string, active: ActiveProgram, member: string, birthday: string | null, at: number): Promise<bigint> {
  const line = JSON.stringify({ type: 'birthday', at: formatInstant(at), member, birthday });
  const row = await tx.event.create({
    data: {
      merchantId,
      type: 'birthday',
      member,
      at: new Date(at),
      line,
      bodyHash: createHash('sha256').update(line).digest('hex'),
      programVersionId: active.version.id,
      accepted: true,
    },
    select: { seq: true },
  });
  return row.seq;
}

/** An advanceTime run's tick, in a transaction of its own (each member's step has its own). */
async function logTick(scope: Scope, active: ActiveProgram, at: number): Promise<bigint> {
  const event: EngineEvent = { type: 'tick', at };
  return inTransaction(scope.prisma, (tx) => logEvent(tx, scope.merchantId, active, event, null, null, eventBodyHash(active.program, event)));
}

/** Appends the event to the log (in the write's transaction); returns its sequence number. */
async function logEvent(
  tx: Tx,
  merchantId: string,
  active: ActiveProgram,
  event: EngineEvent,
  refusal: Refusal | null,
  key: string | null,
  bodyHash: string,
): Promise<bigint> {
  const row = await tx.event.create({
    data: {
      merchantId,
      type: event.type,
      member: 'member' in event ? event.member : null,
      at: new Date(event.at),
      line: eventLine(active.program, event),
      key,
      bodyHash,
      programVersionId: active.version.id,
      accepted: refusal === null,
      refusalCode: refusal?.code ?? null,
      refusal: refusal?.message ?? null,
    },
    select: { seq: true },
  });
  return row.seq;
}

/**
 * The first result of the accepted event that holds `key`, or null when
 * there is none. The same key with another body (or another explicit `at`)
 * is IDEMPOTENCY_CONFLICT.
 */
async function firstResult(tx: Tx, merchantId: string, key: string, event: EngineEvent, bodyHash: string): Promise<WriteResult | null> {
  const first = await tx.event.findUnique({
    where: { merchantId_key: { merchantId, key } },
    select: { seq: true, member: true, at: true, bodyHash: true },
  });
  if (!first) return null;
  if (first.bodyHash !== bodyHash || (!IMPLICIT_AT.has(event) && first.at.getTime() !== event.at)) {
    throw new DomainError('IDEMPOTENCY_CONFLICT', `the key "${key}" was already used for a write with another body`, { key });
  }
  const member = await tx.member.findUniqueOrThrow({ where: { merchantId_externalId: { merchantId, externalId: first.member! } }, select: { id: true } });
  const entries = await tx.ledgerEntry.findMany({ where: { eventSeq: first.seq }, select: { id: true, memberId: true, points: true }, orderBy: { id: 'asc' } });
  return {
    memberId: member.id,
    entryIds: entries.map((e) => e.id),
    points: entries.reduce((sum, e) => (e.memberId === member.id ? sum + Number(e.points) : sum), 0),
    replayed: true,
  };
}

// ---------------------------------------------------------------- writes

export async function signup(
  scope: Scope,
  input: { memberId: string; birthday?: string | null; referrerId?: string | null; at?: string | null },
): Promise<WriteResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, {
    type: 'signup',
    at: input.at,
    member: input.memberId,
    birthday: input.birthday,
    referrer: input.referrerId,
  }) as EngineEvent & { type: 'signup'; member: string };
  const applied = await inTransaction(scope.prisma, (tx) =>
    applyMemberEvent(tx, scope, active, event, {
      // A member signs up once: a retry gets the first result, another body is a conflict.
      key: `signup:${event.member}`,
      also: event.referrer ? [event.referrer] : [],
      afterPersist: async (rows) => {
        const referrer = event.referrer ? rows.get(event.referrer) : undefined;
        const referee = rows.get(event.member);
        if (referrer && referee) {
          await tx.referral.create({
            data: { merchantId: scope.merchantId, referrerId: referrer.id, refereeId: referee.id, createdAt: new Date(event.at) },
          });
        }
      },
    }),
  );
  return finish(applied, event.member);
}

/** The first result of an order already recorded (its earn entries), or an ORDER_ID_CONFLICT. */
async function existingOrder(
  db: Tx,
  merchantId: string,
  externalId: string,
  event: EngineEvent,
  bodyHash: string,
): Promise<OrderResult | null> {
  const order = await db.order.findUnique({
    where: { merchantId_externalId: { merchantId, externalId } },
    select: { id: true, memberId: true, bodyHash: true, at: true },
  });
  if (!order) return null;
  // Canonical bodies ("25.0" is "25.00"); a retry that leaves `at` to the server matches the stored time.
  if (order.bodyHash !== bodyHash || (!IMPLICIT_AT.has(event) && order.at.getTime() !== event.at)) {
    throw new DomainError('ORDER_ID_CONFLICT', `order "${externalId}" was already recorded with a different body`, {
      orderId: externalId,
    });
  }
  const entries = await db.ledgerEntry.findMany({
    // The entries the order wrote; later refunds' reversals are not part of its result.
    where: { orderId: order.id, kind: 'earn' },
    select: { id: true, memberId: true, points: true },
    orderBy: { id: 'asc' },
  });
  return {
    orderId: order.id,
    memberId: order.memberId,
    entryIds: entries.map((e) => e.id),
    points: entries.reduce((sum, e) => (e.memberId === order.memberId ? sum + Number(e.points) : sum), 0),
    replayed: true,
  };
}

export async function recordOrder(
  scope: Scope,
  input: { memberId: string; orderId: string; lines: OrderLineInput[]; channel?: string | null; at?: string | null },
): Promise<OrderResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, {
    type: 'order',
    at: input.at,
    member: input.memberId,
    id: input.orderId,
    lines: input.lines,
    channel: input.channel,
  }) as EngineEvent & { type: 'order'; member: string; id: string };
  const bodyHash = eventBodyHash(active.program, event);
  const orderId = randomUUID();
  const result = await inTransaction(scope.prisma, async (tx) => {
    // Lock the member first: a concurrent request for the same order has then
    // either committed (and is found here) or not started its write.
    const locked = await loadMembers(tx, scope.merchantId, [event.member], true);
    const again = await existingOrder(tx, scope.merchantId, input.orderId, event, bodyHash);
    if (again) return again;
    const referral = await tx.referral.findFirst({
      where: { merchantId: scope.merchantId, referee: { externalId: event.member } },
      select: { id: true, rewardedAt: true, referrer: { select: { externalId: true } } },
    });
    const applied = await applyMemberEvent(tx, scope, active, event, {
      locked,
      key: `order:${event.id}`,
      keyChecked: true,
      also: referral ? [referral.referrer.externalId] : [],
      orderRefs: new Map([[event.id, orderId]]),
      beforePersist: async (rows, record) => {
        const member = rows.get(event.member)!;
        await tx.order.create({
          data: {
            id: orderId,
            merchantId: scope.merchantId,
            memberId: member.id,
            externalId: event.id,
            bodyHash,
            lines: event.lines as unknown as Prisma.InputJsonValue,
            channel: event.channel ?? null,
            total: event.lines.reduce((sum, l) => sum + l.qty * l.price, 0),
            at: new Date(event.at),
            record: record as unknown as Prisma.InputJsonValue,
          },
        });
      },
      afterPersist: async (_rows, entries) => {
        if (referral && !referral.rewardedAt && entries.some((e) => e.rule === 'referral:referrer')) {
          await tx.referral.update({
            where: { id: referral.id },
            data: { rewardedAt: new Date(event.at), rewardOrderId: orderId },
          });
        }
      },
    });
    return { ...finish(applied, event.member), orderId };
  });
  return result;
}

export async function refundOrder(
  scope: Scope,
  input: { memberId: string; orderId: string; refundId: string; lines: RefundLineInput[]; at?: string | null },
): Promise<WriteResult> {
  const refundKey = writeKey('refundId', input.refundId, 'refund');
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, {
    type: 'refund',
    at: input.at,
    member: input.memberId,
    order: input.orderId,
    lines: input.lines,
  }) as EngineEvent & { type: 'refund'; member: string; order: string };
  return inTransaction(scope.prisma, async (tx) => {
    // The member, then the order, are locked before the order is read: what
    // the refund decides on (the order's record of what is still refundable)
    // is read under the locks, so concurrent refunds of one order apply one
    // after another, each seeing the ones before it.
    const locked = await loadMembers(tx, scope.merchantId, [event.member], true);
    const [order] = await tx.$queryRaw<{ id: string; refunds: Prisma.JsonValue; record: Prisma.JsonValue | null }[]>`
      SELECT id::text AS "id", refunds, record FROM orders
       WHERE merchant_id = ${scope.merchantId}::uuid AND external_id = ${event.order} FOR UPDATE`;
    const record = (order?.record ?? undefined) as OrderRecord | undefined;
    const applied = await applyMemberEvent(tx, scope, active, event, {
      locked,
      key: refundKey,
      orderRefs: order ? new Map([[event.order, order.id]]) : new Map(),
      orders: record ? new Map([[event.order, record]]) : new Map(),
      afterPersist: async (_rows, _entries, changed) => {
        if (!order) throw new Error('engine accepted a refund of an unknown order');
        const refunds = [...(order.refunds as Prisma.JsonArray), { at: formatInstant(event.at), lines: event.lines }];
        await tx.order.update({
          where: { id: order.id },
          data: {
            refunds: refunds as Prisma.InputJsonValue,
            ...(changed ? { record: changed as unknown as Prisma.InputJsonValue } : {}),
          },
        });
      },
    });
    return finish(applied, event.member);
  });
}

export async function redeemPoints(
  scope: Scope,
  input: { memberId: string; points: number; orderTotal?: string | null; idempotencyKey?: string | null; at?: string | null },
): Promise<WriteResult> {
  return simpleWrite(scope, input, {
    type: 'redeem',
    at: input.at,
    member: input.memberId,
    points: input.points,
    order_total: input.orderTotal,
  });
}

/** A write that is only its event: no rows of its own beside the log, the ledger and the state. */
async function simpleWrite(scope: Scope, input: { idempotencyKey?: string | null }, raw: Record<string, unknown>): Promise<WriteResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, raw) as EngineEvent & { member: string };
  const applied = await inTransaction(scope.prisma, (tx) => applyMemberEvent(tx, scope, active, event, { key: clientKey(input) }));
  return finish(applied, event.member);
}

/** Redeems a catalog reward (dsl.md 4.10): a `redeem_reward` event, logged like every write. */
export async function redeemReward(
  scope: Scope,
  input: { memberId: string; reward: string; idempotencyKey?: string | null; at?: string | null },
): Promise<WriteResult> {
  return simpleWrite(scope, input, { type: 'redeem_reward', at: input.at, member: input.memberId, reward: input.reward });
}

export async function joinClub(
  scope: Scope,
  input: { memberId: string; club: string; idempotencyKey?: string | null; at?: string | null },
): Promise<WriteResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, { type: 'join_club', at: input.at, member: input.memberId, club: input.club }) as
    EngineEvent & { type: 'join_club'; member: string; club: string };
  const applied = await inTransaction(scope.prisma, (tx) =>
    applyMemberEvent(tx, scope, active, event, {
      key: clientKey(input),
      afterPersist: async (rows) => {
        const row = rows.get(event.member)!;
        const view = memberView(active.program, row.state, event.at);
        const club = view.clubs.find((c) => c.name === event.club);
        await tx.clubMembership.create({
          data: {
            memberId: row.id,
            club: event.club,
            since: new Date(club?.since ?? event.at),
            until: club?.until == null ? null : new Date(club.until),
          },
        });
      },
    }),
  );
  return finish(applied, event.member);
}

export async function cancelClub(
  scope: Scope,
  input: { memberId: string; club: string; idempotencyKey?: string | null; at?: string | null },
): Promise<WriteResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, { type: 'cancel_club', at: input.at, member: input.memberId, club: input.club }) as
    EngineEvent & { type: 'cancel_club'; member: string; club: string };
  const applied = await inTransaction(scope.prisma, (tx) =>
    applyMemberEvent(tx, scope, active, event, {
      key: clientKey(input),
      afterPersist: async (rows) => {
        const at = new Date(event.at);
        await tx.clubMembership.updateMany({
          where: {
            memberId: rows.get(event.member)!.id,
            club: event.club,
            since: { lte: at },
            OR: [{ until: null }, { until: { gt: at } }],
          },
          data: { until: at, cancelledAt: at },
        });
      },
    }),
  );
  return finish(applied, event.member);
}

export async function recordEvent(
  scope: Scope,
  input: { memberId: string; name: string; idempotencyKey?: string | null; at?: string | null },
): Promise<WriteResult> {
  return simpleWrite(scope, input, { type: 'event', at: input.at, member: input.memberId, name: input.name });
}

// ---------------------------------------------------------------- corrections

/** Stored with the `adjust` entry of adjustPoints. */
interface Correction {
  reason: string;
  actor: string;
}

const reasonText = z.string().trim().min(1, 'give the reason for the correction').max(500);

/**
 * A staff correction (dsl.md 4.12): one `adjust` entry of `points` (either
 * sign; it may take the balance below zero), never refused for a known
 * member. Applied at most once per `idempotencyKey`: the same key with the
 * same body returns the first result, another body is IDEMPOTENCY_CONFLICT.
 */
export async function adjustPoints(
  scope: Scope,
  actor: AuditActor,
  input: { memberId: string; points: number; reason: string; idempotencyKey: string; at?: string | null },
): Promise<WriteResult> {
  const reason = reasonText.safeParse(input.reason);
  if (!reason.success) throw new DomainError('BAD_USER_INPUT', `reason: ${reason.error.issues[0]!.message}`);
  const key = writeKey('idempotencyKey', input.idempotencyKey, 'write');
  if (Math.abs(input.points) > LIMITS.points) {
    throw new DomainError('BAD_USER_INPUT', `points ${input.points} is beyond the limit of ${LIMITS.points}`, { limit: LIMITS.points });
  }
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent(scope, active, {
    type: 'adjust',
    at: input.at,
    member: input.memberId,
    points: input.points,
    reason: reason.data,
  }) as EngineEvent & { type: 'adjust'; member: string };
  return inTransaction(scope.prisma, async (tx) => {
    const applied = await applyMemberEvent(tx, scope, active, event, {
      key,
      correction: { reason: reason.data, actor: actorLabel(actor) ?? 'unknown' },
    });
    const result = finish(applied, event.member);
    if (!result.replayed) {
      await recordAudit(tx, actor, 'adjustPoints', event.member, { points: event.points, reason: reason.data, idempotencyKey: input.idempotencyKey }, scope.merchantId);
    }
    return result;
  });
}

// ---------------------------------------------------------------- dry run

export async function quoteOrder(
  scope: Scope,
  input: { memberId: string; lines: OrderLineInput[]; channel?: string | null; at?: string | null },
): Promise<Quote & { currency: string; exponent: number }> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const event = toEvent({ ...scope, maxFutureMs: Infinity }, active, {
    type: 'order',
    at: input.at,
    member: input.memberId,
    id: 'quote',
    lines: input.lines,
    channel: input.channel,
  }) as EngineEvent & { type: 'order' };
  const member = await scope.prisma.member.findUnique({
    where: { merchantId_externalId: { merchantId: scope.merchantId, externalId: input.memberId } },
    select: { state: true },
  });
  if (!member) throw new DomainError('NOT_FOUND', `unknown member "${input.memberId}"`);
  const result = quote(active.program, member.state as unknown as MemberState, {
    at: event.at,
    lines: event.lines,
    channel: event.channel ?? null,
  });
  return { ...result, currency: active.program.currency, exponent: active.program.currencyExponent };
}

// ---------------------------------------------------------------- time

/** A member advanceTime could not bring up to date; its transaction rolled back and the next run tries again. */
export interface AdvanceFailure {
  memberId: string;
  message: string;
}

export interface AdvanceResult {
  at: number;
  /** Members whose balance or tier changed, or that were written entries. */
  members: number;
  entries: number;
  /** At most MAX_REPORTED_FAILURES of them; `failed` counts all. */
  failures: AdvanceFailure[];
  failed: number;
}

const MAX_REPORTED_FAILURES = 100;

/**
 * Applies what falls due up to `at` (expiry, birthdays, tier reviews) to
 * every member it is due for, each member in its own transaction: a member
 * that fails (a state the engine cannot read, a database error) is reported
 * to `onFailure` and in the result, keeps its due time so that the next run
 * tries it again, and the members after it go on.
 */
export async function advanceTime(
  scope: Scope,
  when: string | null,
  onFailure: (memberId: string, error: unknown) => void = () => {},
  /** Who asked, for the audit log (an admin request; the server's own runs are not recorded). */
  actor?: AuditActor,
): Promise<AdvanceResult> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const { at } = toEvent(scope, active, { type: 'tick', at: when ?? undefined });
  let members = 0;
  let entries = 0;
  let failed = 0;
  const failures: AdvanceFailure[] = [];
  let after: string | undefined;
  let tick: bigint | undefined;
  for (;;) {
    const due = await scope.prisma.member.findMany({
      where: { merchantId: scope.merchantId, nextDueAt: { lte: new Date(at) }, ...(after ? { id: { gt: after } } : {}) },
      select: { id: true, externalId: true },
      orderBy: { id: 'asc' },
      take: 500,
    });
    if (due.length === 0) break;
    // The run is one tick in the log, written once some member is due: the
    // members' entries name it, and replaying the log brings them forward too.
    tick ??= await logTick(scope, active, at);
    after = due[due.length - 1]!.id;
    for (const { externalId } of due) {
      try {
        const step = await inTransaction(scope.prisma, async (tx) => {
          const rows = await loadMembers(tx, scope.merchantId, [externalId], true);
          const row = rows.get(externalId);
          if (!row) return { entries: 0, changed: false };
          const before = viewsBefore(active.program, [row]);
          const written = advance(active.program, row.state, at);
          const view = memberView(active.program, row.state, at);
          await persist(tx, scope.merchantId, active, at, rows, [row.state], written, new Map(), tick!);
          await recordNotifications(tx, scope.merchantId, tick!, notificationsFor(active.program, { event: null, at, before, changed: [row.state], entries: written }));
          return { entries: written.length, changed: written.length > 0 || BigInt(view.balance) !== row.balance || (view.tier?.name ?? null) !== row.tier };
        });
        entries += step.entries;
        if (step.changed) members++;
      } catch (error) {
        failed++;
        if (failures.length < MAX_REPORTED_FAILURES) {
          failures.push({ memberId: externalId, message: error instanceof Error ? error.message : String(error) });
        }
        onFailure(externalId, error);
      }
    }
  }
  // Reminders of what falls due soon (points.expiring, club.ending), after what fell due now.
  await recordReminders(scope.prisma, scope.merchantId, active.program, at, tick ?? null);
  // A summary of the run: each member's changes committed on their own.
  if (actor) await recordAudit(scope.prisma, actor, 'advanceTime', null, { at: formatInstant(at), members, entries, failed }, scope.merchantId);
  return { at, members, entries, failures, failed };
}
