// PGlite is one session for every connection to it (db/pglite-worker.mjs): each connection must find it as a new one would be.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmbedded, type EmbeddedDatabase } from '../../src/server/db/embedded.ts';
import { openDatabase, poolOf } from '../../src/server/db/index.ts';
import { createMerchant } from '../../src/server/services/merchants.ts';
import * as members from '../../src/server/services/members.ts';

describe('connections to the embedded database', { timeout: 60_000 }, () => {
  let embedded: EmbeddedDatabase;
  beforeAll(async () => {
    embedded = await startEmbedded(null);
  }, 60_000);
  afterAll(async () => {
    await embedded?.stop();
  });

  const connected = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  test('a connection finds no prepared statement, setting or temporary table of the one before', async () => {
    await connected(async (c) => {
      await c.query({ name: 'same_name', text: 'SELECT $1::int + 1 AS v', values: [1] });
      await c.query(`SET statement_timeout = '1234ms'`);
      await c.query('CREATE TEMP TABLE left_behind (x int)');
    });
    const after = await connected(async (c) => ({
      // node-postgres prepares the name again on a new connection.
      prepared: (await c.query({ name: 'same_name', text: 'SELECT $1::int + 1 AS v', values: [2] })).rows[0].v,
      timeout: (await c.query('SHOW statement_timeout')).rows[0].statement_timeout,
      temp: (await c.query(`SELECT to_regclass('pg_temp.left_behind') IS NULL AS gone`)).rows[0].gone,
    }));
    expect(after).toEqual({ prepared: 3, timeout: '0', temp: true });
  });

  test('the statement after a failed one runs: the pool replaces the failed connection at once, before the socket server has seen it close', async () => {
    const db = await openDatabase({ databaseUrl: embedded.url });
    try {
      // U+0000 in a text parameter fails the statement (22021); node-postgres then ends the connection.
      await expect(db.prisma.member.findFirst({ where: { externalId: 'a\u0000b' } })).rejects.toThrow(/invalid byte sequence/);
      // Before the fix: "Connection terminated unexpectedly" (the socket server took one connection at a time).
      await expect(db.prisma.order.findFirst({ where: { externalId: 'A-1' } })).resolves.toBeNull();
      await expect(db.prisma.member.count()).resolves.toBe(0);
    } finally {
      await db.close();
    }
  });

  test('writes go on after the pool replaced its connection (as it does an idle one after 10 s)', async () => {
    const db = await openDatabase({ databaseUrl: embedded.url });
    try {
      const m = await createMerchant(db.prisma, 'sessions', readFileSync('examples/coffee-chain.loyalty', 'utf8'), { sandbox: true });
      const scope = { prisma: db.prisma, merchantId: m.id };
      const order = (member: string, orderId: string, at: string) =>
        members.recordOrder(scope, { memberId: member, orderId, lines: [{ sku: 'LATTE', category: 'espresso', qty: 1, price: '4.50' }], at });
      await members.signup(scope, { memberId: 'ava', at: '2026-03-01T09:00:00Z' });
      const first = await order('ava', 'A-1', '2026-03-02T09:00:00Z');
      // The connection ends (release with an error destroys it); the next write opens another.
      const client = await poolOf(db.prisma).connect();
      client.release(true);
      await members.signup(scope, { memberId: 'ben', at: '2026-03-03T09:00:00Z' });
      // Before the fix: "prepared statement "loyalty_1" already exists" (ben's row is not cached, so his order takes the statements ava's first one prepared).
      const second = await order('ben', 'B-1', '2026-03-04T09:00:00Z');
      expect(second.points).toBe(first.points);
    } finally {
      await db.close();
    }
  });
});
