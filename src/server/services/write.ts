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
import pg from 'pg';
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

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

// Rows as the statements' jsonb_to_recordset columns; one mapping for the single write and the batch.
// Orders, ledger entries and notifications (the rows an import writes by the
// thousand) go under short keys with null fields left out: jsonb_to_recordset
// reads a missing key as null, and the parameters' size is what PostgreSQL's
// parse of them and the server's building of them cost.
/** `refunds`: the batch's orders carry theirs (the single write's new order has none yet). */
const orderColumns = (o: OrderRow, refunds?: unknown[]) => ({ id: o.id, m: o.memberId, x: o.externalId, h: o.bodyHash, l: o.lines, c: o.channel ?? undefined, t: o.total, a: iso(o.at), r: o.record, f: refunds });
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
/** `eventSeq`: the batch's entries name their event (the single write's are its one event's). */
const entryColumns = (e: EntryRow, n: number, eventSeq?: bigint) => ({
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
  s: eventSeq?.toString(),
});
/** `eventSeq` as entryColumns'. */
const notificationColumns = (x: NewNotification, n: number, eventSeq?: bigint) => ({ n, t: x.type, m: x.member ?? undefined, a: iso(x.at), p: x.payload, s: eventSeq?.toString() });

/** The members' update over the versions read, from `param`'s updateColumns rows (the single write's and updateMembers' statements). */
const updateMembersOver = (param: string) => `UPDATE members m
     SET state = u.state, balance = u.balance, tier = u.tier, next_due_at = u.next_due_at,
         last_event_at = u.last_event_at, version = m.version + 1, updated_at = now()
    FROM jsonb_to_recordset(${param}::jsonb) AS u(id uuid, version int, state jsonb, balance bigint, tier text, next_due_at timestamptz, last_event_at timestamptz)
   WHERE m.id = u.id AND m.version = u.version
  RETURNING m.id`;

const SQL = `
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
       coalesce((SELECT array_agg(id ORDER BY id) FROM led), '{}')::text[] AS entry_ids`;

/** Writes the rows in one statement (plain SQL on the hot path, see above); `commit`: the transaction's last (Sql). */
export async function writeRows(sql: Sql, rows: WriteRows, options: { commit?: boolean } = {}): Promise<Written> {
  const { event, order } = rows;
  const [result] = await sql.query<{ seq: string; updated: number; entry_ids: string[] }>(SQL, [
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
  ], options);
  if (!result) throw new Error('the write statement returned no row');
  return { seq: BigInt(result.seq), updated: result.updated, entryIds: result.entry_ids.map((id) => BigInt(id)) };
}

// ---------------------------------------------------------------- many events at once (import)

/**
 * A statement on the import's own connection (members.importBatch): rows
 * as node-postgres decodes them (int8 as text, timestamptz as Date, json as
 * values).
 */
export type Query = <T>(text: string, params: readonly unknown[]) => Promise<T[]>;

export interface BatchRows {
  merchantId: string;
  programVersionId: string;
  /** In log order; `seq` taken beforehand (nextSeqs), ascending. */
  events: (EventRow & { seq: bigint })[];
  /** Orders of the batch, as its refunds left them (`refunds` as the column stores them). */
  orders: (OrderRow & { refunds: unknown[] })[];
  /** Orders stored before the batch that its refunds changed: their refunds and record as the last refund left them. */
  orderUpdates: { id: string; refunds: unknown[]; record: unknown }[];
  /** New members (the updates of stored ones go by updateMembers). */
  inserts: MemberInsert[];
  entries: (EntryRow & { eventSeq: bigint })[];
  /** Club memberships the batch's joins made (as later cancels in the batch left them), and stored ones its cancels ended. */
  clubInserts: { id: string; memberId: string; club: string; since: number; until: number | null; cancelledAt: number | null }[];
  clubUpdates: { id: string; until: number; cancelledAt: number }[];
  notifications: (NewNotification & { eventSeq: bigint })[];
  /** Referrals a signup made, and referrals an order rewarded. */
  referrals: { id: string; referrerId: string; refereeId: string; createdAt: number; rewardedAt: number | null; rewardOrderId: string | null }[];
  rewarded: { id: string; rewardedAt: number; orderId: string }[];
  /** Audit entries of the batch's adjusts (recordAudit's columns), in order. */
  audits: { actorKeyId: string | null; actorLabel: string | null; action: string; target: string | null; details: unknown }[];
}

// Events, orders, ledger entries and notifications (the tables an import
// fills by the thousand) go under short keys with null fields left out, as
// the columns' mappings above say.
const BATCH_SQL = `
WITH ev AS (
  INSERT INTO events (seq, merchant_id, type, member, at, line, key, body_hash, program_version_id, accepted, refusal_code, refusal)
  SELECT e.s, $1::uuid, e.t, e.m, e.a, e.l, e.k, e.h, $2::uuid, e.rc IS NULL, e.rc, e.r
    FROM jsonb_to_recordset($3::jsonb) AS e(s bigint, t text, m text, a timestamptz, l text, k text, h text, rc text, r text)
   ORDER BY e.s
  RETURNING seq
), ord AS (
  INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, channel, total, at, record, refunds)
  SELECT o.id, $1::uuid, o.m, o.x, o.h, o.l, o.c, o.t, o.a, o.r, o.f
    FROM jsonb_to_recordset($4::jsonb) AS o(id uuid, m uuid, x text, h text, l jsonb, c text, t bigint, a timestamptz, r jsonb, f jsonb)
  RETURNING id
), ordu AS (
  UPDATE orders o SET refunds = w.refunds, record = w.record
    FROM jsonb_to_recordset($11::jsonb) AS w(id uuid, refunds jsonb, record jsonb)
   WHERE o.id = w.id
  RETURNING o.id
), clb AS (
  INSERT INTO club_memberships (id, member_id, club, since, until, cancelled_at)
  SELECT c.id, c.member_id, c.club, c.since, c.until, c.cancelled_at
    FROM jsonb_to_recordset($12::jsonb) AS c(id uuid, member_id uuid, club text, since timestamptz, until timestamptz, cancelled_at timestamptz)
  RETURNING id
), clu AS (
  UPDATE club_memberships c SET until = w.until, cancelled_at = w.cancelled_at
    FROM jsonb_to_recordset($13::jsonb) AS w(id uuid, until timestamptz, cancelled_at timestamptz)
   WHERE c.id = w.id
  RETURNING c.id
), ins AS (
  INSERT INTO members (id, merchant_id, external_id, birthday, signup_at, last_event_at, state, balance, tier, next_due_at, updated_at)
  SELECT n.id, $1::uuid, n.external_id, n.birthday, n.signup_at, n.last_event_at, n.state, n.balance, n.tier, n.next_due_at, now()
    FROM jsonb_to_recordset($5::jsonb) AS n(id uuid, external_id text, birthday text, signup_at timestamptz, last_event_at timestamptz, state jsonb, balance bigint, tier text, next_due_at timestamptz)
  RETURNING id
), led AS (
  INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, rule, ref, line, reason, actor, program_version_id, order_id, event_seq)
  SELECT $1::uuid, l.m, l.a, l.k::"LedgerKind", l.p, l.ru, l.rf, l.ln, l.rs, l.ac, $2::uuid,
         -- The caller links entries to the orders it holds (the batch's and those it loaded); vesting
         -- entries (dsl.md 4.9) may name an earlier order, found by its index.
         COALESCE(l.o, (SELECT o.id FROM orders o WHERE o.merchant_id = $1::uuid AND o.external_id = l.rf)),
         l.s
    FROM jsonb_to_recordset($6::jsonb) AS l(n int, m uuid, a timestamptz, k text, p bigint, ru text, rf text, ln int, rs text, ac text, o uuid, s bigint)
   ORDER BY l.n
  RETURNING id
), ntf AS (
  INSERT INTO notifications (merchant_id, type, member, at, version, payload, event_seq)
  SELECT $1::uuid, n.t, n.m, n.a, $7::smallint, n.p, n.s
    FROM jsonb_to_recordset($8::jsonb) AS n(n int, t text, m text, a timestamptz, p jsonb, s bigint)
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
    FROM jsonb_to_recordset($9::jsonb) AS r(id uuid, referrer_id uuid, referee_id uuid, created_at timestamptz, rewarded_at timestamptz, reward_order_id uuid)
  RETURNING id
), rew AS (
  UPDATE referrals r SET rewarded_at = w.rewarded_at, reward_order_id = w.order_id
    FROM jsonb_to_recordset($10::jsonb) AS w(id uuid, rewarded_at timestamptz, order_id uuid)
   WHERE r.id = w.id
  RETURNING r.id
), aud AS (
  INSERT INTO audit_log (merchant_id, actor_key_id, actor_label, action, target, details)
  SELECT $1::uuid, a.actor_key_id, a.actor_label, a.action, a.target, a.details
    FROM jsonb_to_recordset($14::jsonb) AS a(n int, actor_key_id uuid, actor_label text, action text, target text, details jsonb)
   ORDER BY a.n
)
SELECT (SELECT count(*) FROM ev)::int AS events`;

/** Writes many events' rows in one statement (jsonb parameters: the way where COPY is not taken, see writeBatchCopied). */
export async function writeBatch(query: Query, rows: BatchRows): Promise<void> {
  const [result] = await query<{ events: number }>(BATCH_SQL, [
    rows.merchantId,
    rows.programVersionId,
    JSON.stringify(
      rows.events.map((e) => ({ s: e.seq.toString(), t: e.type, m: e.member ?? undefined, a: iso(e.at), l: e.line, k: e.key ?? undefined, h: e.bodyHash, rc: e.refusalCode ?? undefined, r: e.refusal ?? undefined })),
    ),
    JSON.stringify(
      rows.orders.map((o) => orderColumns(o, o.refunds)),
    ),
    JSON.stringify(
      rows.inserts.map(insertColumns),
    ),
    JSON.stringify(
      rows.entries.map((e, n) => entryColumns(e, n, e.eventSeq)),
    ),
    PAYLOAD_VERSION,
    JSON.stringify(rows.notifications.map((x, n) => notificationColumns(x, n, x.eventSeq))),
    JSON.stringify(
      rows.referrals.map((r) => ({ id: r.id, referrer_id: r.referrerId, referee_id: r.refereeId, created_at: iso(r.createdAt), rewarded_at: iso(r.rewardedAt), reward_order_id: r.rewardOrderId })),
    ),
    JSON.stringify(rows.rewarded.map((r) => ({ id: r.id, rewarded_at: iso(r.rewardedAt), order_id: r.orderId }))),
    JSON.stringify(rows.orderUpdates),
    JSON.stringify(rows.clubInserts.map((c) => ({ id: c.id, member_id: c.memberId, club: c.club, since: iso(c.since), until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
    JSON.stringify(rows.clubUpdates.map((c) => ({ id: c.id, until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
    JSON.stringify(rows.audits.map((a, n) => ({ n, actor_key_id: a.actorKeyId, actor_label: a.actorLabel, action: a.action, target: a.target, details: a.details }))),
  ]);
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
  for (let i = 0; i < updates.length; i += perStatement) counts.push(query<{ updated: number }>(MEMBERS_SQL, [JSON.stringify(updates.slice(i, i + perStatement).map(updateColumns))]));
  let updated = 0;
  for (const [r] of await Promise.all(counts)) updated += r?.updated ?? 0;
  return updated;
}

// ---------------------------------------------------------------- the batch by COPY

/**
 * `COPY … FROM STDIN` of `data` (rows in COPY's text format) on the
 * batch's connection; resolves to the rows copied.
 */
export type Copy = (statement: string, data: string) => Promise<number>;

interface CopyConnection {
  query(text: string): void;
  stream: { write(chunk: Buffer): boolean };
}

// The protocol's CopyData ('d', length, bytes) and CopyDone ('c', length).
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

/**
 * A COPY FROM STDIN sent whole at once: the statement, its data and the end
 * of the data in one write, without waiting for the server's CopyInResponse.
 * The protocol allows it: when the COPY fails before copying (an aborted
 * transaction), the server drops the CopyData and CopyDone that follow it
 * (protocol-flow, "COPY Operations"). So it can go behind the statements
 * already pipelined on the connection, as the batch's other statements do.
 * pg-copy-streams, the usual library for COPY with node-postgres, cannot:
 * it waits for CopyInResponse before it sends the data (a round trip
 * through the import's busy event loop for each table of each chunk), and
 * node-postgres refuses its query class on a pipelined connection. A
 * subclass of pg's own Query is accepted there, and its answers
 * (CommandComplete "COPY n", an error, ReadyForQuery) are a plain query's.
 */
class CopyIn extends pg.Query {
  constructor(statement: string, data: string, callback: (error: Error | undefined, result: pg.QueryResult) => void) {
    super(statement, callback as never);
    const bytes = Buffer.from(data);
    this.submit = (connection) => {
      const c = connection as unknown as CopyConnection;
      c.query(statement);
      // The data as one CopyData message (a message may hold any part of the data), written to the
      // socket as it is: pg's serializer (sendCopyFromChunk) would copy megabytes into its own buffer first.
      const head = Buffer.allocUnsafe(5);
      head[0] = 0x64;
      head.writeUInt32BE(bytes.length + 4, 1);
      c.stream.write(head);
      c.stream.write(bytes);
      c.stream.write(COPY_DONE);
    };
    // pg's Query answers CopyInResponse with CopyFail ("no source stream"): the data is already on its way.
    (this as unknown as { handleCopyInResponse: () => void }).handleCopyInResponse = () => undefined;
  }
}

/** Runs a COPY FROM STDIN of `data` on a node-postgres client (pipelined or not). */
export function copyIn(client: pg.ClientBase, statement: string, data: string): Promise<number> {
  return new Promise((resolve, reject) => {
    client.query(new CopyIn(statement, data, (error, result) => (error ? reject(error) : resolve(result.rowCount ?? 0))));
  });
}

// COPY's text format: a tab between fields, a newline after each row, \N for
// null; a backslash, tab, newline or carriage return in a value is written
// with a backslash (JSON text has no raw tabs or newlines, but backslashes).
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const copyText = (value: string | null | undefined): string =>
  value === null || value === undefined ? '\\N' : COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : value;
/** JSON text: JSON.stringify writes tabs, newlines and carriage returns as escapes, so only its backslashes are doubled. */
const copyJsonText = (json: string): string => (json.includes('\\') ? json.replace(/\\/g, '\\\\') : json);
const copyJson = (value: unknown): string => (value === null || value === undefined ? '\\N' : copyJsonText(JSON.stringify(value)));
/** An instant's text, the last one remembered: an event's entries and notifications mostly share its time (toISOString was ~0.25 s per 30,000 lines). */
const copyInstants = () => {
  let lastMs = NaN;
  let lastText = '';
  return (ms: number | null): string => {
    if (ms === null) return '\\N';
    if (ms !== lastMs) {
      lastMs = ms;
      lastText = new Date(ms).toISOString();
    }
    return lastText;
  };
};

const COPY_EVENTS = 'COPY events (seq, merchant_id, type, member, at, line, key, body_hash, program_version_id, accepted, refusal_code, refusal) FROM STDIN';
const COPY_ORDERS = 'COPY orders (id, merchant_id, member_id, external_id, body_hash, lines, channel, total, at, record, refunds) FROM STDIN';
const COPY_ENTRIES = 'COPY ledger_entries (merchant_id, member_id, at, kind, points, rule, ref, line, reason, actor, program_version_id, order_id, event_seq) FROM STDIN';
const COPY_NOTIFICATIONS = 'COPY notifications (merchant_id, type, member, at, version, payload, event_seq) FROM STDIN';

/** New members: before the COPYs, whose key checks look for them. */
const BATCH_MEMBERS_SQL = `
WITH ins AS (
  INSERT INTO members (id, merchant_id, external_id, birthday, signup_at, last_event_at, state, balance, tier, next_due_at, updated_at)
  SELECT n.id, $1::uuid, n.external_id, n.birthday, n.signup_at, n.last_event_at, n.state, n.balance, n.tier, n.next_due_at, now()
    FROM jsonb_to_recordset($2::jsonb) AS n(id uuid, external_id text, birthday text, signup_at timestamptz, last_event_at timestamptz, state jsonb, balance bigint, tier text, next_due_at timestamptz)
  RETURNING id
)
SELECT count(*)::int AS inserted FROM ins`;

/** The batch's other rows (a few per chunk), after the COPYs: referrals name the batch's orders. BATCH_SQL's. */
const BATCH_REST_SQL = `
WITH ordu AS (
  UPDATE orders o SET refunds = w.refunds, record = w.record
    FROM jsonb_to_recordset($2::jsonb) AS w(id uuid, refunds jsonb, record jsonb)
   WHERE o.id = w.id
  RETURNING o.id
), clb AS (
  INSERT INTO club_memberships (id, member_id, club, since, until, cancelled_at)
  SELECT c.id, c.member_id, c.club, c.since, c.until, c.cancelled_at
    FROM jsonb_to_recordset($3::jsonb) AS c(id uuid, member_id uuid, club text, since timestamptz, until timestamptz, cancelled_at timestamptz)
  RETURNING id
), clu AS (
  UPDATE club_memberships c SET until = w.until, cancelled_at = w.cancelled_at
    FROM jsonb_to_recordset($4::jsonb) AS w(id uuid, until timestamptz, cancelled_at timestamptz)
   WHERE c.id = w.id
  RETURNING c.id
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
    FROM jsonb_to_recordset($7::jsonb) AS a(n int, actor_key_id uuid, actor_label text, action text, target text, details jsonb)
   ORDER BY a.n
  RETURNING 1
)
SELECT (SELECT count(*) FROM ordu)::int + (SELECT count(*) FROM clb)::int + (SELECT count(*) FROM clu)::int
     + (SELECT count(*) FROM ref)::int + (SELECT count(*) FROM rew)::int + (SELECT count(*) FROM aud)::int AS written`;

/** Ledger entries that name an order the batch does not hold (pending points vesting, dsl.md 4.9), as BATCH_SQL's COALESCE finds them. */
const NAMED_ORDERS_SQL = `SELECT external_id AS "externalId", id::text AS "id" FROM orders WHERE merchant_id = $1::uuid AND external_id = ANY($2::text[])`;

/**
 * Deliveries of the notifications this transaction recorded for the
 * merchant (BATCH_SQL's dlv, once per batch: the same rows in the same
 * order, by notification and endpoint).
 */
const BATCH_DELIVERIES_SQL = `
INSERT INTO deliveries (merchant_id, notification_id, endpoint_id, member)
SELECT n.merchant_id, n.id, e.id, n.member
  FROM webhook_endpoints e
  JOIN notifications n ON n.merchant_id = e.merchant_id AND n.tx = (pg_current_xact_id()::text)::bigint AND (cardinality(e.types) = 0 OR n.type = ANY(e.types))
 WHERE e.merchant_id = $1::uuid AND e.enabled
 ORDER BY n.id, e.id`;

/**
 * Writes many events' rows as BATCH_SQL does, with the four tables an import
 * fills by the thousand (events, orders, ledger entries, notifications) by
 * COPY in text format: no jsonb document for the server to parse and take
 * apart, nor an object per row to serialise. Resolves once every statement
 * has been sent (the batch's next chunk goes behind them); `written`, once
 * they are done. The batch's deliveries are writeBatchDeliveries'.
 */
export async function writeBatchCopied(query: Query, copy: Copy, rows: BatchRows): Promise<{ written: Promise<unknown> }> {
  const { merchantId, programVersionId } = rows;
  const copyInstant = copyInstants();
  // Entries naming an order the batch does not hold: looked up first (the statements that follow wait for the answer).
  const unnamed = [...new Set(rows.entries.flatMap((e) => (e.orderId === null && e.ref !== null ? [e.ref] : [])))];
  const named = new Map<string, string>();
  if (unnamed.length > 0) {
    for (const o of await query<{ externalId: string; id: string }>(NAMED_ORDERS_SQL, [merchantId, unnamed])) named.set(o.externalId, o.id);
  }
  const statements: Promise<unknown>[] = [];
  if (rows.inserts.length > 0) statements.push(query(BATCH_MEMBERS_SQL, [merchantId, JSON.stringify(rows.inserts.map(insertColumns))]));
  // A row as one template literal (\t between fields), the rows joined once with their last newline:
  // a text built by appending rows (or a "\n" appended to the joined rows) was a rope, and flattening
  // it when encoding to bytes took ~0.45 s per 30,000 lines; an array of fields joined per row took
  // about twice as long as the template (the join of a few strings builds a rope too).
  const table = <T>(list: readonly T[], row: (item: T) => string) => {
    const lines = list.map(row);
    lines.push('');
    return lines.join('\n');
  };
  if (rows.events.length > 0) {
    const data = table(
      rows.events,
      (e) =>
        `${e.seq}\t${merchantId}\t${e.type}\t${copyText(e.member)}\t${copyInstant(e.at)}\t${copyJsonText(e.line)}\t${copyText(e.key)}\t${e.bodyHash}\t${programVersionId}\t${e.refusalCode === null ? 't' : 'f'}\t${copyText(e.refusalCode)}\t${copyText(e.refusal)}`,
    );
    statements.push(copy(COPY_EVENTS, data));
  }
  if (rows.orders.length > 0) {
    const data = table(
      rows.orders,
      (o) =>
        `${o.id}\t${merchantId}\t${o.memberId}\t${copyText(o.externalId)}\t${o.bodyHash}\t${copyJson(o.lines)}\t${copyText(o.channel)}\t${o.total}\t${copyInstant(o.at)}\t${copyJson(o.record)}\t${copyJson(o.refunds)}`,
    );
    statements.push(copy(COPY_ORDERS, data));
  }
  if (rows.entries.length > 0) {
    const data = table(rows.entries, (e) => {
      const orderId = e.orderId ?? (e.ref === null ? null : named.get(e.ref)) ?? '\\N';
      return `${merchantId}\t${e.memberId}\t${copyInstant(e.at)}\t${e.kind}\t${e.points}\t${copyText(e.rule)}\t${copyText(e.ref)}\t${e.line ?? '\\N'}\t${copyText(e.reason)}\t${copyText(e.actor)}\t${programVersionId}\t${orderId}\t${e.eventSeq}`;
    });
    statements.push(copy(COPY_ENTRIES, data));
  }
  if (rows.notifications.length > 0) {
    const data = table(rows.notifications, (n) => `${merchantId}\t${n.type}\t${copyText(n.member)}\t${copyInstant(n.at)}\t${PAYLOAD_VERSION}\t${copyJson(n.payload)}\t${n.eventSeq}`);
    statements.push(copy(COPY_NOTIFICATIONS, data));
  }
  if (rows.orderUpdates.length + rows.clubInserts.length + rows.clubUpdates.length + rows.referrals.length + rows.rewarded.length + rows.audits.length > 0) {
    statements.push(
      query(BATCH_REST_SQL, [
        merchantId,
        JSON.stringify(rows.orderUpdates),
        JSON.stringify(rows.clubInserts.map((c) => ({ id: c.id, member_id: c.memberId, club: c.club, since: iso(c.since), until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
        JSON.stringify(rows.clubUpdates.map((c) => ({ id: c.id, until: iso(c.until), cancelled_at: iso(c.cancelledAt) }))),
        JSON.stringify(
          rows.referrals.map((r) => ({ id: r.id, referrer_id: r.referrerId, referee_id: r.refereeId, created_at: iso(r.createdAt), rewarded_at: iso(r.rewardedAt), reward_order_id: r.rewardOrderId })),
        ),
        JSON.stringify(rows.rewarded.map((r) => ({ id: r.id, rewarded_at: iso(r.rewardedAt), order_id: r.orderId }))),
        JSON.stringify(rows.audits.map((a, n) => ({ n, actor_key_id: a.actorKeyId, actor_label: a.actorLabel, action: a.action, target: a.target, details: a.details }))),
      ]),
    );
  }
  const written = Promise.all(statements);
  written.catch(() => undefined); // the caller awaits it
  return { written };
}

/** The deliveries of the notifications a batch written by writeBatchCopied recorded; after its last chunk. */
export async function writeBatchDeliveries(query: Query, merchantId: string): Promise<void> {
  await query(BATCH_DELIVERIES_SQL, [merchantId]);
}
