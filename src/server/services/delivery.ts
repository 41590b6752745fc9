// The delivery worker: sends pending webhook deliveries from the outbox.
//
// Each poll claims due deliveries with one UPDATE ... WHERE id IN (SELECT ...
// FOR UPDATE SKIP LOCKED): claiming leases a delivery by moving its
// next_attempt_at ahead (by the request timeout and a margin), and commits at
// once, so no transaction stays open across an HTTP request (on embedded
// PGlite there is one connection, which writes need). Several processes on
// one PostgreSQL claim disjoint rows; a process that dies mid-request leaves
// its lease to run out, and the delivery is sent again (at least once).
//
// In order per member: a delivery is claimed only when no earlier
// notification of the same member is still pending for the same endpoint
// (a failed one no longer holds the others back).
//
// A 2xx is delivered (a batch's accepted ones are marked in one UPDATE once
// its requests are done); anything else (an error status, a refused connection,
// a timeout) is retried with exponential backoff and full jitter until the
// retry window (24 h by default) has passed since the delivery was created,
// then the delivery is failed (redeliver starts it again).
import type { Prisma, PrismaClient } from '@prisma/client';
import type { Logger } from 'pino';
import { envelope } from './notifications.ts';
import { signature } from './webhooks.ts';

export interface DeliveryOptions {
  /** How often to look for due deliveries (ms). */
  pollIntervalMs: number;
  /** One request's timeout (ms). */
  timeoutMs?: number;
  /** The first retry's delay (ms); each next one doubles, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long after its creation a delivery is retried before it is failed (ms). */
  retryWindowMs?: number;
  /** Deliveries claimed per poll (sent concurrently: each is a different member or endpoint). */
  batchSize?: number;
  logger?: Pick<Logger, 'warn' | 'error' | 'debug'>;
  /** For tests: the clock. */
  now?: () => number;
}

export const DELIVERY_DEFAULTS = {
  timeoutMs: 10_000,
  baseDelayMs: 30_000,
  maxDelayMs: 2 * 60 * 60_000,
  retryWindowMs: 24 * 60 * 60_000,
  batchSize: 20,
} as const;

interface Claimed {
  id: bigint;
  attempts: number;
  createdAt: Date;
  url: string;
  secret: string;
  notificationId: bigint;
  type: string;
  member: string;
  at: Date;
  version: number;
  payload: Prisma.JsonValue;
  created: Date;
}

export interface DeliveryWorker {
  /** One poll: claims and sends what is due; resolves with how many were attempted. */
  runOnce(): Promise<number>;
  /** Stops polling and waits for the requests in flight. */
  stop(): Promise<void>;
}

/** The delay before retry `attempt` (1 = the first retry): exponential, capped, with full jitter. */
export function backoff(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function startDeliveryWorker(prisma: PrismaClient, options: DeliveryOptions): DeliveryWorker {
  const o = { ...DELIVERY_DEFAULTS, ...options };
  const now = o.now ?? Date.now;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<number> | null = null;

  const claim = async (): Promise<Claimed[]> => {
    const at = new Date(now());
    const lease = new Date(now() + o.timeoutMs + 30_000);
    return prisma.$queryRaw<Claimed[]>`
      WITH claimed AS (
        UPDATE deliveries d SET next_attempt_at = ${lease}, attempts = d.attempts + 1, last_attempt_at = ${at}
         WHERE d.id IN (
           SELECT c.id FROM deliveries c
            WHERE c.status = 'pending' AND c.next_attempt_at <= ${at}
              AND NOT EXISTS (
                SELECT 1 FROM deliveries e
                 WHERE e.endpoint_id = c.endpoint_id AND e.member = c.member AND e.status = 'pending' AND e.notification_id < c.notification_id)
            ORDER BY c.next_attempt_at, c.id
            LIMIT ${o.batchSize}
            FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.attempts, d.created_at, d.endpoint_id, d.notification_id)
      SELECT c.id, c.attempts, c.created_at AS "createdAt", e.url, e.secret, n.id AS "notificationId",
             n.type, n.member, n.at, n.version::int AS version, n.payload, n.created
        FROM claimed c
        JOIN webhook_endpoints e ON e.id = c.endpoint_id
        JOIN notifications n ON n.id = c.notification_id`;
  };

  /** Sends one delivery; a 2xx resolves with its status (marked with the batch's), anything else is marked here. */
  const send = async (d: Claimed): Promise<number | null> => {
    const body = JSON.stringify(envelope({ id: d.notificationId, type: d.type, member: d.member, at: d.at, version: d.version, payload: d.payload, created: d.created }));
    const timestamp = Math.floor(now() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'loyalty-webhooks/1',
          'loyalty-signature': signature(d.secret, timestamp, body),
          'loyalty-notification-id': `ntf_${d.notificationId.toString()}`,
          'loyalty-delivery-attempt': String(d.attempts),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      status = res.status;
      await res.body?.cancel();
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
      error = e instanceof Error ? `${e.name === 'TimeoutError' ? 'timed out' : e.message}${cause}` : String(e);
    }
    if (error === null) return status;
    const next = now() + backoff(d.attempts, o.baseDelayMs, o.maxDelayMs);
    const giveUp = next > d.createdAt.getTime() + o.retryWindowMs;
    await prisma.delivery.update({
      where: { id: d.id },
      data: { status: giveUp ? 'failed' : 'pending', nextAttemptAt: new Date(next), lastStatusCode: status, lastError: error.slice(0, 500) },
    });
    o.logger?.[giveUp ? 'warn' : 'debug']({ delivery: d.id.toString(), url: d.url, attempts: d.attempts, error }, giveUp ? 'webhook delivery failed' : 'webhook delivery will be retried');
    return null;
  };

  /** Marks the accepted deliveries of a batch in one UPDATE (each with its own status code). */
  const markDelivered = async (accepted: { id: bigint; status: number }[]): Promise<void> => {
    if (accepted.length === 0) return;
    await prisma.$executeRaw`
      UPDATE deliveries d SET status = 'delivered', delivered_at = ${new Date(now())}, last_status_code = a.status, last_error = NULL
        FROM unnest(${accepted.map((a) => a.id)}::bigint[], ${accepted.map((a) => a.status)}::int[]) AS a(id, status)
       WHERE d.id = a.id`;
  };

  const runOnce = async (): Promise<number> => {
    const due = await claim();
    const accepted: { id: bigint; status: number }[] = [];
    await Promise.all(
      due.map((d) =>
        send(d).then(
          (status) => void (status !== null && accepted.push({ id: d.id, status })),
          (e: unknown) => o.logger?.error({ err: e, delivery: d.id.toString() }, 'webhook delivery bookkeeping failed'),
        ),
      ),
    );
    // Unmarked (the UPDATE failed), they stay leased and are sent again when the lease runs out: at least once.
    await markDelivered(accepted).catch((e: unknown) => o.logger?.error({ err: e, deliveries: accepted.length }, 'webhook delivery bookkeeping failed'));
    return due.length;
  };

  const loop = () => {
    if (stopped) return;
    current = runOnce()
      .catch((e: unknown) => {
        o.logger?.error({ err: e }, 'webhook delivery poll failed');
        return 0;
      })
      .then((count) => {
        current = null;
        // A full batch: more may be due at once.
        if (!stopped) timer = setTimeout(loop, count >= o.batchSize ? 0 : o.pollIntervalMs);
        return count;
      });
  };
  timer = setTimeout(loop, o.pollIntervalMs);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
