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
  /** The pool Prisma's adapter draws from: for plain SQL that has to bypass Prisma (an import's batches). */
  pool: pg.Pool;
  /** The connection string in use (embedded: the loopback PGlite). */
  url: string;
  embedded: boolean;
  /** SQL statements sent so far (for tests and diagnostics). */
  statements(): number;
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

function connect(url: string, opts: { poolSize: number; onClose?: (() => Promise<void>) | undefined }): Database {
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize });
  // An idle connection that the server drops (restart, failover) must not
  // crash the process: log it; the pool replaces the connection.
  pool.on('error', (error) => console.error('database connection lost:', error.message));
  let statements = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (...args: unknown[]) => {
      statements++;
      return query(...args);
    };
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    url,
    embedded: Boolean(opts.onClose),
    statements: () => statements,
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await opts.onClose?.();
    },
  };
}
