// Prometheus metrics (prom-client), served on GET /metrics. Requests are
// counted and timed by http/observe.ts; the write path and advanceTime call
// recordWrite and recordAdvanceTimeRun (labels are bounded: schema field
// names and fixed outcomes, never ids).
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { DomainError, EventRefusedError } from './services/errors.ts';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'loyalty_' });

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new Counter({
  name: 'loyalty_http_requests_total',
  help: 'HTTP requests by GraphQL operation (its root fields) and status.',
  labelNames: ['operation', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'loyalty_http_request_duration_seconds',
  help: 'HTTP request latency by GraphQL operation (its root fields).',
  labelNames: ['operation'] as const,
  buckets: SECONDS,
  registers: [registry],
});

const writes = new Counter({
  name: 'loyalty_writes_total',
  help: 'Member writes by mutation and outcome.',
  labelNames: ['operation', 'outcome'] as const,
  registers: [registry],
});

const writeDuration = new Histogram({
  name: 'loyalty_write_duration_seconds',
  help: 'Time a member write took, transaction and retries included.',
  labelNames: ['operation'] as const,
  buckets: SECONDS,
  registers: [registry],
});

const advanceRuns = new Counter({
  name: 'loyalty_advance_time_runs_total',
  help: 'advanceTime runs by trigger (request or schedule) and result (ok: no member failed).',
  labelNames: ['trigger', 'result'] as const,
  registers: [registry],
});

const advanceMembers = new Counter({
  name: 'loyalty_advance_time_members_total',
  help: 'Members advanceTime changed or failed on.',
  labelNames: ['result'] as const,
  registers: [registry],
});

const advanceEntries = new Counter({
  name: 'loyalty_advance_time_entries_total',
  help: 'Ledger entries advanceTime wrote.',
  registers: [registry],
});

const advanceDuration = new Histogram({
  name: 'loyalty_advance_time_duration_seconds',
  help: 'Time an advanceTime run took.',
  labelNames: ['trigger'] as const,
  buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300],
  registers: [registry],
});

/**
 * What became of a member write: `accepted` (written), `replayed` (an
 * idempotent retry, nothing written), `refused` (the engine said no: with
 * the refusal's code when there is one, e.g. INSUFFICIENT_POINTS), `conflict`
 * (IDEMPOTENCY_CONFLICT, WRITE_CONFLICT), `error` (anything else).
 */
export type WriteOutcome = 'accepted' | 'replayed' | 'refused' | 'conflict' | 'error';

/** One member write (signup, recordOrder, refundOrder, redeemPoints, ...); `seconds` when it was timed. */
export function recordWrite(operation: string, outcome: WriteOutcome, seconds?: number): void {
  writes.inc({ operation, outcome });
  if (seconds !== undefined) writeDuration.observe({ operation }, seconds);
}

function outcomeOf(error: unknown): WriteOutcome {
  if (error instanceof EventRefusedError) return 'refused';
  if (error instanceof DomainError && (error.code === 'IDEMPOTENCY_CONFLICT' || error.code === 'WRITE_CONFLICT')) {
    return 'conflict';
  }
  return 'error';
}

/** Runs one member write and records its outcome and time. */
export async function measuredWrite<T extends { replayed: boolean }>(operation: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const result = await run();
    recordWrite(operation, result.replayed ? 'replayed' : 'accepted', seconds());
    return result;
  } catch (error) {
    recordWrite(operation, outcomeOf(error), seconds());
    throw error;
  }
}

export interface AdvanceTimeRun {
  trigger: 'request' | 'schedule';
  /** Members whose state changed. */
  changed: number;
  /** Members whose transaction failed (retried next run). */
  failed: number;
  entries: number;
  seconds: number;
}

export function recordAdvanceTimeRun(run: AdvanceTimeRun): void {
  advanceRuns.inc({ trigger: run.trigger, result: run.failed > 0 ? 'failures' : 'ok' });
  advanceMembers.inc({ result: 'changed' }, run.changed);
  advanceMembers.inc({ result: 'failed' }, run.failed);
  advanceEntries.inc(run.entries);
  advanceDuration.observe({ trigger: run.trigger }, run.seconds);
}
