// Start-up migrations: applied once, in transactions, recorded as Prisma records them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmbedded, type EmbeddedDatabase } from '../../src/server/db/embedded.ts';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../../src/server/db/migrate.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('migrations', { timeout: 60_000 }, () => {
  let postgres: TestPostgres;
  let embedded: EmbeddedDatabase;

  beforeAll(async () => {
    [postgres, embedded] = await Promise.all([startPostgres(), startEmbedded(null)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([postgres?.stop(), embedded?.stop()]);
  });

  test('every migration folder holds a migration.sql, in name order', () => {
    const names = readMigrations().map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    expect([...names].sort()).toEqual(names);
  });

  test.each([
    ['postgres', () => postgres.url, true],
    // PGlite serves one connection at a time, so only one process migrates it.
    ['pglite', () => embedded.url, false],
  ])('%s: applied once, recorded in _prisma_migrations with Prisma checksums', async (_name, url, concurrent) => {
    const all = readMigrations().map((m) => m.name);
    // Two processes starting at once: the advisory lock lets one apply, the other sees it done.
    const [a, b] = concurrent ? await Promise.all([migrate(url()), migrate(url())]) : [await migrate(url()), await migrate(url())];
    expect([...a.applied, ...b.applied].sort()).toEqual(all);
    expect((await migrate(url())).applied).toEqual([]);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null }>(
      url(),
      'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    for (const r of rows) {
      const sql = readFileSync(join(MIGRATIONS_DIR, r.migration_name, 'migration.sql'));
      expect(r.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(r.finished_at).not.toBeNull();
      expect(r.rolled_back_at).toBeNull();
      expect(r.applied_steps_count).toBe(1);
    }
    const tables = await query<{ tablename: string }>(url(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['merchants', 'api_keys', 'program_versions', 'members', 'orders', 'ledger_entries', 'club_memberships', 'referrals']),
    );
  });
});
