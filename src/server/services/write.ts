// A write's rows in one SQL statement: the logged event, the order it
// records (if any), the members' new states (updated under a version check,
// or inserted for a new member), the ledger entries, the notifications and
// their deliveries. One round trip instead of one per table: the profile of
// recordOrder showed the time going to Prisma's per-query work and to the
// round trips themselves (docs/api.md, "Write path"), so this is plain SQL
// with data-modifying CTEs fed by jsonb_to_recordset.
//
// Foreign keys (entries → order, event, member; deliveries → notifications)
// are checked at the end of the statement, when every CTE has run. Entry and
// notification ids are taken in the order given (ORDER BY their index).
//
// The statement checks its member updates' version checks itself
// (loyalty_check_updated, a serialization failure when one missed), so that
// a COMMIT sent with it can never commit half a write (transaction.ts).
import { ColumnRows } from '../db/binary-arrays.ts';
import type { Sql } from './transaction.ts';
import { PAYLOAD_VERSION, type NewNotification } from './notifications.ts';

export interface EventRow {
  type: string;
  member: string | null;
  at: number;
  line: string;
  key: string | null;
  bodyHash: string;
  programVersionId: string;
  refusalCode: string | null;
  refusal: string | null;
}

export interface OrderRow {
  id: string;
  memberId: string;
  externalId: string;
  bodyHash: string;
  lines: unknown;
  channel: string | null;
  total: number;
  at: number;
  record: unknown;
}

/** A member's state to store over `version` (the row's version when it was read). */
export interface MemberUpdate {
  id: string;
  version: number;
  state: unknown;
  balance: number;
  tier: string | null;
  nextDueAt: number | null;
  lastEventAt: number;
}

export interface MemberInsert {
  id: string;
  externalId: string;
  birthday: string | null;
  signupAt: number;
  lastEventAt: number;
  state: unknown;
  balance: number;
  tier: string | null;
  nextDueAt: number | null;
}

export interface EntryRow {
  memberId: string;
  at: number;
  kind: string;
  points: number;
  rule: string | null;
  ref: string | null;
  line: number | null;
  reason: string | null;
  actor: string | null;
  orderId: string | null;
}

export interface WriteRows {
  merchantId: string;
  event: EventRow;
  order: OrderRow | null;
  updates: MemberUpdate[];
  inserts: MemberInsert[];
  entries: EntryRow[];
  notifications: readonly NewNotification[];
  /** Referrals the event's order rewarded (the referee's first order). */
  rewarded: readonly { id: string; rewardedAt: number; orderId: string }[];
}

export interface Written {
  seq: bigint;
  /** Members updated: always updates.length (a missed version check fails the statement). */
  updated: number;
  /** The entries' ids, ascending (the order given). */
  entryIds: bigint[];
}

/**
 * An instant as timestamptz text. The last one is kept: a write's entries
 * and notifications mostly share its event's time, and toISOString was the
 * import's costliest call per row (~85 ms of the server's thread per 30,000
 * lines).
 */
let lastMs: number | null = null;
let lastIso: string | null = null;
const iso = (ms: number | null) => {
  if (ms === null) return null;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
};

// Rows as the single write's jsonb_to_recordset columns (the batch's go as
// binary arrays, below). Orders, ledger entries and notifications go under
// short keys with null fields left out: jsonb_to_recordset reads a missing
// key as null, and the parameters' size is what PostgreSQL's parse of them
// and the server's building of them cost.
const orderColumns = (o: OrderRow) => ({ id: o.id, m: o.memberId, x: o.externalId, h: o.bodyHash, l: o.lines, c: o.channel ?? undefined, t: o.total, a: iso(o.at), r: o.record });
const updateColumns = (u: MemberUpdate) => ({ id: u.id, version: u.version, state: u.state, balance: u.balance, tier: u.tier, next_due_at: iso(u.nextDueAt), last_event_at: iso(u.lastEventAt) });
const insertColumns = (n: MemberInsert) => ({
  id: n.id,
  external_id: n.externalId,
  birthday: n.birthday,
  signup_at: iso(n.signupAt),
  last_event_at: iso(n.lastEventAt),
  state: n.state,
  balance: n.balance,
  tier: n.tier,
  next_due_at: iso(n.nextDueAt),
});
const entryColumns = (e: EntryRow, n: number) => ({
  n,
  m: e.memberId,
  a: iso(e.at),
  k: e.kind,
  p: e.points,
  ru: e.rule ?? undefined,
  rf: e.ref ?? undefined,
  ln: e.line ?? undefined,
  rs: e.reason ?? undefined,
  ac: e.actor ?? undefined,
  o: e.orderId ?? undefined,
});
const notificationColumns = (x: NewNotification, n: number) => ({ n, t: x.type, m: x.member ?? undefined, a: iso(x.at), p: x.payload });

/** The members' update over the versions read, from `param`'s updateColumns rows (the single write's and updateMembers' statements). */
const updateMembersOver = (param: string) => `UPDATE members m
     SET state = u.state, balance = u.balance, tier = u.tier, next_due_at = u.next_due_at,
         last_event_at = u.last_event_at, version = m.version + 1, updated_at = now()
    FROM jsonb_to_recordset(${param}::jsonb) AS u(id uuid, version int, state jsonb, balance bigint, tier text, next_due_at timestamptz, last_event_at timestamptz)
   WHERE m.id = u.id AND m.version = u.version
  RETURNING m.id`;

/** The write statement; `check`: more columns of its result, each a check that fails the statement (see CACHED_SQL). */
const writeStatement = (check: string) => `
WITH ev AS (
  INSERT INTO events (merchant_id, type, member, at, line, key, body_hash, program_version_id, accepted, refusal_code, refusal)
  VALUES ($1::uuid, $2, $3, $4::timestamptz, $5, $6, $7, $8::uuid, $9::text IS NULL, $9::text, $10)
  RETURNING seq
), ord AS (
  INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, channel, total, at, record)
  SELECT o.id, $1::uuid, o.m, o.x, o.h, o.l, o.c, o.t, o.a, o.r
    FROM jsonb_to_recordset($11::jsonb) AS o(id uuid, m uuid, x text, h text, l jsonb, c text, t bigint, a timestamptz, r jsonb)
  RETURNING id
), upd AS (
  ${updateMembersOver('$12')}
), ins AS (
  INSERT INTO members (id, merchant_id, external_id, birthday, signup_at, last_event_at, state, balance, tier, next_due_at, updated_at)
  SELECT n.id, $1::uuid, n.external_id, n.birthday, n.signup_at, n.last_event_at, n.state, n.balance, n.tier, n.next_due_at, now()
    FROM jsonb_to_recordset($13::jsonb) AS n(id uuid, external_id text, birthday text, signup_at timestamptz, last_event_at timestamptz, state jsonb, balance bigint, tier text, next_due_at timestamptz)
  RETURNING id
), led AS (
  INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, rule, ref, line, reason, actor, program_version_id, order_id, event_seq)
  SELECT $1::uuid, l.m, l.a, l.k::"LedgerKind", l.p, l.ru, l.rf, l.ln, l.rs, l.ac, $8::uuid,
         -- Pending points vesting now (dsl.md 4.9) name an earlier order the write did not load.
         COALESCE(l.o, (SELECT o.id FROM orders o WHERE o.merchant_id = $1::uuid AND o.external_id = l.rf)), ev.seq
    FROM ev, jsonb_to_recordset($14::jsonb) AS l(n int, m uuid, a timestamptz, k text, p bigint, ru text, rf text, ln int, rs text, ac text, o uuid)
   ORDER BY l.n
  RETURNING id
), ntf AS (
  INSERT INTO notifications (merchant_id, type, member, at, version, payload, event_seq)
  SELECT $1::uuid, n.t, n.m, n.a, $15::smallint, n.p, ev.seq
    FROM ev, jsonb_to_recordset($16::jsonb) AS n(n int, t text, m text, a timestamptz, p jsonb)
   ORDER BY n.n
  RETURNING id, merchant_id, type, member
), dlv AS (
  INSERT INTO deliveries (merchant_id, notification_id, endpoint_id, member)
  SELECT n.merchant_id, n.id, e.id, n.member
    FROM ntf n
    JOIN webhook_endpoints e ON e.merchant_id = n.merchant_id AND e.enabled AND (cardinality(e.types) = 0 OR n.type = ANY(e.types))
   ORDER BY n.id, e.id
), rew AS (
  UPDATE referrals r SET rewarded_at = w.rewarded_at, reward_order_id = w.order_id
    FROM jsonb_to_recordset($18::jsonb) AS w(id uuid, rewarded_at timestamptz, order_id uuid)
   WHERE r.id = w.id
  RETURNING r.id
)
SELECT (SELECT seq FROM ev)::text AS seq,
       loyalty_check_updated($17::int, (SELECT count(*) FROM upd)::int) AS updated,
       (SELECT count(*) FROM rew)::int AS rewarded,
       (SELECT count(*) FROM ins)::int AS inserted,
       (SELECT count(*) FROM ord)::int AS orders,
       coalesce((SELECT array_agg(id ORDER BY id) FROM led), '{}')::text[] AS entry_ids${check}`;

const SQL = writeStatement('');

/**
 * The write of an order for a member row the process cached (members.ts,
 * "the member cache"), sent without a lock statement before it: it also
 * checks that the program version ($8) is still the merchant's active one,
 * the sandbox flag ($19) the same, and the API key ($20, null: none to
 * check) still valid (loyalty_check_cached, a serialization failure when
 * not), as the lock statement would have read them.
 */
const CACHED_SQL = writeStatement(',\n       loyalty_check_cached($1::uuid, $8::uuid, $19::boolean, $20::uuid) AS cached');

/** What a write for a cached member row checks beside the member's version (CACHED_SQL). */
export interface CachedChecks {
  sandbox: boolean;
  apiKeyId: string | null;
}

/** Writes the rows in one statement (plain SQL on the hot path, see above); `commit`: the transaction's last (Sql). */
export async function writeRows(sql: Sql, rows: WriteRows, options: { commit?: boolean; cached?: CachedChecks } = {}): Promise<Written> {
  const { event, order } = rows;
  const { cached } = options;
  const checks = cached ? [cached.sandbox, cached.apiKeyId] : [];
  const [result] = await sql.query<{ seq: string; updated: number; entry_ids: string[] }>(cached ? CACHED_SQL : SQL, [
    rows.merchantId,
    event.type,
    event.member,
    iso(event.at),
    event.line,
    event.key,
    event.bodyHash,
    event.programVersionId,
    event.refusalCode,
    event.refusal,
    JSON.stringify(
      order === null
        ? []
        : [orderColumns(order)],
    ),
    JSON.stringify(
      rows.updates.map(updateColumns),
    ),
    JSON.stringify(
      rows.inserts.map(insertColumns),
    ),
    JSON.stringify(
      rows.entries.map((e, n) => entryColumns(e, n)),
    ),
    PAYLOAD_VERSION,
    JSON.stringify(rows.notifications.map((n, i) => notificationColumns(n, i))),
    rows.updates.length,
    JSON.stringify(rows.rewarded.map((r) => ({ id: r.id, rewarded_at: iso(r.rewardedAt), order_id: r.orderId }))),
    ...checks,
  ], { commit: options.commit });
  if (!result) throw new Error('the write statement returned no row');
  return { seq: BigInt(result.seq), updated: result.updated, entryIds: result.entry_ids.map((id) => BigInt(id)) };
}

// ---------------------------------------------------------------- many events at once (import)

/**
 * A statement on the import's own connection (members.importBatch): rows
 * as node-postgres decodes them (int8 as text, timestamptz as Date, json as
 * values). `name`: prepared once per connection under it, as the statements
 * run per chunk are: PostgreSQL then parses and analyses their text once
 * (about 5 ms of PGlite's thread per execution of the batch statement;
 * bench/README.md, "Import: rows as binary arrays").
 */
export type Query = <T>(text: string, params: readonly unknown[], name?: string) => Promise<T[]>;

/**
 * The rows of one batch statement. Its events, orders, entries and
 * notifications (by the thousand) are staged as the statement's columns
 * (batchEvent, batchOrder, batchEntry, batchNotification), in the order
 * they are to be written.
 */
export interface BatchRows {
  merchantId: string;
  programVersionId: string;
  /** In log order (batchEvent); `seq` taken beforehand, ascending. */
  events: ColumnRows<typeof EVENT_COLUMNS>;
  /** Orders of the batch (batchOrder), as its refunds left them (`f` its refunds, `r` its record). */
  orders: ColumnRows<typeof ORDER_COLUMNS>;
  /** Orders stored before the batch that its refunds changed: their refunds and record as the last refund left them. */
  orderUpdates: { id: string; refunds: unknown[]; record: unknown }[];
  /** New members (the updates of stored ones go by updateMembers). */
  inserts: MemberInsert[];
  entries: ColumnRows<typeof ENTRY_COLUMNS>;
  /** Club memberships the batch's joins made (as later cancels in the batch left them), and stored ones its cancels ended. */
  clubInserts: { id: string; memberId: string; club: string; since: number; until: number | null; cancelledAt: number | null }[];
  clubUpdates: { id: string; until: number; cancelledAt: number }[];
  notifications: ColumnRows<typeof NOTIFICATION_COLUMNS>;
  /** Referrals a signup made, and referrals an order rewarded. */
  referrals: { id: string; referrerId: string; refereeId: string; createdAt: number; rewardedAt: number | null; rewardOrderId: string | null }[];
  rewarded: { id: string; rewardedAt: number; orderId: string }[];
  /** Audit entries of the batch's adjusts (recordAudit's columns), in order. */
  audits: { actorKeyId: string | null; actorLabel: string | null; action: string; target: string | null; details: unknown }[];
}

// Events, orders, ledger entries and notifications (the tables an import
// fills by the thousand) go as binary arrays, a column each
// (db/binary-arrays.ts): the database copies their values instead of parsing
// a JSON document of them (bench/README.md, "Import: rows as binary
// arrays"). Before, the events and the entries went as json (read with
// json_to_recordset, which took the database's CPU for 30,000 lines from
// 3.64–3.68 to 3.35–3.44 s against jsonb), the orders and notifications as
// jsonb. The other rows are few and stay jsonb.
export const EVENT_COLUMNS = { s: 'int8', t: 'text', m: 'text', a: 'timestamptz', l: 'text', k: 'text', h: 'text', rc: 'text', r: 'text' } as const;
/** `l` the lines, `r` the record, `f` the refunds (documents). */
export const ORDER_COLUMNS = { id: 'uuid', m: 'uuid', x: 'text', h: 'text', l: 'jsonb', c: 'text', t: 'int8', a: 'timestamptz', r: 'jsonb', f: 'jsonb' } as const;
export const ENTRY_COLUMNS = { m: 'uuid', a: 'timestamptz', k: 'text', p: 'int8', ru: 'text', rf: 'text', ln: 'int4', rs: 'text', ac: 'text', o: 'uuid', s: 'int8' } as const;
export const NOTIFICATION_COLUMNS = { t: 'text', m: 'text', a: 'timestamptz', p: 'jsonb', s: 'int8' } as const;
// Their parameters follow the batch's ten others, in this order.
const EVENTS_FROM = 11;
const ORDERS_FROM = EVENTS_FROM + Object.keys(EVENT_COLUMNS).length;
const ENTRIES_FROM = ORDERS_FROM + Object.keys(ORDER_COLUMNS).length;
const NOTIFICATIONS_FROM = ENTRIES_FROM + Object.keys(ENTRY_COLUMNS).length;

/** A batch's event as EVENT_COLUMNS. */
export const batchEvent = (e: EventRow, seq: bigint) => ({ s: seq, t: e.type, m: e.member, a: e.at, l: e.line, k: e.key, h: e.bodyHash, rc: e.refusalCode, r: e.refusal });
/** A batch's order as ORDER_COLUMNS, with the array its refunds are pushed to. */
export const batchOrder = (o: OrderRow, refunds: unknown[]) => ({ id: o.id, m: o.memberId, x: o.externalId, h: o.bodyHash, l: o.lines, c: o.channel, t: o.total, a: o.at, r: o.record, f: refunds });
/** A batch's entry as ENTRY_COLUMNS, naming its event. */
export const batchEntry = (e: EntryRow, eventSeq: bigint) => ({ m: e.memberId, a: e.at, k: e.kind, p: e.points, ru: e.rule, rf: e.ref, ln: e.line, rs: e.reason, ac: e.actor, o: e.orderId, s: eventSeq });
/** A batch's notification as NOTIFICATION_COLUMNS, naming its event. */
export const batchNotification = (x: NewNotification, eventSeq: bigint) => ({ t: x.type, m: x.member, a: x.at, p: x.payload, s: eventSeq });

const BATCH_SQL = `
WITH ev AS (
  INSERT INTO events (seq, merchant_id, type, member, at, line, key, body_hash, program_version_id, accepted, refusal_code, refusal)
  SELECT e.s, $1::uuid, e.t, e.m, e.a, e.l, e.k, e.h, $2::uuid, e.rc IS NULL, e.rc, e.r
    FROM ${ColumnRows.sql(EVENT_COLUMNS, EVENTS_FROM, 'e')}
   ORDER BY e.s
  RETURNING seq
), ord AS (
  INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, channel, total, at, record, refunds)
  SELECT o.id, $1::uuid, o.m, o.x, o.h, o.l, o.c, o.t, o.a, o.r, o.f
    FROM ${ColumnRows.sql(ORDER_COLUMNS, ORDERS_FROM, 'o')}
  RETURNING id
), ordu AS (
  UPDATE orders o SET refunds = w.refunds, record = w.record
    FROM jsonb_to_recordset($7::jsonb) AS w(id uuid, refunds jsonb, record jsonb)
   WHERE o.id = w.id
  RETURNING o.id
), clb AS (
  INSERT INTO club_memberships (id, member_id, club, since, until, cancelled_at)
  SELECT c.id, c.member_id, c.club, c.since, c.until, c.cancelled_at
    FROM jsonb_to_recordset($8::jsonb) AS c(id uuid, member_id uuid, club text, since timestamptz, until timestamptz, cancelled_at timestamptz)
  RETURNING id
), clu AS (
  UPDATE club_memberships c SET until = w.until, cancelled_at = w.cancelled_at
    FROM jsonb_to_recordset($9::jsonb) AS w(id uuid, until timestamptz, cancelled_at timestamptz)
   WHERE c.id = w.id
  RETURNING c.id
), ins AS (
  INSERT INTO members (id, merchant_id, external_id, birthday, signup_at, last_event_at, state, balance, tier, next_due_at, updated_at)
  SELECT n.id, $1::uuid, n.external_id, n.birthday, n.signup_at, n.last_event_at, n.state, n.balance, n.tier, n.next_due_at, now()
    FROM jsonb_to_recordset($3::jsonb) AS n(id uuid, external_id text, birthday text, signup_at timestamptz, last_event_at timestamptz, state jsonb, balance bigint, tier text, next_due_at timestamptz)
  RETURNING id
), led AS (
  INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, rule, ref, line, reason, actor, program_version_id, order_id, event_seq)
  SELECT $1::uuid, l.m, l.a, l.k::"LedgerKind", l.p, l.ru, l.rf, l.ln, l.rs, l.ac, $2::uuid,
         -- The caller links entries to the orders it holds (the batch's and those it loaded); vesting
         -- entries (dsl.md 4.9) may name an earlier order, found by its index.
         COALESCE(l.o, (SELECT o.id FROM orders o WHERE o.merchant_id = $1::uuid AND o.external_id = l.rf)),
         l.s
    FROM ${ColumnRows.sql(ENTRY_COLUMNS, ENTRIES_FROM, 'l')}
   ORDER BY l.n
  RETURNING id
), ntf AS (
  INSERT INTO notifications (merchant_id, type, member, at, version, payload, event_seq)
  SELECT $1::uuid, n.t, n.m, n.a, $4::smallint, n.p, n.s
    FROM ${ColumnRows.sql(NOTIFICATION_COLUMNS, NOTIFICATIONS_FROM, 'n')}
   ORDER BY n.n
  RETURNING id, merchant_id, type, member
), dlv AS (
  INSERT INTO deliveries (merchant_id, notification_id, endpoint_id, member)
  SELECT n.merchant_id, n.id, e.id, n.member
    FROM ntf n
    JOIN webhook_endpoints e ON e.merchant_id = n.merchant_id AND e.enabled AND (cardinality(e.types) = 0 OR n.type = ANY(e.types))
   ORDER BY n.id, e.id
), ref AS (
  INSERT INTO referrals (id, merchant_id, referrer_id, referee_id, created_at, rewarded_at, reward_order_id)
  SELECT r.id, $1::uuid, r.referrer_id, r.referee_id, r.created_at, r.rewarded_at, r.reward_order_id
    FROM jsonb_to_recordset($5::jsonb) AS r(id uuid, referrer_id uuid, referee_id uuid, created_at timestamptz, rewarded_at timestamptz, reward_order_id uuid)
  RETURNING id
), rew AS (
  UPDATE referrals r SET rewarded_at = w.rewarded_at, reward_order_id = w.order_id
    FROM jsonb_to_recordset($6::jsonb) AS w(id uuid, rewarded_at timestamptz, order_id uuid)
   WHERE r.id = w.id
  RETURNING r.id
), aud AS (
  INSERT INTO audit_log (merchant_id, actor_key_id, actor_label, action, target, details)
  SELECT $1::uuid, a.actor_key_id, a.actor_label, a.action, a.target, a.details
    FROM jsonb_to_recordset($10::jsonb) AS a(n int, actor_key_id uuid, actor_label text, action text, target text, details jsonb)
   ORDER BY a.n
)
SELECT (SELECT count(*) FROM ev)::int AS events`;

/** Writes many events' rows in one statement. */
export async function writeBatch(query: Query, rows: BatchRows): Promise<void> {
  const [result] = await query<{ events: number }>(BATCH_SQL, [
    rows.merchantId,
    rows.programVersionId,
    JSON.stringify(
      rows.inserts.map(insertColumns),
    ),
    PAYLOAD_VERSION,
    JSON.stringify(
      rows.referrals.map((r) => ({ id: r.id, referrer_id: r.referrerId, referee_id: r.refereeId, created_at: iso(r.createdAt), rewarded_at: iso(r.rewardedAt), reward_order_id: r.rewardOrderId })),
    ),
    JSON.stringify(rows.rewarded.map((r) => ({ id: r.id, rewarded_at: iso(r.rewardedAt), order_id: r.orderId }))),
    JSON.stringify(rows.orderUpdates),
    JSON.stringify(rows.clubInserts.map((c) => ({ id: c.id, member_id: c.memberId, club: c.club, since: iso(c.since), until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
    JSON.stringify(rows.clubUpdates.map((c) => ({ id: c.id, until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
    JSON.stringify(rows.audits.map((a, n) => ({ n, actor_key_id: a.actorKeyId, actor_label: a.actorLabel, action: a.action, target: a.target, details: a.details }))),
    ...rows.events.params(),
    ...rows.orders.params(),
    ...rows.entries.params(),
    ...rows.notifications.params(),
  ], 'loyalty_import_batch');
  if (!result) throw new Error('the batch write returned no row');
}

const MEMBERS_SQL = `
WITH upd AS (
  ${updateMembersOver('$1')}
)
SELECT count(*)::int AS updated FROM upd`;

/**
 * Stores members' states over the versions read, in statements of at most
 * `perStatement` members; returns how many the version check let through.
 * A state is kilobytes: the import's members go apart from its other rows so
 * that no statement grows with the number of members a batch touches (on
 * PGlite, whose socket server copies a message's bytes received so far
 * whenever more arrive, a statement's cost grows with the square of its size).
 */
export async function updateMembers(query: Query, updates: readonly MemberUpdate[], perStatement: number): Promise<number> {
  const counts: Promise<{ updated: number }[]>[] = [];
  for (let i = 0; i < updates.length; i += perStatement) counts.push(query<{ updated: number }>(MEMBERS_SQL, [JSON.stringify(updates.slice(i, i + perStatement).map(updateColumns))], 'loyalty_import_members'));
  let updated = 0;
  for (const [r] of await Promise.all(counts)) updated += r?.updated ?? 0;
  return updated;
}
