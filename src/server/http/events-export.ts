// POST /events.jsonl (admin): imports a JSONL history through the same engine
// and idempotency as the API, answering with a summary (services/import.ts).
// `notifications=false` records no notifications for it (no webhooks, no
// reminders): what a history brought from another platform wants.
//
// GET /events.jsonl: the merchant's event log as replay.md lines, streamed
// page by page (constant memory), so that
//   loyalty replay PROGRAM <(curl -H "authorization: Bearer $KEY" .../events.jsonl)
// gives the server's results (for a history under one program version).
//
// Lines come by time, then by sequence number: the server orders events per
// member (concurrent tills), replay orders the whole stream (dsl.md 4.1), and
// in time order replay accepts what the server accepted. Left out: events the
// server refused as earlier than the member's last event (in time order
// replay would accept them) and corrections replay.md has no event for (a
// corrected birthday). Each line carries its idempotency key as `key`
// (replay ignores it), so an export can be imported elsewhere unchanged.
import type { PrismaClient } from '@prisma/client';
import type { Plugin } from 'graphql-yoga';
import { EVENT_TYPES, parseDate, parseInstant } from '../engine.ts';
import { DomainError } from '../services/errors.ts';
import { BATCH_LINES, CHUNK_LINES, importLines, MAX_LINE_BYTES, type UnreadLine } from '../services/import.ts';
import { credentialOf } from './authentication.ts';
import { errorResponse } from './respond.ts';

export const EVENTS_PATH = '/events.jsonl';

/** Lines of the response body sent a chunk at a time. */
const PAGE = 1000;
/** Rows read from the database a statement at a time. */
const READ_PAGE = 5000;
/** The event types of replay.md; the log also holds corrections it has none for. */
const REPLAY_TYPES = [...EVENT_TYPES];
/** Refusals that depend on the order the server met the events in. */
const ORDER_DEPENDENT = ['OUT_OF_ORDER'];

export interface ExportFilter {
  from?: Date;
  to?: Date;
  member?: string;
  /** Only events logged up to this sequence number (a preview reads the log as it was when it began). */
  throughSeq?: bigint;
}

/** A time as `from`/`to` take it: an instant, or a date (00:00 UTC that day). */
function instant(text: string): Date | null {
  const day = parseDate(text);
  if (day !== null) return new Date(day * 86_400_000);
  const t = parseInstant(text);
  return t.ok ? new Date(t.ms) : null;
}

/** A logged event as the export reads it. */
export interface LogRow {
  /** The event as a replay.md line. */
  line: string;
  /** Its idempotency key (accepted events). */
  key: string | null;
}

/**
 * The export's events, a page of rows at a time, by time then sequence
 * number: keyset pages on the (merchant_id, at, seq) index, so each page
 * starts where the last ended; `(at, seq) > (a, s)` is one index condition,
 * where `at > a OR (at = a AND seq > s)` scanned the log from its start for
 * every page. Reading a whole merchant's log, sorting is switched off for
 * the page's statement: without statistics (PGlite has no autovacuum, so a
 * log imported into it has none until an ANALYZE) the planner took the log
 * as tiny and sorted all of it past the cursor for each page, a quadratic
 * read; the index gives the order as it is.
 */
export async function* logPages(prisma: PrismaClient, merchantId: string, filter: ExportFilter = {}, pageRows = READ_PAGE): AsyncGenerator<LogRow[]> {
  const params: unknown[] = [merchantId, REPLAY_TYPES, ORDER_DEPENDENT];
  const param = (value: unknown, type: string) => `$${params.push(value)}::${type}`;
  const where = ['merchant_id = $1::uuid', 'type = ANY($2::text[])', '(refusal_code IS NULL OR refusal_code <> ALL($3::text[]))'];
  if (filter.member !== undefined) where.push(`member = ${param(filter.member, 'text')}`);
  if (filter.throughSeq !== undefined) where.push(`seq <= ${param(String(filter.throughSeq), 'bigint')}`);
  if (filter.from) where.push(`at >= ${param(filter.from.toISOString(), 'timestamptz')}`);
  if (filter.to) where.push(`at < ${param(filter.to.toISOString(), 'timestamptz')}`);
  const select = (after: string) => `SELECT at, seq::text AS seq_text, line, key FROM events WHERE ${where.join(' AND ')}${after} ORDER BY at, seq LIMIT ${pageRows}`;
  const first = select('');
  const next = select(` AND (at, seq) > ($${params.length + 1}::timestamptz, $${params.length + 2}::bigint)`);
  // seq as text (no bigint through the driver), named apart from the column: ORDER BY seq sorts by the column.
  type Row = LogRow & { at: Date; seq_text: string };
  let cursor: [string, string] | null = null;
  for (;;) {
    const read = prisma.$queryRawUnsafe<Row[]>(cursor ? next : first, ...params, ...(cursor ?? []));
    // One member's events come by the (merchant_id, member, seq) index, sorted: few rows.
    const page: Row[] = filter.member !== undefined ? await read : (await prisma.$transaction([prisma.$executeRawUnsafe('SET LOCAL enable_sort = off'), read]))[1];
    if (page.length > 0) yield page;
    if (page.length < pageRows) return;
    const last = page[page.length - 1]!;
    cursor = [last.at.toISOString(), last.seq_text];
  }
}

/** The export's lines, by time then sequence number, each with its key. */
export async function* exportLines(prisma: PrismaClient, merchantId: string, filter: ExportFilter = {}): AsyncGenerator<string> {
  for await (const page of logPages(prisma, merchantId, filter)) {
    for (const e of page) yield e.key === null ? e.line : `${e.line.slice(0, -1)},"key":${JSON.stringify(e.key)}}`;
  }
}

const NEWLINE = 0x0a;

/**
 * The lines of a streamed body as they arrive (constant memory). Lines are
 * cut at their line break in the bytes (a UTF-8 character never holds that
 * byte), each piece searched once, and each line decoded on its own as
 * UTF-8, strictly: a line that is not UTF-8 is handed on as unread (the
 * lenient decoder would have put U+FFFD in its member ids and SKUs without a
 * word), and the lines after it are read. A line longer than MAX_LINE_BYTES
 * is dropped as it comes, so that a body without line breaks is neither held
 * whole nor searched again and again from its start (which once took 12 s of
 * the server's thread for one line of 20 MB).
 */
export async function* linesOf(body: AsyncIterable<Uint8Array> | null): AsyncGenerator<string | UnreadLine> {
  if (!body) return;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  /** The line so far (copies: a piece may outlive its chunk), or null while dropping one that is too long. */
  let parts: Uint8Array[] | null = [];
  let size = 0;
  const take = (piece: Uint8Array, copy: boolean) => {
    if (parts === null || piece.length === 0) return;
    size += piece.length;
    if (size > MAX_LINE_BYTES) parts = null;
    else parts.push(copy ? piece.slice() : piece);
  };
  const line = (): string | UnreadLine => {
    const whole = parts;
    parts = [];
    size = 0;
    if (whole === null) return { unread: 'overlong' };
    try {
      return decoder.decode(whole.length === 1 ? whole[0] : Buffer.concat(whole));
    } catch {
      return { unread: 'encoding' };
    }
  };
  for await (const chunk of body) {
    let start = 0;
    let i: number;
    while ((i = chunk.indexOf(NEWLINE, start)) >= 0) {
      take(chunk.subarray(start, i), false);
      yield line();
      start = i + 1;
    }
    take(chunk.subarray(start), true);
  }
  if (parts === null || size > 0) yield line();
}

export function eventsExport(prisma: PrismaClient, options: { maxFutureMs?: number; embedded?: boolean } = {}): Plugin {
  return {
    // Not async for other paths: yoga runs the next hook without a promise in between.
    onRequest(payload) {
      if (payload.url.pathname !== EVENTS_PATH) return;
      return serve(payload);
    },
  };
  async function serve({ request, url, endResponse, fetchAPI }: Parameters<NonNullable<Plugin['onRequest']>>[0]): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'POST') {
      endResponse(errorResponse(fetchAPI, 405, 'BAD_USER_INPUT', `${EVENTS_PATH} answers GET (export) and POST (import)`, { headers: { allow: 'GET, POST' } }));
      return;
    }
    const credential = credentialOf(request);
    if (credential?.kind !== 'key') {
      endResponse(errorResponse(fetchAPI, 403, 'FORBIDDEN', 'the event log is exported and imported with an API key, not a member token'));
      return;
    }
    if (request.method === 'POST') {
      if (credential.scope !== 'admin') {
        endResponse(errorResponse(fetchAPI, 403, 'FORBIDDEN', `a key with the "${credential.scope}" scope may not import events; importing needs an admin key`));
        return;
      }
      const notifications = url.searchParams.get('notifications');
      if (notifications !== null && notifications !== 'true' && notifications !== 'false') {
        endResponse(errorResponse(fetchAPI, 400, 'BAD_USER_INPUT', `notifications must be true (the default: the imported lines notify as the API's writes do) or false (none), not ${JSON.stringify(notifications)}`));
        return;
      }
      const scope = { prisma, merchantId: credential.merchant.id, maxFutureMs: options.maxFutureMs, notify: notifications !== 'false' };
      try {
        const summary = await importLines(scope, { credential }, linesOf(request.body as unknown as AsyncIterable<Uint8Array> | null), {
          batchLines: options.embedded ? BATCH_LINES.embedded : BATCH_LINES.server,
          chunkLines: options.embedded ? CHUNK_LINES.embedded : CHUNK_LINES.server,
        });
        endResponse(fetchAPI.Response.json(summary));
      } catch (error) {
        if (error instanceof DomainError) {
          endResponse(errorResponse(fetchAPI, error.code === 'NO_ACTIVE_PROGRAM' ? 409 : 400, error.code, error.message));
          return;
        }
        throw error;
      }
      return;
    }
    const filter: ExportFilter = {};
    for (const name of ['from', 'to'] as const) {
      const text = url.searchParams.get(name);
      if (text === null) continue;
      const at = instant(text);
      if (!at) {
        endResponse(errorResponse(fetchAPI, 400, 'BAD_USER_INPUT', `${name} must be a date such as 2026-03-01 or a time such as 2026-03-01T09:30:00Z`));
        return;
      }
      filter[name] = at;
    }
    const member = url.searchParams.get('member');
    if (member !== null) filter.member = member;
    const lines = exportLines(prisma, credential.merchant.id, filter);
    const encoder = new TextEncoder();
    const body = new fetchAPI.ReadableStream<Uint8Array>({
      async pull(controller) {
        // One page a pull: the stream asks for more as the client reads.
        let text = '';
        for (let i = 0; i < PAGE; i++) {
          const next = await lines.next();
          if (next.done) {
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          text += `${next.value}\n`;
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await lines.return(undefined);
      },
    });
    endResponse(new fetchAPI.Response(body, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8' } }));
  }
}
