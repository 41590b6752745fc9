// One database transaction per write, retried when another write got there
// first: an optimistic-concurrency miss on a member's `version`, a
// serialization failure or deadlock, or a unique-index race (two requests
// creating the same order id or member at once; the retry then sees the
// winner's row and answers from it).
//
// Two kinds of transaction: Prisma's interactive one (most writes), and a
// plain-SQL one on a client of the same pg pool (recordOrder, the hot path:
// its CPU profile put ~2 ms of the Node thread per order in Prisma's client,
// its transaction machinery and raw-query result mapping through the query
// engine, more than the engine and GraphQL together). The plain one sends
// BEGIN with its first statement and COMMIT with its last, so that a
// transaction of two statements is two round trips (the pool's clients
// pipeline, db/index.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Prisma, PrismaClient } from '@prisma/client';
import type pg from 'pg';
import { DomainError } from './errors.ts';

export type Tx = Prisma.TransactionClient;

/** Statements of one transaction, plain SQL with $1… parameters. */
export interface Sql {
  /**
   * One statement's rows. `commit`: it is the transaction's last, and a
   * transaction that can (SqlTransaction) sends its COMMIT with it, in the
   * same round trip; Prisma's transaction commits when its callback returns.
   */
  query<T>(text: string, values: readonly unknown[], options?: { commit?: boolean }): Promise<T[]>;
}

/** Prisma's interactive transaction as an Sql. */
export function prismaSql(tx: Tx): Sql {
  return { query: <T>(text: string, values: readonly unknown[]) => tx.$queryRawUnsafe<T[]>(text, ...values) };
}

/**
 * Statements of a SqlTransaction are prepared once per connection, named
 * by their text (constants of the services, so a bounded set): the server
 * parses and plans a write statement of seven CTEs once instead of on every
 * order.
 */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `loyalty_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

/**
 * A transaction on one pg client: BEGIN goes out with the first statement,
 * COMMIT with the one marked `commit` (nothing may follow it). A statement
 * that fails before COMMIT makes the server answer COMMIT with ROLLBACK, so
 * a write statement must fail itself when it finds something wrong (write.ts
 * checks its version checks in SQL).
 */
export class SqlTransaction implements Sql {
  private state: 'new' | 'open' | 'committed' = 'new';

  constructor(private readonly client: pg.PoolClient) {}

  /** Whether the server still holds an open transaction (one to roll back on an error). */
  get open(): boolean {
    return this.state === 'open';
  }

  /** COMMIT, unless the last statement took it along (or nothing was sent). */
  async commit(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'committed';
    await this.client.query('COMMIT');
  }

  async query<T>(text: string, values: readonly unknown[], options: { commit?: boolean } = {}): Promise<T[]> {
    if (this.state === 'committed') throw new Error('a statement after the transaction committed');
    const sent: Promise<pg.QueryResult>[] = [];
    // One write for all of them (pg writes each query's messages under a cork of its own).
    const stream = (this.client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
    stream?.cork?.();
    try {
      if (this.state === 'new') sent.push(this.client.query('BEGIN'));
      this.state = 'open';
      sent.push(this.client.query({ name: statementName(text), text, values: values as unknown[] }));
      if (options.commit) {
        sent.push(this.client.query('COMMIT'));
        this.state = 'committed';
      }
    } finally {
      stream?.uncork?.();
    }
    const settled = await Promise.allSettled(sent);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      // A failed COMMIT, or COMMIT after a failed statement, has ended the transaction.
      if (options.commit) this.state = 'committed';
      throw failed.reason;
    }
    const results = settled.map((s) => (s as PromiseFulfilledResult<pg.QueryResult>).value);
    if (options.commit && results[results.length - 1]!.command !== 'COMMIT') throw new Error('the transaction was rolled back at COMMIT');
    return results[options.commit ? results.length - 2 : results.length - 1]!.rows as T[];
  }
}

/** Thrown inside a transaction when a member row changed since it was read. */
export class VersionConflict extends Error {
  constructor(memberId: string) {
    super(`member ${memberId} changed concurrently`);
    this.name = 'VersionConflict';
  }
}

const RETRYABLE_PRISMA = new Set(['P2002', 'P2034']);
const RETRYABLE_PG = new Set(['40001', '40P01', '23505']);
export const MAX_ATTEMPTS = 30;

export function isRetryable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length) {
    const e = stack.pop();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (e instanceof VersionConflict) return true;
    const o = e as Record<string, unknown>;
    if (typeof o.code === 'string' && (RETRYABLE_PRISMA.has(o.code) || RETRYABLE_PG.has(o.code))) return true;
    if (typeof o.originalCode === 'string' && RETRYABLE_PG.has(o.originalCode)) return true;
    stack.push(o.cause, o.meta, (o.meta as Record<string, unknown> | undefined)?.driverAdapterError);
  }
  return false;
}

/** How long a transaction may run; an import's batch (thousands of lines) is given longer. */
export async function inTransaction<T>(prisma: PrismaClient, fn: (tx: Tx) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
  // maxWait is generous: with embedded PGlite the pool has one connection
  // and concurrent writes queue for it.
  return retrying(() => prisma.$transaction(fn, { maxWait: 120_000, timeout: options.timeoutMs ?? 60_000 }));
}

/** `fn` in a plain-SQL transaction on a client of `pool` (SqlTransaction), retried as inTransaction's. */
export async function inSqlTransaction<T>(pool: pg.Pool, fn: (tx: SqlTransaction) => Promise<T>): Promise<T> {
  return retrying(async () => {
    const client = await pool.connect();
    const tx = new SqlTransaction(client);
    try {
      const result = await fn(tx);
      await tx.commit();
      client.release();
      return result;
    } catch (error) {
      if (!tx.open) {
        client.release();
        throw error;
      }
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollback) {
        // The connection is unusable: the pool drops it.
        client.release(rollback as Error);
      }
      throw error;
    }
  });
}

/** `run` again (after a short random wait) while it fails with a retryable conflict; WRITE_CONFLICT with `tooMany` after MAX_ATTEMPTS. */
export async function retrying<T>(run: () => Promise<T>, tooMany = 'too many concurrent writes to the same member; retry later'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new DomainError('WRITE_CONFLICT', tooMany);
      }
      await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
    }
  }
}
