// One way to the database: with DATABASE_URL, that PostgreSQL; without it, an
// embedded PGlite served on loopback. Everything after the connection string
// is the same code path: migrate, then a Prisma client on adapter-pg.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@prisma/client';
import pg from 'pg';
import { startEmbedded, type EmbeddedDatabase } from './embedded.ts';
import { migrate } from './migrate.ts';

export interface Database {
  prisma: PrismaClient;
  /** The connection string in use (embedded: the loopback PGlite). */
  url: string;
  embedded: boolean;
  /** SQL statements sent so far (for tests and diagnostics). */
  statements(): number;
  /**
   * Round trips so far: statements sent while their connection had none
   * outstanding (one sent behind another is pipelined with it and waits for
   * no answer of its own).
   */
  roundTrips(): number;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL connection string; absent = embedded PGlite. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; null = in memory. */
  dataDir?: string | null;
  poolSize?: number;
  /** Apply prisma/migrations first (default true). */
  migrate?: boolean;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  let embedded: EmbeddedDatabase | null = null;
  let url = options.databaseUrl;
  if (!url) {
    embedded = await startEmbedded(options.dataDir ?? null);
    url = embedded.url;
  }
  try {
    if (options.migrate !== false) await migrate(url);
    return connect(url, {
      // PGlite executes one connection's statements at a time; a larger pool
      // would interleave transactions on its single session.
      poolSize: embedded ? 1 : (options.poolSize ?? 10),
      onClose: embedded ? () => embedded.stop() : undefined,
    });
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/** The pg pool under each Prisma client that openDatabase made. */
const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * The pool under a Prisma client of openDatabase: the hot write path
 * (recordOrder, the API key lookup) and an import's batches run plain SQL on
 * the same connections (services/transaction.ts, members.importBatch).
 */
export function poolOf(prisma: PrismaClient): pg.Pool {
  const pool = pools.get(prisma);
  if (!pool) throw new Error('a Prisma client not made by openDatabase has no pg pool');
  return pool;
}

function connect(url: string, opts: { poolSize: number; onClose?: (() => Promise<void>) | undefined }): Database {
  // Pipelined clients send a statement at once even while an earlier one is
  // outstanding, so that BEGIN and a transaction's first statement (or its last
  // and COMMIT) are one round trip; answers still come back in order.
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize, pipeline: true });
  // An idle connection that the server drops (restart, failover) must not
  // crash the process: log it; the pool replaces the connection.
  pool.on('error', (error) => console.error('database connection lost:', error.message));
  let statements = 0;
  let roundTrips = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    let outstanding = 0;
    // One callback per connection, not a closure per statement (the hot path's statements are counted too).
    const done = () => void outstanding--;
    (client as unknown as { query: typeof query }).query = (...args: unknown[]) => {
      statements++;
      if (outstanding === 0) roundTrips++;
      const result = query(...args);
      if (result instanceof Promise) {
        outstanding++;
        result.then(done, done);
      }
      return result;
    };
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  pools.set(prisma, pool);
  return {
    prisma,
    url,
    embedded: Boolean(opts.onClose),
    statements: () => statements,
    roundTrips: () => roundTrips,
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await opts.onClose?.();
    },
  };
}
