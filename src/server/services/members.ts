// Member writes and dry runs. Each write is one transaction (inTransaction):
// lock the member row, load the engine state (and the referrer's, for
// orders), apply the engine, write the ledger entries, store the new states
// with a version check, and mirror what the API reads (orders, clubs,
// referrals). Refused events still store what the engine moved forward
// (entries that fell due before the event), then report the refusal.
import { createHash, randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '@prisma/client';
import pg from 'pg';
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
  upgradeOrder,
  upgradeState,
  vestingsOf,
} from '../engine.ts';
import { actorLabel, recordAudit, type AuditActor } from './audit.ts';
import type { KeyToVerify } from './auth.ts';
import { DomainError, EventRefusedError } from './errors.ts';
import { notificationsFor, recordNotifications, recordReminders, viewsBefore } from './notifications.ts';
import { activeProgramOf, lastActiveProgram, requireActiveProgram, type ActiveProgram } from './programs.ts';
import { MemberCache } from './member-cache.ts';
import { inSqlTransaction, inTransaction, prismaSql, retrying, SqlTransaction, VersionConflict, type Sql, type Tx } from './transaction.ts';
import { batchEntry, batchEvent, batchNotification, batchOrder, ENTRY_COLUMNS, EVENT_COLUMNS, NOTIFICATION_COLUMNS, ORDER_COLUMNS, updateMembers, writeBatch, writeRows, type BatchRows, type EntryRow, type MemberInsert, type MemberUpdate, type OrderRow, type Query, type WriteRows } from './write.ts';
import { ColumnRows } from '../db/binary-arrays.ts';
import { poolOf } from '../db/index.ts';

export interface Scope {
  prisma: PrismaClient;
  merchantId: string;
  /** How far ahead of now a write's `at` may be (default DEFAULT_MAX_FUTURE_MS); a sandbox merchant has no limit. */
  maxFutureMs?: number;
  /** An API key not checked yet that recordOrder verifies in its lock statement (the others ignore it: their keys were checked). */
  apiKey?: KeyToVerify | null;
  /**
   * false: the writes record no notifications (so no webhook deliveries and
   * no reminders), as an import of a history a migration brings asks
   * (POST /events.jsonl?notifications=false). Default true.
   */
  notify?: boolean;
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

/**
 * Whether PostgreSQL can store the text as given: U+0000 is in no text or
 * jsonb value, and a lone surrogate (which JSON can write, "\ud800") is not
 * Unicode. Such a value used to fail the write's statement as a database
 * error, and one such line failed a whole import.
 */
const storable = (s: string) => !s.includes('\u0000') && s.isWellFormed();
/** A string the API stores, checked as `storable`. */
const storedText = () => z.string().refine(storable, 'contains U+0000 or a lone surrogate: text must be valid Unicode without NUL characters');
const name = storedText().min(1).max(200);
/** Size limits the engine does not impose; its parser checks everything else. */
const limits = z.looseObject({
  member: name.optional(),
  id: name.optional(),
  order: name.optional(),
  referrer: name.nullish(),
  club: name.optional(),
  name: name.optional(),
  reward: name.optional(),
  channel: storedText().max(100).nullish(),
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
  // A write that locks a member will change its row: the cache's copy would only fail recordOrder's next write.
  if (lock) for (const id of ids) memberCache.take(merchantId, id);
  const rows = lock
    ? await tx.$queryRaw<MemberRow[]>`
        SELECT id::text AS "id", external_id AS "externalId", state, version, last_event_at AS "lastEventAt", balance, tier
          FROM members WHERE merchant_id = ${merchantId}::uuid AND external_id = ANY(${ids})
         ORDER BY id FOR UPDATE`
    : await tx.$queryRaw<MemberRow[]>`
        SELECT id::text AS "id", external_id AS "externalId", state, version, last_event_at AS "lastEventAt", balance, tier
          FROM members WHERE merchant_id = ${merchantId}::uuid AND external_id = ANY(${ids})`;
  // A state stored by an older engine reads as the current version (state.ts).
  for (const r of rows) r.state = upgradeState(r.state) as typeof r.state;
  return new Map(rows.map((r) => [r.externalId, r]));
}

/** The rows a write stores: changed members (updates over the version read, inserts for new ones) and its entries. */
interface Staged {
  updates: MemberUpdate[];
  inserts: MemberInsert[];
  entries: EntryRow[];
}

/**
 * Checks the limits on what the engine wrote and turns it into rows; a new
 * member gets its id here and a row in `rows` (version 0).
 */
function stage(
  active: ActiveProgram,
  at: number,
  rows: Map<string, MemberRow>,
  changed: readonly MemberState[],
  entries: readonly LedgerEntry[],
  orderRefs: ReadonlyMap<string, string>,
  correction: Correction | null,
): Staged {
  const { program } = active;
  checkLimits(changed, entries);
  const staged: Staged = { updates: [], inserts: [], entries: [] };
  for (const state of changed) {
    const view = memberView(program, state, at);
    const nextDueAt = nextDue(program, state);
    const tier = view.tier?.name ?? null;
    const row = rows.get(view.id);
    if (row) {
      staged.updates.push({ id: row.id, version: row.version, state, balance: view.balance, tier, nextDueAt, lastEventAt: Math.max(row.lastEventAt.getTime(), at) });
    } else {
      const id = randomUUID();
      staged.inserts.push({ id, externalId: view.id, birthday: view.birthday ?? null, signupAt: view.signupAt ?? at, lastEventAt: at, state, balance: view.balance, tier, nextDueAt });
      rows.set(view.id, { id, externalId: view.id, state, version: 0, lastEventAt: new Date(at), balance: BigInt(view.balance), tier });
    }
  }
  staged.entries = entryRows(rows, entries, orderRefs, correction);
  return staged;
}

/** The limits on what the engine wrote: each entry's points and each changed member's balance. */
function checkLimits(changed: readonly MemberState[], entries: readonly LedgerEntry[]): void {
  for (const e of entries) {
    if (Math.abs(e.points) > LIMITS.points) {
      throw new DomainError('BAD_USER_INPUT', `the event would write an entry of ${e.points} points, beyond the limit of ${LIMITS.points}`, { limit: LIMITS.points });
    }
  }
  for (const state of changed) {
    // The balance memberView reports (state.ts keeps it current on every event).
    if (Math.abs(state.balance) > LIMITS.points) {
      throw new DomainError('BAD_USER_INPUT', `the event would bring member "${state.id}"'s balance to ${state.balance} points, beyond the limit of ${LIMITS.points}`, {
        limit: LIMITS.points,
      });
    }
  }
}

/** The entries as rows, for members `rows` holds (a new member's row made by stage or stageImport). */
function entryRows(rows: ReadonlyMap<string, MemberRow>, entries: readonly LedgerEntry[], orderRefs: Pick<ReadonlyMap<string, string>, 'get'>, correction: Correction | null): EntryRow[] {
  return entries.map((e) => {
    const member = rows.get(e.member);
    if (!member) throw new Error(`engine wrote an entry for member ${e.member} it was not given`);
    const corrected = correction !== null && e.kind === 'adjust';
    return {
      memberId: member.id,
      at: e.at,
      kind: e.kind,
      points: e.points,
      rule: e.rule,
      ref: e.ref,
      line: e.line,
      reason: corrected ? correction.reason : null,
      actor: corrected ? correction.actor : null,
      orderId: e.ref === null ? null : (orderRefs.get(e.ref) ?? null),
    };
  });
}

/**
 * stage() for importBatch, which stores each member's row once at the end
 * of the batch: the limits, a row (and id) for each new member, returned by
 * external id, and the entries. No member view per event (stage() builds one
 * per changed member for the update it stages; the import would drop it).
 */
function stageImport(
  at: number,
  rows: Map<string, MemberRow>,
  changed: readonly MemberState[],
  entries: readonly LedgerEntry[],
  orderRefs: Pick<ReadonlyMap<string, string>, 'get'>,
  correction: Correction | null,
): { created: string[]; entries: EntryRow[] } {
  checkLimits(changed, entries);
  const created: string[] = [];
  for (const state of changed) {
    if (rows.has(state.id)) continue;
    rows.set(state.id, { id: randomUUID(), externalId: state.id, state, version: 0, lastEventAt: new Date(at), balance: BigInt(state.balance), tier: state.tier });
    created.push(state.id);
  }
  return { created, entries: entryRows(rows, entries, orderRefs, correction) };
}

/** Stores changed member states (insert for a new member) and the entries, for an event logged already; returns entry ids. */
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
  const staged = stage(active, at, rows, changed, entries, await withVestedOrders(tx, merchantId, entries, orderRefs), correction);
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  for (const u of staged.updates) {
    const { count } = await tx.member.updateMany({
      where: { id: u.id, version: u.version },
      data: {
        state: u.state as Prisma.InputJsonValue,
        balance: u.balance,
        tier: u.tier,
        nextDueAt: date(u.nextDueAt),
        lastEventAt: new Date(u.lastEventAt),
        version: { increment: 1 },
      },
    });
    if (count !== 1) throw new VersionConflict(u.id);
  }
  for (const n of staged.inserts) {
    await tx.member.create({
      data: {
        id: n.id,
        merchantId,
        externalId: n.externalId,
        birthday: n.birthday,
        signupAt: new Date(n.signupAt),
        lastEventAt: new Date(n.lastEventAt),
        state: n.state as Prisma.InputJsonValue,
        balance: n.balance,
        tier: n.tier,
        nextDueAt: date(n.nextDueAt),
      },
    });
  }
  if (staged.entries.length === 0) return [];
  const created = await tx.ledgerEntry.createManyAndReturn({
    data: staged.entries.map((e) => ({ ...e, merchantId, at: new Date(e.at), kind: e.kind as LedgerEntry['kind'], programVersionId: active.version.id, eventSeq })),
    select: { id: true },
  });
  return created.map((c) => c.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Entries that name an order the caller did not load (pending points
 * vesting, dsl.md 4.9: written when the member is brought forward by any
 * later write or advanceTime) are linked to that order's row too. */
/** The orders row of an accepted order event, for the single write and the import batch. */
function orderRow(id: string, memberId: string, event: Extract<EngineEvent, { type: 'order' }>, bodyHash: string, record: OrderRow['record']): OrderRow {
  return { id, memberId, externalId: event.id, bodyHash, lines: event.lines, channel: event.channel ?? null, total: event.lines.reduce((sum, l) => sum + l.qty * l.price, 0), at: event.at, record };
}

/** Whether an order rewarded its referee's referrer: an entry now, or (with
 * pending points, dsl.md 4.9) a reward scheduled to vest in the referrer's state. */
function rewardsReferrer(orderId: string, changed: readonly MemberState[], entries: readonly LedgerEntry[]): boolean {
  return entries.some((e) => e.rule === 'referral:referrer') || changed.some((s) => vestingsOf(s).some((v) => v.seq === 0 && v.order === orderId));
}

async function withVestedOrders(tx: Tx, merchantId: string, entries: readonly LedgerEntry[], orderRefs: ReadonlyMap<string, string>): Promise<ReadonlyMap<string, string>> {
  const missing = new Set<string>();
  for (const e of entries) if (e.ref !== null && !orderRefs.has(e.ref)) missing.add(e.ref);
  if (missing.size === 0) return orderRefs;
  const found = await tx.order.findMany({ where: { merchantId, externalId: { in: [...missing] } }, select: { id: true, externalId: true } });
  const refs = new Map(orderRefs);
  for (const o of found) refs.set(o.externalId, o.id);
  return refs;
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

/** What differs between the writes that apply one member event (applyMemberEvent, recordOrder). */
interface EventOptions {
  orderRefs?: Map<string, string>;
  /** The client's idempotency key: an accepted event holds it, and a retry with it gets the first result. */
  key?: string;
  /** What the `adjust` entry of a correction records besides the engine's fields. */
  correction?: Correction;
  /** Accepted orders the event may name (a refund's order), as the engine recorded them. */
  orders?: Map<string, OrderRecord>;
  /** The order row an accepted event records (recordOrder), written with the event. */
  order?: (rows: Map<string, MemberRow>, record: OrderRecord | null) => OrderRow;
}

/**
 * Applies the event to the loaded rows (no I/O): the engine's outcome and
 * everything the write statement stores for it (write.ts), the event, the
 * order, the states, the entries and the outbox; `unchanged`: a refusal that
 * changed nothing (changedNothing, with the member's clock read before the
 * engine moved it: the engine changes the rows' states in place).
 */
function evaluate(
  scope: Scope,
  active: ActiveProgram,
  event: EngineEvent & { member: string },
  bodyHash: string,
  rows: Map<string, MemberRow>,
  opts: EventOptions,
): { outcome: ReturnType<typeof applyEvent>; write: WriteRows; unchanged: boolean } {
  const before = scope.notify === false ? null : viewsBefore(active.program, rows.values());
  const clock = rows.get(event.member)?.state.at;
  const outcome = applyEvent(active.program, event, {
    get: (id: string) => rows.get(id)?.state,
    // Order ids are unique per merchant by index; the caller loads the one an event names.
    order: (id: string) => opts.orders?.get(id),
  });
  const order = outcome.error ? null : (opts.order?.(rows, outcome.order) ?? null);
  const staged = stage(active, event.at, rows, outcome.changed, outcome.entries, opts.orderRefs ?? new Map(), opts.correction ?? null);
  const notifications = before === null ? [] : notificationsFor(active.program, { event, at: event.at, before, changed: outcome.changed, entries: outcome.entries });
  const write: WriteRows = {
    merchantId: scope.merchantId,
    event: {
      type: event.type,
      member: event.member,
      at: event.at,
      line: eventLine(active.program, event),
      key: outcome.refusal ? null : (opts.key ?? null),
      bodyHash,
      programVersionId: active.version.id,
      refusalCode: outcome.refusal?.code ?? null,
      refusal: outcome.refusal?.message ?? null,
    },
    order,
    ...staged,
    notifications,
    rewarded: [],
  };
  return { outcome, write, unchanged: changedNothing(outcome, clock, event.at) };
}

// ---------------------------------------------------------------- repeated refusals

/**
 * Whether a refused event changed nothing: no entry, and no member brought
 * forward (refused before the engine touched one, as an out-of-order event
 * or one for an unknown member, or the member's clock, `clock` before the
 * event, already at its time). Such a refusal that repeats one the log holds
 * (a re-sent import, a retry with the same `at` and body) is not logged
 * again: nothing moved, so the log still replays to what is stored.
 */
function changedNothing(outcome: { refusal: Refusal | null; entries: readonly unknown[]; changed: readonly unknown[] }, clock: number | undefined, at: number): boolean {
  return outcome.refusal !== null && outcome.entries.length === 0 && (outcome.changed.length === 0 || (clock !== undefined && clock >= at));
}

// `NOT accepted` as a literal: the partial index on refused events (migration refused_events_index) holds only those.
const REFUSED_BEFORE_SQL = `SELECT 1 AS found FROM events
 WHERE merchant_id = $1::uuid AND member = $2 AND at = $3::timestamptz AND body_hash = $4 AND NOT accepted LIMIT 1`;

/** Whether the log holds the event (member, time, body) as refused. */
async function refusedBefore(sql: Sql, merchantId: string, event: EngineEvent & { member: string }, bodyHash: string): Promise<boolean> {
  return (await sql.query(REFUSED_BEFORE_SQL, [merchantId, event.member, new Date(event.at).toISOString(), bodyHash])).length > 0;
}

/** A refused event's identity among the refused events a batch knows of. */
const refusalId = (member: string, at: number, bodyHash: string) => `${member}\u0000${at}\u0000${bodyHash}`;

/**
 * The common write: lock the member (and load `also`), apply the event,
 * then write the event, the order (`order`, when it was accepted), the
 * states, the entries and the notifications in one statement, then
 * `afterPersist`.
 */
async function applyMemberEvent(
  tx: Tx,
  scope: Scope,
  active: ActiveProgram,
  event: EngineEvent & { member: string },
  opts: EventOptions & {
    /** The member rows, when the caller has locked them already. */
    locked?: Map<string, MemberRow>;
    also?: string[];
    afterPersist?: (rows: Map<string, MemberRow>, entries: readonly LedgerEntry[], order: OrderRecord | null) => Promise<void>;
  } = {},
): Promise<Applied> {
  const rows = opts.locked ?? (await loadMembers(tx, scope.merchantId, [event.member], true));
  stampTime(event, rows);
  const bodyHash = eventBodyHash(active.program, event);
  if (opts.key !== undefined) {
    // Under the member's lock, a concurrent retry has committed (and is found) or not begun.
    const first = await firstResult(tx, scope.merchantId, opts.key, event, bodyHash);
    if (first) return { refusal: null, program: active.program, entryIds: first.entryIds, entries: [], rows, replayed: first };
  }
  if (opts.also?.length) {
    // Read without a lock: if the engine changes one of these (a referrer's
    // reward), the write statement's version check catches a concurrent change.
    for (const [k, v] of await loadMembers(tx, scope.merchantId, opts.also, false)) if (!rows.has(k)) rows.set(k, v);
  }
  const { outcome, write, unchanged } = evaluate(scope, active, event, bodyHash, rows, opts);
  if (unchanged && (await refusedBefore(prismaSql(tx), scope.merchantId, event, bodyHash))) {
    return { refusal: outcome.refusal, program: active.program, entryIds: [], entries: [], rows, replayed: null };
  }
  const written = await writeRows(prismaSql(tx), write);
  if (!outcome.error) await opts.afterPersist?.(rows, outcome.entries, outcome.order);
  return { refusal: outcome.refusal, program: active.program, entryIds: written.entryIds, entries: outcome.entries, rows, replayed: null };
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

const keyText = storedText().min(1).max(200);

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

/** An order row as the lock statement finds it. */
interface FoundOrder {
  id: string;
  memberId: string;
  bodyHash: string;
  at: string;
}

/** The first result of an order already recorded (its earn entries), or an IDEMPOTENCY_CONFLICT (its id with another body). */
async function existingOrder(sql: Sql, externalId: string, order: FoundOrder, event: EngineEvent, bodyHash: string): Promise<OrderResult> {
  // Canonical bodies ("25.0" is "25.00"); a retry that leaves `at` to the server matches the stored time.
  if (order.bodyHash !== bodyHash || (!IMPLICIT_AT.has(event) && Date.parse(order.at) !== event.at)) {
    throw new DomainError('IDEMPOTENCY_CONFLICT', `order "${externalId}" was already recorded with a different body`, {
      orderId: externalId,
    });
  }
  // The entries the order wrote, dated at the order: later refunds' reversals
  // and its pending points, written when they vest, are not part of its result.
  const entries = await sql.query<{ id: string; memberId: string; points: string }>(
    `SELECT id::text AS "id", member_id::text AS "memberId", points::text AS "points" FROM ledger_entries
      WHERE order_id = $1::uuid AND kind = 'earn' AND at = $2::timestamptz ORDER BY id`,
    [order.id, order.at],
    { commit: true },
  );
  return {
    orderId: order.id,
    memberId: order.memberId,
    entryIds: entries.map((e) => BigInt(e.id)),
    points: entries.reduce((sum, e) => (e.memberId === order.memberId ? sum + Number(e.points) : sum), 0),
    replayed: true,
  };
}

/** What recordOrder decides on, read by its first statement. */
interface OrderContext {
  /** The merchant's active program version (null: none) and whether it is a sandbox. */
  versionId: string | null;
  sandbox: boolean;
  member: MemberRow | null;
  /** The order, when its id was recorded already. */
  order: FoundOrder | null;
  /** The member's referral and the referrer's row (read without a lock; persist's version check covers it). */
  referral: { id: string; rewardedAt: string | null; referrer: MemberRow } | null;
  /** The member row changed after the statement's snapshot was taken (it waited for the lock). */
  stale: boolean;
  /** The key row of the API key given to verify: valid, revoked, or not there (null: none given). */
  apiKey: 'valid' | 'revoked' | 'unknown' | null;
}

type MemberJson = Omit<MemberRow, 'lastEventAt' | 'balance'> & { lastEventAt: string; balance: string };

const memberRow = (m: MemberJson): MemberRow => ({ ...m, lastEventAt: new Date(m.lastEventAt), balance: BigInt(m.balance) });

const MEMBER_JSON = (t: string) =>
  `json_build_object('id', ${t}.id::text, 'externalId', ${t}.external_id, 'state', ${t}.state, 'version', ${t}.version, 'lastEventAt', ${t}.last_event_at, 'balance', ${t}.balance::text, 'tier', ${t}.tier)`;

/**
 * recordOrder's first statement: lock the member and read, beside it, the
 * active program version (so that a publish by any process is seen by the
 * next write), an order already recorded with this id, and the member's
 * referral with the referrer's row, and the request's API key row when
 * the HTTP layer left its check to this statement ($4; null: none). One
 * round trip instead of five.
 */
const ORDER_CONTEXT_SQL = `
WITH locked AS (
  SELECT * FROM members WHERE merchant_id = $1::uuid AND external_id = $2 FOR UPDATE
)
SELECT v.id::text AS "versionId", mc.sandbox,
       (SELECT ${MEMBER_JSON('l')} FROM locked l) AS member,
       (SELECT s.version FROM members s JOIN locked l ON l.id = s.id) AS "snapshotVersion",
       (SELECT json_build_object('id', o.id::text, 'memberId', o.member_id::text, 'bodyHash', o.body_hash, 'at', o.at)
          FROM orders o WHERE o.merchant_id = $1::uuid AND o.external_id = $3) AS "order",
       (SELECT json_build_object('id', r.id::text, 'rewardedAt', r.rewarded_at, 'referrer', ${MEMBER_JSON('rm')})
          FROM locked l JOIN referrals r ON r.referee_id = l.id JOIN members rm ON rm.id = r.referrer_id) AS referral,
       CASE WHEN $4::uuid IS NOT NULL THEN
         coalesce((SELECT CASE WHEN k.revoked_at IS NULL THEN 'valid' ELSE 'revoked' END FROM api_keys k WHERE k.id = $4::uuid AND k.merchant_id = mc.id), 'unknown')
       END AS "apiKey"
  FROM merchants mc LEFT JOIN program_versions v ON v.merchant_id = mc.id AND v.active
 WHERE mc.id = $1::uuid`;

async function orderContext(sql: Sql, merchantId: string, member: string, orderId: string, apiKeyId: string | null): Promise<OrderContext> {
  const [row] = await sql.query<{
    versionId: string | null;
    sandbox: boolean;
    member: MemberJson | null;
    snapshotVersion: number | null;
    order: FoundOrder | null;
    referral: { id: string; rewardedAt: string | null; referrer: MemberJson } | null;
    apiKey: 'valid' | 'revoked' | 'unknown' | null;
  }>(ORDER_CONTEXT_SQL, [merchantId, member, orderId, apiKeyId]);
  if (!row) throw new DomainError('NOT_FOUND', 'unknown merchant');
  return {
    versionId: row.versionId,
    sandbox: row.sandbox,
    member: row.member && memberRow(row.member),
    order: row.order,
    referral: row.referral && { ...row.referral, referrer: memberRow(row.referral.referrer) },
    stale: row.member !== null && row.member.version !== row.snapshotVersion,
    apiKey: row.apiKey,
  };
}

/** Members whose last order this process wrote (member-cache.ts): their next order is one round trip. */
export const memberCache = new MemberCache();

/** The member's row after `write`, for the cache: its update (version one up), when the write stored the member. */
function rowAfter(write: WriteRows, row: MemberRow): MemberRow | null {
  const u = write.updates.find((x) => x.id === row.id);
  if (!u) return null;
  return { id: row.id, externalId: row.externalId, state: u.state as MemberState, version: u.version + 1, lastEventAt: new Date(u.lastEventAt), balance: BigInt(u.balance), tier: u.tier };
}

type OrderEvent = EngineEvent & { type: 'order'; member: string; id: string };

/** recordOrder's evaluation, on either path: the order's rows under the id `orderId`. */
function evaluateOrder(scope: Scope, active: ActiveProgram, event: OrderEvent, bodyHash: string, rows: Map<string, MemberRow>, orderId: string): ReturnType<typeof evaluate> {
  return evaluate(scope, active, event, bodyHash, rows, {
    key: `order:${event.id}`,
    orderRefs: new Map([[event.id, orderId]]),
    order: (rows, record) => orderRow(orderId, rows.get(event.member)!.id, event, bodyHash, record),
  });
}

/** recordOrder's answer once its write committed, called after the row is cached (finish() throws a refusal: the refused order moved the member's clock). */
function orderAnswer(active: ActiveProgram, outcome: ReturnType<typeof evaluate>['outcome'], entryIds: bigint[], rows: Map<string, MemberRow>, member: string, orderId: string): () => OrderResult {
  const applied: Applied = { refusal: outcome.refusal, program: active.program, entryIds, entries: outcome.entries, rows, replayed: null };
  return () => ({ ...finish(applied, member), orderId });
}

/**
 * The order for a member row of the cache, in one round trip: BEGIN, the
 * write statement and COMMIT sent together, the statement checking the
 * row's version, the program version and the API key itself (write.ts
 * CACHED_SQL). Null when it cannot go this way, nothing written: the
 * member's first order with a referrer (the referral may apply, and the
 * referrer's row is not at hand), an event the engine applied to anyone
 * else, or a statement that failed (the row changed since, the order id is
 * recorded already, the key was revoked, ...). The caller then writes the
 * order the usual way, which answers every one of those cases.
 */
async function cachedOrder(scope: Scope, active: ActiveProgram, event: OrderEvent, row: MemberRow): Promise<{ result: () => OrderResult; row: MemberRow | null } | null> {
  if (row.state.referrer !== null && row.state.orders === 0) return null;
  const orderId = randomUUID();
  const rows = new Map([[row.externalId, row]]);
  stampTime(event, rows);
  let evaluated: ReturnType<typeof evaluate>;
  let bodyHash: string;
  try {
    bodyHash = eventBodyHash(active.program, event);
    evaluated = evaluateOrder(scope, active, event, bodyHash, rows, orderId);
  } catch {
    return null;
  }
  const { outcome, write, unchanged } = evaluated;
  if (outcome.changed.some((s) => s.id !== event.member) || outcome.entries.some((e) => e.member !== event.member)) return null;
  // A refusal that changed nothing may repeat one the log holds: the usual way looks.
  if (unchanged) return null;
  const client = await poolOf(scope.prisma).connect();
  const tx = new SqlTransaction(client);
  let written: Awaited<ReturnType<typeof writeRows>>;
  try {
    written = await writeRows(tx, write, { commit: true, cached: { sandbox: active.sandbox, apiKeyId: scope.apiKey?.keyId ?? null } });
  } catch (error) {
    // COMMIT went out with the statement, so a statement that failed ended
    // the transaction (anything else, a lost connection, the pool drops).
    client.release(error instanceof pg.DatabaseError ? undefined : (error as Error));
    return null;
  }
  client.release();
  scope.apiKey?.found('valid');
  return { result: orderAnswer(active, outcome, written.entryIds, rows, event.member, orderId), row: rowAfter(write, row) };
}

/**
 * Records an order. Its first statement locks the member and reads all the
 * write decides on; its second writes everything (write.ts). It runs as
 * plain SQL on a pg client (inSqlTransaction), BEGIN sent with the first
 * statement and COMMIT with the second: two round trips. The program comes
 * from the process's cache of compiled versions, checked against the active
 * version id the lock statement read. When this process wrote the member's
 * last order, the order goes in one round trip instead (cachedOrder).
 */
export async function recordOrder(
  scope: Scope,
  input: { memberId: string; orderId: string; lines: OrderLineInput[]; channel?: string | null; at?: string | null },
): Promise<OrderResult> {
  const toOrder = (active: ActiveProgram) =>
    toEvent(scope, active, {
      type: 'order',
      at: input.at,
      member: input.memberId,
      id: input.orderId,
      lines: input.lines,
      channel: input.channel,
    }) as OrderEvent;
  let active = await lastActiveProgram(scope.prisma, scope.merchantId);
  let event = toOrder(active);
  const cached = memberCache.take(scope.merchantId, event.member);
  if (cached) {
    const done = await cachedOrder(scope, active, event, cached);
    if (done) {
      if (done.row) memberCache.put(scope.merchantId, done.row);
      // finish() throws a refusal: the refused order moved the member's clock, and the row cached says so.
      return done.result();
    }
    event = toOrder(active);
  }
  const orderId = randomUUID();
  const { apiKey } = scope;
  const done = await inSqlTransaction(poolOf(scope.prisma), async (tx) => {
    // Lock the member first: a concurrent request for the same order has then
    // either committed (and is found here) or not started its write.
    let context = await orderContext(tx, scope.merchantId, event.member, input.orderId, apiKey?.keyId ?? null);
    if (apiKey) {
      apiKey.found(context.apiKey!);
      // The HTTP layer answers 401 instead; nothing is written.
      if (context.apiKey !== 'valid') throw new DomainError('UNAUTHENTICATED', `the API key is ${context.apiKey}`);
    }
    // It waited for the lock: read again, now that the writer it waited for has committed.
    if (context.stale) context = await orderContext(tx, scope.merchantId, event.member, input.orderId, null);
    if (context.versionId === null) throw new DomainError('NO_ACTIVE_PROGRAM', 'publish a program before recording member activity');
    if (context.versionId !== active.version.id || context.sandbox !== active.sandbox) {
      // Published (or made a sandbox) since this process last looked: parse the input under the active version.
      active = await activeProgramOf(tx, scope.merchantId, context.versionId, context.sandbox);
      event = toOrder(active);
    }
    const bodyHash = eventBodyHash(active.program, event);
    if (context.order) {
      const existing = await existingOrder(tx, input.orderId, context.order, event, bodyHash);
      return { result: () => existing, row: null };
    }
    const rows = new Map(context.member ? [[context.member.externalId, context.member]] : []);
    const { referral } = context;
    if (referral && !rows.has(referral.referrer.externalId)) rows.set(referral.referrer.externalId, referral.referrer);
    stampTime(event, rows);
    const { outcome, write, unchanged } = evaluateOrder(scope, active, event, bodyHash, rows, orderId);
    if (unchanged && (await refusedBefore(tx, scope.merchantId, event, bodyHash))) {
      return { result: orderAnswer(active, outcome, [], rows, event.member, orderId), row: null };
    }
    if (!outcome.error && referral && !referral.rewardedAt && rewardsReferrer(event.id, outcome.changed, outcome.entries)) {
      write.rewarded = [{ id: referral.id, rewardedAt: event.at, orderId }];
    }
    const written = await writeRows(tx, write, { commit: true });
    // A referrer's row this wrote is newer than one the cache may hold.
    for (const r of rows.values()) if (r !== context.member) memberCache.take(scope.merchantId, r.externalId);
    return { result: orderAnswer(active, outcome, written.entryIds, rows, event.member, orderId), row: context.member && rowAfter(write, context.member) };
  });
  if (done.row) memberCache.put(scope.merchantId, done.row);
  return done.result();
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
    const record = upgradeOrder(order?.record ?? undefined) as OrderRecord | undefined;
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

const reasonText = storedText().trim().min(1, 'give the reason for the correction').max(500);

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
          const before = scope.notify === false ? null : viewsBefore(active.program, [row]);
          const written = advance(active.program, row.state, at);
          const view = memberView(active.program, row.state, at);
          await persist(tx, scope.merchantId, active, at, rows, [row.state], written, new Map(), tick!);
          if (before) await recordNotifications(tx, scope.merchantId, tick!, notificationsFor(active.program, { event: null, at, before, changed: [row.state], entries: written }));
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
  if (scope.notify !== false) await recordReminders(scope.prisma, scope.merchantId, active.program, at, tick ?? null);
  // A summary of the run: each member's changes committed on their own.
  if (actor) await recordAudit(scope.prisma, actor, 'advanceTime', null, { at: formatInstant(at), members, entries, failed }, scope.merchantId);
  return { at, members, entries, failures, failed };
}

// ---------------------------------------------------------------- import in batches

/** importBatch cannot apply these lines as one write: the caller applies them one by one (the reference path). */
export class BatchFallback extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BatchFallback';
  }
}

/** What importBatch did with one line: applied, already applied (its key was), or the error the one-by-one write would throw. */
export type BatchLineResult = { replayed: boolean } | { error: unknown };

/** A line for importBatch: the fields its write takes, its client key (`write:`/`refund:` namespace left out), and an adjust's reason. */
export interface BatchInput {
  event: Record<string, unknown>;
  key?: string;
}

type MemberEvent = EngineEvent & { member: string };

/** The key an event is applied once under (the one-by-one write's), or undefined for a write without one. */
function batchKey(event: EngineEvent, given: string | undefined): string | undefined {
  switch (event.type) {
    case 'order':
      return `order:${event.id}`;
    case 'signup':
      return `signup:${event.member}`;
    case 'refund':
      return writeKey('refundId', given ?? '', 'refund');
    case 'tick':
      return undefined;
    case 'adjust':
      return writeKey('idempotencyKey', given ?? '', 'write');
    default:
      return given === undefined ? undefined : writeKey('key', given, 'write');
  }
}

/**
 * eventBodyHash and the event's logged line (eventLine with its `at`) from
 * one serialisation: eventLine writes `type` first and `at` second, so the
 * line is the hashed text with `at` put in after the type (checked, else
 * eventLine is asked again). Half of what the import spent serialising
 * events (~0.14 s per 30,000 lines).
 */
function hashAndLine(program: ActiveProgram['program'], event: EngineEvent): { bodyHash: string; line: string } {
  const bare = eventLine(program, event, { at: false });
  const bodyHash = createHash('sha256').update(bare).digest('hex');
  const head = `{"type":${JSON.stringify(event.type)}`;
  if (!bare.startsWith(head)) return { bodyHash, line: eventLine(program, event) };
  return { bodyHash, line: `${head},"at":${JSON.stringify(formatInstant(event.at))}${bare.slice(head.length)}` };
}

/** An adjust's own checks (adjustPoints'), beside the engine's parser. */
function checkAdjust(points: number, reason: unknown): string {
  const checked = reasonText.safeParse(reason);
  if (!checked.success) throw new DomainError('BAD_USER_INPUT', `reason: ${checked.error.issues[0]!.message}`);
  if (Math.abs(points) > LIMITS.points) throw new DomainError('BAD_USER_INPUT', `points ${points} is beyond the limit of ${LIMITS.points}`, { limit: LIMITS.points });
  return checked.data;
}

const BATCH_CONTEXT_SQL = `
SELECT (SELECT v.id::text FROM program_versions v WHERE v.merchant_id = $1::uuid AND v.active) AS "versionId",
       (SELECT m.sandbox FROM merchants m WHERE m.id = $1::uuid) AS sandbox,
       (SELECT coalesce(json_agg(json_build_object('externalId', o.external_id, 'id', o.id::text, 'memberId', o.member_id::text, 'bodyHash', o.body_hash, 'at', o.at,
                                                   'record', o.record, 'refunds', o.refunds)), '[]')
          FROM orders o WHERE o.merchant_id = $1::uuid AND o.external_id = ANY($2::text[])) AS orders,
       (SELECT coalesce(json_agg(json_build_object('key', e.key, 'bodyHash', e.body_hash, 'at', e.at)), '[]')
          FROM events e WHERE e.merchant_id = $1::uuid AND e.key = ANY($3::text[])) AS keys,
       (SELECT coalesce(array_agg(s.seq ORDER BY s.seq), '{}')::text[]
          FROM (SELECT nextval(pg_get_serial_sequence('events', 'seq')) AS seq FROM generate_series(1, $4::int)) s) AS seqs,
       -- The batch's members' refused events (a repeat that changes nothing is not logged again), by the partial index on them.
       (SELECT coalesce(json_agg(json_build_object('member', e.member, 'at', e.at, 'bodyHash', e.body_hash)), '[]')
          FROM events e WHERE e.merchant_id = $1::uuid AND e.member = ANY($5::text[]) AND NOT e.accepted) AS refused`;

const BATCH_TIMEOUT_MS = 600_000;

/** Members' states per statement at the end of a batch (write.ts updateMembers): a state is kilobytes. */
const MEMBERS_PER_STATEMENT = 100;

/**
 * One transaction on a connection of the pool, outside Prisma: a batch's
 * parameters run to megabytes, and Prisma's client runtime (its query
 * compiler, the parameters' serialisation) spent about as long on them as
 * the database spent executing the statement (bench/README.md, "Import").
 * Retried as inTransaction retries a write.
 */
async function inBatchTransaction<T>(pool: pg.Pool, fn: (query: Query) => Promise<T>): Promise<T> {
  return retrying(async () => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      // As the Prisma transaction it replaces: a batch of thousands of lines on a loaded machine (or PGlite) may take minutes, not forever.
      await client.query(`BEGIN; SET LOCAL statement_timeout = '${BATCH_TIMEOUT_MS}ms'`);
      const result = await fn(async <R>(text: string, params: readonly unknown[], name?: string) => (await client.query(name ? { name, text, values: params as unknown[] } : { text, values: params as unknown[] })).rows as R[]);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }, 'too many concurrent writes to the same members; retry later');
}

/** Member rows as loadMembers reads them, through a batch's connection (node-postgres gives int8 as text). */
async function lockMembers(query: Query, sql: string, params: readonly unknown[]): Promise<MemberRow[]> {
  const rows = await query<Omit<MemberRow, 'balance'> & { balance: string }>(sql, params);
  // A state stored by an older engine reads as the current version (state.ts).
  return rows.map((r) => ({ ...r, state: upgradeState(r.state) as MemberState, balance: BigInt(r.balance) }));
}

const MEMBER_COLUMNS = `id::text AS "id", external_id AS "externalId", state, version, last_event_at AS "lastEventAt", balance::text AS balance, tier`;

/** Whether a tick may go in a batch: reminders (recordReminders) are looked for one tick at a time, by advanceTime. */
export async function ticksBatch(scope: Scope): Promise<boolean> {
  if (scope.notify === false) return true;
  const endpoints = await scope.prisma.webhookEndpoint.findMany({ where: { merchantId: scope.merchantId, enabled: true }, select: { types: true } });
  return !endpoints.some((e) => e.types.length === 0 || e.types.some((t) => ['points.expiring', 'club.ending'].includes(t)));
}

interface StoredOrder {
  externalId: string;
  id: string;
  memberId: string;
  bodyHash: string;
  at: string;
  record: OrderRecord | null;
  refunds: unknown[];
}

interface Membership {
  id: string;
  memberId: string;
  club: string;
  since: number;
  until: number | null;
  cancelledAt: number | null;
  /** Stored before the batch (written as an update when a cancel ends it). */
  stored: boolean;
  dirty: boolean;
}

/** A line of a batch parsed against the active program: its event, key, adjust reason, and logged line with its hash; or the error its write would throw. */
type ParsedLine = { event: EngineEvent; key: string | undefined; reason: string | null; bodyHash: string; line: string } | { error: unknown };

/** importBatch's first step, which needs no database: the lines checked and parsed against the active program. */
export interface PreparedBatch {
  active: ActiveProgram;
  parsed: ParsedLine[];
}

/**
 * The lines of a batch parsed against the merchant's active program (this
 * process's, as a write would take it; importBatch falls back if the
 * database's differs). The import prepares a batch while the database is
 * still writing the one before, when the server's thread would wait.
 */
export async function prepareBatch(scope: Scope, raws: readonly BatchInput[]): Promise<PreparedBatch> {
  const active = await lastActiveProgram(scope.prisma, scope.merchantId);
  const parsed = raws.map((raw): ParsedLine => {
    try {
      const event = toEvent(scope, active, raw.event);
      const reason = event.type === 'adjust' ? checkAdjust(event.points, raw.event.reason) : null;
      return { event, key: batchKey(event, raw.key), reason, ...hashAndLine(active.program, event) };
    } catch (error) {
      return { error };
    }
  });
  return { active, parsed };
}

/**
 * Applies a run of import lines of any type as one transaction: the members
 * locked in one statement (and, at a tick, the members it finds due that
 * the batch has not loaded), the engine run over the lines in memory, every
 * row written in one statement (write.ts writeBatch). Each line gets what
 * its one-by-one write would have done, except that a refused event is
 * logged as refused (with what the engine moved forward before refusing)
 * where recordOrder writes nothing. Where matching the one-by-one write is
 * not simple (a key used with another body, a limit, a member the engine
 * cannot bring forward, a publish meanwhile) it throws BatchFallback (or
 * the DomainError) and writes nothing, and the caller applies the lines
 * one by one. With `scope.notify` false no notification is staged (nor the
 * member views before each event that they are computed from). `lines`:
 * raw, or as prepareBatch parsed them; `onSent` is called once the engine
 * has run every line and every row is sent, when what is left is the
 * database's work.
 */
export async function importBatch(
  scope: Scope,
  actor: AuditActor,
  lines: readonly BatchInput[] | PreparedBatch,
  options: { chunkLines?: number; onSent?: () => void } = {},
): Promise<BatchLineResult[]> {
  const { chunkLines = Infinity, onSent } = options;
  const notify = scope.notify !== false;
  const { active, parsed } = 'parsed' in lines ? lines : await prepareBatch(scope, lines);
  const { program } = active;
  const correctionActor = actorLabel(actor) ?? 'unknown';
  const events = parsed.flatMap((p) => ('event' in p ? [p.event] : []));
  const keys = parsed.flatMap((p) => ('event' in p && p.event.type !== 'order' && p.key !== undefined ? [p.key] : []));
  const ids = new Set<string>();
  const orderIds = new Set<string>();
  for (const e of events) {
    if ('member' in e) ids.add(e.member);
    if (e.type === 'signup' && e.referrer) ids.add(e.referrer);
    if (e.type === 'order') orderIds.add(e.id);
    if (e.type === 'refund') orderIds.add(e.order);
  }
  // Ticks bring forward every member due by then: all those due by the batch's last tick are locked with the batch's own.
  const lastTick = events.reduce<number | null>((last, e) => (e.type === 'tick' && (last === null || e.at > last) ? e.at : last), null);
  const credential = actor.credential;
  const auditKey = credential?.kind === 'key' ? credential.keyId : null;
  return inBatchTransaction(poolOf(scope.prisma), async (query) => {
    // The members' referrals (and so their referrers) first, then every member locked in one statement.
    const referrals = await query<{ id: string; rewardedAt: Date | null; referee: string; referrer: string }>(
      `SELECT r.id::text AS "id", r.rewarded_at AS "rewardedAt", e.external_id AS referee, m.external_id AS referrer
         FROM referrals r JOIN members e ON e.id = r.referee_id JOIN members m ON m.id = r.referrer_id
        WHERE r.merchant_id = $1::uuid AND e.external_id = ANY($2::text[])`,
      [scope.merchantId, [...ids]],
    );
    type Referral = { id: string; rewardedAt: number | null; referrer: string; created?: BatchRows['referrals'][number] };
    const referralOf = new Map<string, Referral>(referrals.map((r) => [r.referee, { id: r.id, rewardedAt: r.rewardedAt?.getTime() ?? null, referrer: r.referrer }]));
    for (const r of referrals) ids.add(r.referrer);
    const locked = await lockMembers(
      query,
      `SELECT ${MEMBER_COLUMNS} FROM members
        WHERE merchant_id = $1::uuid AND (external_id = ANY($2::text[]) OR next_due_at <= $3::timestamptz)
        ORDER BY id FOR UPDATE`,
      [scope.merchantId, [...ids], lastTick === null ? null : new Date(lastTick).toISOString()],
    );
    const rows = new Map(locked.map((r) => [r.externalId, r]));
    const read = new Map([...rows].map(([k, r]) => [k, { version: r.version, lastEventAt: r.lastEventAt.getTime() }]));
    const [context] = await query<{ versionId: string | null; sandbox: boolean; orders: StoredOrder[]; keys: { key: string; bodyHash: string; at: string }[]; seqs: string[]; refused: { member: string; at: string; bodyHash: string }[] }>(
      BATCH_CONTEXT_SQL,
      [scope.merchantId, [...orderIds], keys, events.length, [...ids]],
    );
    if (!context || context.versionId !== active.version.id || context.sandbox !== active.sandbox) throw new BatchFallback('the active program changed');
    const clubs = new Map<string, Membership[]>();
    if (events.some((e) => e.type === 'cancel_club')) {
      const stored = await query<{ id: string; memberId: string; club: string; since: Date; until: Date | null; cancelledAt: Date | null }>(
        `SELECT id::text AS "id", member_id::text AS "memberId", club, since, until, cancelled_at AS "cancelledAt"
           FROM club_memberships WHERE member_id = ANY($1::uuid[]) ORDER BY since, id`,
        [[...rows.values()].map((r) => r.id)],
      );
      for (const c of stored) {
        const list = clubs.get(c.memberId) ?? [];
        list.push({ id: c.id, memberId: c.memberId, club: c.club, since: c.since.getTime(), until: c.until?.getTime() ?? null, cancelledAt: c.cancelledAt?.getTime() ?? null, stored: true, dirty: false });
        clubs.set(c.memberId, list);
      }
    }
    /** Orders by external id: stored ones (`row` null) and the batch's (`row` their index in the chunk's orders, till it is sent). */
    const orders = new Map<string, { id: string; bodyHash: string; at: number; record: OrderRecord | null; refunds: unknown[]; row: number | null; dirty: boolean }>(
      context.orders.map((o) => [o.externalId, { id: o.id, bodyHash: o.bodyHash, at: Date.parse(o.at), record: o.record, refunds: o.refunds, row: null, dirty: false }]),
    );
    const applied = new Map(context.keys.map((k) => [k.key, { bodyHash: k.bodyHash, at: Date.parse(k.at) }]));
    const seqs = context.seqs.map((s) => BigInt(s));
    /** Refused events logged (before the batch, or by it): a refusal repeating one that changed nothing is not logged again. */
    const refused = new Set(context.refused.map((r) => refusalId(r.member, Date.parse(r.at), r.bodyHash)));
    const noRows = (): BatchRows => ({
      merchantId: scope.merchantId,
      programVersionId: active.version.id,
      events: new ColumnRows(EVENT_COLUMNS),
      orders: new ColumnRows(ORDER_COLUMNS),
      orderUpdates: [],
      inserts: [],
      entries: new ColumnRows(ENTRY_COLUMNS),
      notifications: new ColumnRows(NOTIFICATION_COLUMNS),
      referrals: [],
      rewarded: [],
      clubInserts: [],
      clubUpdates: [],
      audits: [],
    });
    let batch = noRows();
    let logged = 0;
    /** Per member changed: the times of its first and last change. */
    const changedAt = new Map<string, { last: number; first: number }>();
    const touch = (id: string, at: number) => changedAt.set(id, { last: at, first: changedAt.get(id)?.first ?? at });
    const created = new Set<string>();
    const results: BatchLineResult[] = [];
    /** Logs the event (seqs were taken for every parsed line) and stages what it wrote. */
    const log = (event: EngineEvent, line: string, key: string | null, bodyHash: string, refusal: Refusal | null, at: number, mine: Map<string, MemberRow>, changed: readonly MemberState[], entries: readonly LedgerEntry[], correction: Correction | null, orderId: string | null, before: ReturnType<typeof viewsBefore> | null) => {
      // An entry names this order, or another the batch holds (one of its own, or one a refund loaded).
      const orderRefs = { get: (ref: string) => (orderId !== null && ref === (event as { id?: string }).id ? orderId : orders.get(ref)?.id) };
      const staged = stageImport(at, mine, changed, entries, orderRefs, correction);
      for (const id of staged.created) {
        created.add(id);
        rows.set(id, mine.get(id)!);
      }
      for (const s of changed) touch(s.id, at);
      const seq = seqs[logged++]!;
      batch.events.add(batchEvent({
        type: event.type,
        member: 'member' in event ? event.member : null,
        at: event.at,
        line,
        key: refusal ? null : key,
        bodyHash,
        programVersionId: active.version.id,
        refusalCode: refusal?.code ?? null,
        refusal: refusal?.message ?? null,
      }, seq));
      for (const e of staged.entries) batch.entries.add(batchEntry(e, seq));
      if (before) for (const n of notificationsFor(program, { event: event.type === 'tick' ? null : event, at, before, changed, entries })) batch.notifications.add(batchNotification(n, seq));
    };
    /** A new member's row as its changes so far left it. */
    const insertOf = (id: string): MemberInsert => {
      const row = rows.get(id)!;
      const at = changedAt.get(id)!;
      const view = memberView(program, row.state, at.last);
      return { id: row.id, externalId: id, birthday: view.birthday ?? null, signupAt: view.signupAt ?? at.first, lastEventAt: at.last, state: row.state, balance: view.balance, tier: view.tier?.name ?? null, nextDueAt: nextDue(program, row.state) };
    };
    const writes: Promise<void>[] = [];
    /**
     * Sends the rows staged so far as one statement without waiting for it:
     * the database writes them while the engine runs the next lines (the
     * connection pipelines; the transaction and its locks are the same). The
     * new members go with it (its rows name them), to be updated at the end
     * like the others; its orders and referrals are updated, not inserted,
     * by what later lines do to them.
     */
    const sendChunk = () => {
      for (const id of created) {
        const insert = insertOf(id);
        batch.inserts.push(insert);
        read.set(id, { version: 0, lastEventAt: insert.lastEventAt });
      }
      created.clear();
      for (const x of batch.orders.columns.x) orders.get(x as string)!.row = null;
      for (const r of referralOf.values()) delete r.created;
      const written = writeBatch(query, batch);
      written.catch(() => undefined); // awaited below, after the lines (or rolled back with the transaction)
      writes.push(written);
      batch = noRows();
    };
    let sinceYield = 0;
    for (const p of parsed) {
      if (batch.events.length >= chunkLines) sendChunk();
      // Now and then the socket gets to send what was written and read the answers.
      if (writes.length > 0 && ++sinceYield >= 200) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      if ('error' in p) {
        results.push(p);
        continue;
      }
      const { event, key, bodyHash, line } = p;
      if (event.type === 'tick') {
        // Every member due by then: the batch holds them all (those the database found due by its last tick were locked with the rest).
        const due = [...rows.values()].filter((r) => {
          const at = nextDue(program, r.state);
          return at !== null && at <= event.at;
        });
        if (due.length === 0) {
          results.push({ replayed: true });
          continue;
        }
        due.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        // As advanceTime: the tick is logged once some member is due, and counts as applied when one changed.
        const before = notify ? viewsBefore(program, due) : null;
        const written: LedgerEntry[] = [];
        let changed = 0;
        for (const r of due) {
          const was = memberView(program, r.state, event.at);
          const entries = advance(program, r.state, event.at);
          const now = memberView(program, r.state, event.at);
          if (entries.length > 0 || now.balance !== was.balance || (now.tier?.name ?? null) !== (was.tier?.name ?? null)) changed++;
          written.push(...entries);
        }
        log(event, line, null, bodyHash, null, event.at, new Map(due.map((r) => [r.externalId, r])), due.map((r) => r.state), written, null, null, before);
        results.push({ replayed: changed === 0 });
        continue;
      }
      const member = (event as MemberEvent).member;
      const first = event.type === 'order' ? orders.get(event.id) : key === undefined ? undefined : applied.get(key);
      if (first) {
        if (first.bodyHash !== bodyHash || first.at !== event.at) throw new BatchFallback(`${key} was used with another body`);
        results.push({ replayed: true });
        continue;
      }
      const referral = event.type === 'order' ? referralOf.get(member) : undefined;
      const involved = [member, event.type === 'signup' ? event.referrer : referral?.referrer].filter((id): id is string => typeof id === 'string');
      const mine = new Map<string, MemberRow>();
      for (const id of involved) {
        const r = rows.get(id);
        if (r) mine.set(id, r);
      }
      const before = notify ? viewsBefore(program, mine.values()) : null;
      const refunded = event.type === 'refund' ? orders.get(event.order) : undefined;
      const clock = mine.get(member)?.state.at;
      const outcome = applyEvent(program, event, { get: (id: string) => mine.get(id)?.state, order: (id: string) => (refunded && event.type === 'refund' && id === event.order ? (refunded.record ?? undefined) : undefined) });
      const orderId = event.type === 'order' && !outcome.refusal ? randomUUID() : null;
      const correction = event.type === 'adjust' ? { reason: p.reason!, actor: correctionActor } : null;
      if (outcome.refusal) {
        const id = refusalId(member, event.at, bodyHash);
        if (!(changedNothing(outcome, clock, event.at) && refused.has(id))) {
          log(event, line, key ?? null, bodyHash, outcome.refusal, event.at, mine, outcome.changed, outcome.entries, correction, orderId, before);
          refused.add(id);
        }
        results.push({ error: new EventRefusedError(outcome.refusal, program) });
        continue;
      }
      log(event, line, key ?? null, bodyHash, null, event.at, mine, outcome.changed, outcome.entries, correction, orderId, before);
      if (key !== undefined && event.type !== 'order') applied.set(key, { bodyHash, at: event.at });
      const row = rows.get(member)!;
      switch (event.type) {
        case 'order': {
          const refunds: unknown[] = [];
          const stored = batch.orders.add(batchOrder(orderRow(orderId!, row.id, event, bodyHash, outcome.order), refunds));
          orders.set(event.id, { id: orderId!, bodyHash, at: event.at, record: outcome.order, refunds, row: stored, dirty: false });
          if (referral && referral.rewardedAt === null && rewardsReferrer(event.id, outcome.changed, outcome.entries)) {
            referral.rewardedAt = event.at;
            // A referral made in this batch is inserted rewarded (an update would not see its row).
            if (referral.created) Object.assign(referral.created, { rewardedAt: event.at, rewardOrderId: orderId });
            else batch.rewarded.push({ id: referral.id, rewardedAt: event.at, orderId: orderId! });
          }
          break;
        }
        case 'refund': {
          if (!refunded) throw new Error('engine accepted a refund of an unknown order');
          refunded.refunds.push({ at: formatInstant(event.at), lines: event.lines });
          if (outcome.order) refunded.record = outcome.order;
          if (refunded.row !== null) batch.orders.set(refunded.row, 'r', refunded.record);
          else refunded.dirty = true;
          break;
        }
        case 'signup': {
          const referrer = event.referrer ? rows.get(event.referrer) : undefined;
          if (referrer) {
            const created = { id: randomUUID(), referrerId: referrer.id, refereeId: row.id, createdAt: event.at, rewardedAt: null, rewardOrderId: null };
            batch.referrals.push(created);
            referralOf.set(member, { id: created.id, rewardedAt: null, referrer: referrer.externalId, created });
          }
          break;
        }
        case 'join_club': {
          const club = memberView(program, row.state, event.at).clubs.find((c) => c.name === event.club);
          const list = clubs.get(row.id) ?? [];
          list.push({ id: randomUUID(), memberId: row.id, club: event.club, since: club?.since ?? event.at, until: club?.until ?? null, cancelledAt: null, stored: false, dirty: false });
          clubs.set(row.id, list);
          break;
        }
        case 'cancel_club': {
          for (const c of clubs.get(row.id) ?? []) {
            if (c.club === event.club && c.since <= event.at && (c.until === null || c.until > event.at)) Object.assign(c, { until: event.at, cancelledAt: event.at, dirty: true });
          }
          break;
        }
        case 'adjust':
          // adjustPoints' audit entry (recordAudit's columns), written with the batch.
          batch.audits.push({ actorKeyId: auditKey, actorLabel: actorLabel(actor), action: 'adjustPoints', target: member, details: { points: event.points, reason: p.reason!, idempotencyKey: key!.slice('write:'.length) } });
          break;
        default:
          break;
      }
      results.push({ replayed: false });
    }
    for (const o of orders.values()) if (o.dirty) batch.orderUpdates.push({ id: o.id, refunds: o.refunds, record: o.record });
    for (const list of clubs.values()) {
      for (const c of list) {
        if (!c.stored) batch.clubInserts.push(c);
        else if (c.dirty) batch.clubUpdates.push({ id: c.id, until: c.until!, cancelledAt: c.cancelledAt! });
      }
    }
    // Each member's row once, as its last change left it (the one-by-one writes store it after each).
    const updates: MemberUpdate[] = [];
    for (const [id, at] of changedAt) {
      const was = read.get(id);
      if (!was || created.has(id)) {
        batch.inserts.push(insertOf(id));
        continue;
      }
      const row = rows.get(id)!;
      const view = memberView(program, row.state, at.last);
      updates.push({ id: row.id, version: was.version, state: row.state, balance: view.balance, tier: view.tier?.name ?? null, nextDueAt: nextDue(program, row.state), lastEventAt: Math.max(was.lastEventAt, at.last) });
    }
    writes.push(writeBatch(query, batch));
    const updated = updateMembers(query, updates, MEMBERS_PER_STATEMENT);
    updated.catch(() => undefined); // a chunk's failure is the one to report
    onSent?.();
    await Promise.all(writes);
    if ((await updated) !== updates.length) throw new VersionConflict(updates.map((u) => u.id).join(', '));
    return results;
  });
}
