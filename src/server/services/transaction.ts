// One database transaction per write, retried when another write got there
// first: an optimistic-concurrency miss on a member's `version`, a
// serialization failure or deadlock, or a unique-index race (two requests
// creating the same order id or member at once; the retry then sees the
// winner's row and answers from it).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Prisma, PrismaClient } from '@prisma/client';
import { DomainError } from './errors.ts';

export type Tx = Prisma.TransactionClient;

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
  for (let attempt = 1; ; attempt++) {
    try {
      // maxWait is generous: with embedded PGlite the pool has one connection
      // and concurrent writes queue for it.
      return await prisma.$transaction(fn, { maxWait: 120_000, timeout: options.timeoutMs ?? 60_000 });
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new DomainError('WRITE_CONFLICT', 'too many concurrent writes to the same member; retry later');
      }
      await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
    }
  }
}
