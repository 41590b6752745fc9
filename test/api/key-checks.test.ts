// The keys of events, orders, ledger entries and notifications are checked
// once per statement by triggers (migration 20261207030000_statement_key_checks)
// instead of foreign keys: a row naming a missing or another merchant's row is
// refused on insert and on update, a named row cannot be deleted, have its key
// changed or be truncated away, and a delete racing an insert loses on one
// side. On embedded PGlite and on a real PostgreSQL.
import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import { poolOf } from '../../src/server/db/index.ts';
import { example, newMerchant, ok, verifiedServer, type Backend, type TestServer } from './client.ts';
import { RecordOrderDocument, SignupDocument } from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const MISSING = '00000000-0000-4000-8000-000000000001';

interface Fixture {
  merchant: string;
  other: string;
  member: string;
  /** A member of `other`. */
  stranger: string;
  version: string;
  order: string;
  seq: string;
  entry: string;
  notification: string;
}

function keyChecks(backend: Backend) {
  describe(`statement-level key checks on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    verifiedServer(backend, (s) => (server = s));

    /** Runs the statements in a transaction that is rolled back: 'accepted', or the error's SQLSTATE and constraint. */
    const attempt = async (statements: [string, unknown[]?][], isolation = 'READ COMMITTED'): Promise<string> => {
      const client = await poolOf(server.db.prisma).connect();
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        for (const [sql, params] of statements) await client.query(sql, params ?? []);
        return 'accepted';
      } catch (error) {
        const e = error as pg.DatabaseError;
        return `${e.code} ${e.constraint ?? e.message}`;
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };

    const fixture = async (): Promise<Fixture> => {
      const [m, o] = [await newMerchant(server, COFFEE), await newMerchant(server, COFFEE)];
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ava', at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, o.key, SignupDocument, { input: { memberId: 'bob', at: '2026-03-01T09:00:00Z' } });
      await ok(server.app, m.key, RecordOrderDocument, {
        input: { memberId: 'ava', orderId: 'A-1', lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }], at: '2026-03-02T09:00:00Z' },
      });
      const { prisma } = server.db;
      const member = await prisma.member.findFirstOrThrow({ where: { merchantId: m.id, externalId: 'ava' } });
      const entry = await prisma.ledgerEntry.findFirstOrThrow({ where: { memberId: member.id, orderId: { not: null }, eventSeq: { not: null } } });
      return {
        merchant: m.id,
        other: o.id,
        member: member.id,
        stranger: (await prisma.member.findFirstOrThrow({ where: { merchantId: o.id, externalId: 'bob' } })).id,
        version: entry.programVersionId,
        order: entry.orderId!,
        seq: entry.eventSeq!.toString(),
        entry: entry.id.toString(),
        notification: (await prisma.notification.findFirstOrThrow({ where: { merchantId: m.id } })).id.toString(),
      };
    };

    const entry = (merchant: string, member: string, version: string, order: string | null, seq: string | null): [string, unknown[]] => [
      `INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, program_version_id, order_id, event_seq) VALUES ($1::uuid, $2::uuid, now(), 'adjust', 1, $3::uuid, $4::uuid, $5::bigint)`,
      [merchant, member, version, order, seq],
    ];
    const event = (merchant: string, version: string): [string, unknown[]] => [
      `INSERT INTO events (merchant_id, type, member, at, line, body_hash, program_version_id, accepted) VALUES ($1::uuid, 'event', 'ava', now(), '{}', 'h', $2::uuid, true)`,
      [merchant, version],
    ];
    const order = (merchant: string, member: string): [string, unknown[]] => [
      `INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, total, at) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'X-' || gen_random_uuid(), 'h', '[]', 0, now())`,
      [merchant, member],
    ];
    const notification = (merchant: string): [string, unknown[]] => [
      `INSERT INTO notifications (merchant_id, type, member, at, payload) VALUES ($1::uuid, 'points.earned', 'ava', now(), '{}')`,
      [merchant],
    ];

    test('rows naming existing rows are accepted, alone and many to a statement', async () => {
      const f = await fixture();
      expect(await attempt([entry(f.merchant, f.member, f.version, f.order, f.seq)])).toBe('accepted');
      expect(await attempt([entry(f.merchant, f.member, f.version, null, null)])).toBe('accepted');
      expect(await attempt([event(f.merchant, f.version), order(f.merchant, f.member), notification(f.merchant)])).toBe('accepted');
      // Rows naming rows inserted by the same statement (as a write's statement does), checked when it ends.
      const many = `WITH o AS (INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, total, at)
                     SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'M-' || i, 'h', '[]', 0, now() FROM generate_series(1, 50) i RETURNING id),
                     e AS (INSERT INTO events (merchant_id, type, member, at, line, body_hash, program_version_id, accepted)
                     VALUES ($1::uuid, 'order', 'ava', now(), '{}', 'h', $3::uuid, true) RETURNING seq)
                   INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, program_version_id, order_id, event_seq)
                   SELECT $1::uuid, $2::uuid, now(), 'adjust', 1, $3::uuid, o.id, e.seq FROM o, e`;
      expect(await attempt([[many, [f.merchant, f.member, f.version]]])).toBe('accepted');
    });

    test('an inserted row naming a missing row, or a member of another merchant, is refused with the constraint it breaks', async () => {
      const f = await fixture();
      const cases: [[string, unknown[]], string][] = [
        [entry(f.merchant, MISSING, f.version, null, null), 'ledger_entries_merchant_id_member_id_fkey'],
        [entry(f.merchant, f.stranger, f.version, null, null), 'ledger_entries_merchant_id_member_id_fkey'],
        [entry(f.merchant, f.member, MISSING, null, null), 'ledger_entries_program_version_id_fkey'],
        [entry(f.merchant, f.member, f.version, MISSING, null), 'ledger_entries_order_id_fkey'],
        [entry(f.merchant, f.member, f.version, null, '999999999'), 'ledger_entries_event_seq_fkey'],
        [event(MISSING, f.version), 'events_merchant_id_fkey'],
        [event(f.merchant, MISSING), 'events_program_version_id_fkey'],
        [order(f.merchant, f.stranger), 'orders_merchant_id_member_id_fkey'],
        [order(f.merchant, MISSING), 'orders_merchant_id_member_id_fkey'],
        [notification(MISSING), 'notifications_merchant_id_fkey'],
      ];
      for (const [statement, constraint] of cases) expect(await attempt([statement])).toBe(`23503 ${constraint}`);
      // One bad row among good ones refuses the statement.
      const mixed = `INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, program_version_id)
                     SELECT $1::uuid, CASE WHEN i = 40 THEN $3::uuid ELSE $2::uuid END, now(), 'adjust', 1, $4::uuid FROM generate_series(1, 50) i`;
      expect(await attempt([[mixed, [f.merchant, f.member, f.stranger, f.version]]])).toBe('23503 ledger_entries_merchant_id_member_id_fkey');
    });

    test('an update making a row name a missing row is refused', async () => {
      const f = await fixture();
      expect(await attempt([[`UPDATE ledger_entries SET order_id = $2::uuid WHERE id = $1::bigint`, [f.entry, MISSING]]])).toBe('23503 ledger_entries_order_id_fkey');
      expect(await attempt([[`UPDATE ledger_entries SET member_id = $2::uuid WHERE id = $1::bigint`, [f.entry, f.stranger]]])).toBe('23503 ledger_entries_merchant_id_member_id_fkey');
      expect(await attempt([[`UPDATE orders SET merchant_id = $2::uuid WHERE id = $1::uuid`, [f.order, f.other]]])).toBe('23503 orders_merchant_id_member_id_fkey');
      expect(await attempt([[`UPDATE notifications SET merchant_id = $2::uuid WHERE id = $1::bigint`, [f.notification, MISSING]]])).toBe('23503 notifications_merchant_id_fkey');
      // The event log's own rewrite mode (corrections) still cannot point an event elsewhere.
      expect(
        await attempt([[`SELECT set_config('loyalty.rewrite_events', 'on', true)`], [`UPDATE events SET program_version_id = $2::uuid WHERE seq = $1::bigint`, [f.seq, MISSING]]]),
      ).toBe('23503 events_program_version_id_fkey');
      // Updates that keep the keys are accepted (a refund rewrites an order).
      expect(await attempt([[`UPDATE orders SET refunds = '[]' WHERE id = $1::uuid`, [f.order]]])).toBe('accepted');
    });

    test('deleting a named row or changing its key is refused; a row nothing names may go', async () => {
      const f = await fixture();
      expect(await attempt([[`DELETE FROM members WHERE id = $1::uuid`, [f.member]]])).toBe('23503 orders_merchant_id_member_id_fkey');
      expect(await attempt([[`DELETE FROM ledger_entries WHERE member_id = $1::uuid`, [f.member]], [`DELETE FROM members WHERE id = $1::uuid`, [f.member]]])).toBe(
        '23503 orders_merchant_id_member_id_fkey',
      );
      expect(await attempt([[`UPDATE members SET id = gen_random_uuid() WHERE id = $1::uuid`, [f.member]]])).toBe('23503 orders_merchant_id_member_id_fkey');
      expect(await attempt([[`DELETE FROM orders WHERE id = $1::uuid`, [f.order]]])).toBe('23503 ledger_entries_order_id_fkey');
      expect(await attempt([[`UPDATE orders SET id = gen_random_uuid() WHERE id = $1::uuid`, [f.order]]])).toBe('23503 ledger_entries_order_id_fkey');
      expect(await attempt([[`DELETE FROM program_versions WHERE id = $1::uuid`, [f.version]]])).toMatch(/^23503 (events|ledger_entries)_program_version_id_fkey$/);
      expect(await attempt([[`UPDATE program_versions SET id = gen_random_uuid() WHERE id = $1::uuid`, [f.version]]])).toMatch(/^23503 /);
      expect(await attempt([[`UPDATE merchants SET id = gen_random_uuid() WHERE id = $1::uuid`, [f.merchant]]])).toMatch(/^23503 /);
      expect(await attempt([[`DELETE FROM merchants WHERE id = $1::uuid`, [f.merchant]]])).toMatch(/^23503 /);
      expect(await attempt([[`SELECT set_config('loyalty.rewrite_events', 'on', true)`], [`UPDATE events SET seq = -seq WHERE seq = $1::bigint`, [f.seq]]])).toBe(
        '23503 ledger_entries_event_seq_fkey',
      );
      // A member nothing names may go, but not under a transaction snapshot (a concurrent insert naming it could be missed).
      const raw: [string, unknown[]] = [
        `INSERT INTO members (id, merchant_id, external_id, state, signup_at, last_event_at, updated_at) VALUES ($1::uuid, $2::uuid, 'raw', '{}', now(), now(), now())`,
        [MISSING, f.merchant],
      ];
      expect(await attempt([raw, [`DELETE FROM members WHERE id = $1::uuid`, [MISSING]]])).toBe('accepted');
      expect(await attempt([raw, [`DELETE FROM members WHERE id = $1::uuid`, [MISSING]]], 'REPEATABLE READ')).toMatch(/^23503 .*repeatable read isolation/);
      expect(await attempt([[`UPDATE members SET balance = balance WHERE id = $1::uuid`, [f.member]]])).toBe('accepted');
    });

    test('the checks probe the named rows by index, however many rows the named tables hold', async () => {
      const f = await fixture();
      const client = await poolOf(server.db.prisma).connect();
      const scans = async () =>
        (await client.query<{ relname: string; seq_scan: string }>(`SELECT relname, seq_scan::text FROM pg_stat_xact_user_tables WHERE relname IN ('orders', 'events') ORDER BY relname`)).rows
          .map((r) => `${r.relname} ${r.seq_scan}`)
          .join(', ');
      try {
        await client.query('BEGIN');
        // Tables as a merchant's history leaves them (20,000 orders and events), then a statement of ledger
        // entries naming 1,000 of each, as an import's statement does.
        await client.query(
          `WITH o AS (INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, total, at)
                      SELECT gen_random_uuid(), $1::uuid, $2::uuid, 'S-' || i, 'h', '[]', 0, now() FROM generate_series(1, 20000) i RETURNING id)
           INSERT INTO events (merchant_id, type, member, at, line, body_hash, program_version_id, accepted)
           SELECT $1::uuid, 'order', 'ava', now(), '{}', 'h', $3::uuid, true FROM o`,
          [f.merchant, f.member, f.version],
        );
        const before = await scans();
        await client.query(
          `INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, program_version_id, order_id, event_seq)
           SELECT $1::uuid, $2::uuid, now(), 'adjust', 1, $3::uuid, o.id, e.seq
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM orders WHERE merchant_id = $1::uuid AND external_id LIKE 'S-%' ORDER BY id LIMIT 1000) o
             JOIN (SELECT seq, row_number() OVER (ORDER BY seq DESC) AS n FROM events WHERE merchant_id = $1::uuid ORDER BY seq DESC LIMIT 1000) e ON e.n = o.n,
                  generate_series(1, 2)`,
          [f.merchant, f.member, f.version],
        );
        // The statement's own reads (by the indexes above) scan neither table; the checks must not either.
        expect(await scans()).toBe(before);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    });

    test('truncating a table whose rows are named is refused', async () => {
      await fixture();
      for (const table of ['members', 'orders', 'events', 'program_versions', 'merchants']) {
        expect(await attempt([[`TRUNCATE ${table} CASCADE`]])).toMatch(/^23503 truncating/);
      }
    });

    test.runIf(backend === 'postgres')('a delete racing an insert that names its row: whichever commits second is refused', async () => {
      const f = await fixture();
      const pool = poolOf(server.db.prisma);
      // Members with no events (verify would flag them, so none outlives the test).
      const raw = async () =>
        (
          await pool.query<{ id: string }>(
            `INSERT INTO members (id, merchant_id, external_id, state, signup_at, last_event_at, updated_at)
             VALUES (gen_random_uuid(), $1::uuid, 'raw-' || gen_random_uuid(), '{}', now(), now(), now()) RETURNING id::text`,
            [f.merchant],
          )
        ).rows[0]!.id;
      const outcome = (p: Promise<unknown>) => p.then(
        () => 'accepted',
        (e: pg.DatabaseError) => `${e.code} ${e.constraint}`,
      );
      const settle = () => new Promise((r) => setTimeout(r, 300));
      const [a, b] = [await pool.connect(), await pool.connect()];
      try {
        // The delete first: the insert waits on the deleted row's lock, then finds it gone.
        const first = await raw();
        await a.query('BEGIN');
        await a.query(`DELETE FROM members WHERE id = $1::uuid`, [first]);
        await b.query('BEGIN');
        const inserting = outcome(b.query(...entry(f.merchant, first, f.version, null, null)));
        await settle();
        await a.query('COMMIT');
        expect(await inserting).toBe('23503 ledger_entries_merchant_id_member_id_fkey');
        await b.query('ROLLBACK');
        // The insert first: the delete waits on the insert's lock (FOR KEY SHARE), then sees its row.
        const second = await raw();
        await b.query('BEGIN');
        await b.query(...entry(f.merchant, second, f.version, null, null));
        await a.query('BEGIN');
        const deleting = outcome(a.query(`DELETE FROM members WHERE id = $1::uuid`, [second]));
        await settle();
        await b.query('COMMIT');
        expect(await deleting).toBe('23503 ledger_entries_merchant_id_member_id_fkey');
        await a.query('ROLLBACK');
        await pool.query(`DELETE FROM ledger_entries WHERE member_id = $1::uuid`, [second]);
        await pool.query(`DELETE FROM members WHERE id = $1::uuid`, [second]);
      } finally {
        a.release();
        b.release();
      }
    });
  });
}

keyChecks('pglite');
keyChecks('postgres');
