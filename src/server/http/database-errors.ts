// Tells a database that cannot be reached (down, restarting, out of
// connections) from other failures, so that clients get SERVICE_UNAVAILABLE
// (HTTP 503, retry later) instead of an internal error.
import { DomainError } from '../services/errors.ts';

/** Network errors of the driver (node:net codes). */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Prisma: cannot reach / timed out / server closed the connection / pool timeout. */
const PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** PostgreSQL: shutting down, crash recovery, cannot connect now, too many connections. */
const SQLSTATE = new Set(['57P01', '57P02', '57P03', '53300']);
const MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /Connection refused/i, /server closed the connection/i, /Client has encountered a connection error/i];

/** Whether `test` holds for the error or one under it (causes, Prisma's driver adapter error, an AggregateError's). */
function anyCause(error: unknown, test: (e: Record<string, unknown>) => boolean): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [error];
  while (stack.length) {
    const e = stack.pop();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (test(o)) return true;
    stack.push(o.cause, o.originalError, o.meta, (o.meta as Record<string, unknown> | undefined)?.driverAdapterError);
    if (Array.isArray(o.errors)) stack.push(...(o.errors as unknown[]));
  }
  return false;
}

const codesOf = (o: Record<string, unknown>) => [o.code, o.originalCode].filter((c): c is string => typeof c === 'string');

export function isDatabaseUnavailable(error: unknown): boolean {
  return anyCause(error, (o) => {
    if (codesOf(o).some((code) => NETWORK.has(code) || PRISMA.has(code) || SQLSTATE.has(code) || code.startsWith('08'))) return true;
    if (o.kind === 'DatabaseNotReachable' || o.kind === 'SocketTimeout' || o.kind === 'ConnectionClosed') return true;
    return typeof o.message === 'string' && MESSAGES.some((m) => m.test(o.message as string));
  });
}

/**
 * PostgreSQL: text it cannot hold (U+0000 is "invalid byte sequence for
 * encoding UTF8", 22021; a JSON escape of one, 22P05). The writes refuse
 * such text before the database sees it (members.ts storedText); a read by
 * such an id gets here.
 */
const UNSTORABLE = new Set(['22021', '22P05']);

export function isUnstorableText(error: unknown): boolean {
  return anyCause(error, (o) => codesOf(o).some((code) => UNSTORABLE.has(code)));
}

export const UNAVAILABLE_MESSAGE = 'the database is unavailable; retry later';

export function serviceUnavailable(): DomainError {
  return new DomainError('SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE, { http: { status: 503, headers: { 'retry-after': '5' } } });
}
