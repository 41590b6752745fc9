// Imports a history (replay.md lines: a merchant moving from another
// platform, or an export of this server) through the same engine and the
// same idempotency as the API: each line is applied as the write it is, in
// order, and a line's key (its `key` field, as the export writes it, or one
// derived from the line itself) makes a re-sent import write nothing new.
import { createHash } from 'node:crypto';
import type { AuditActor } from './audit.ts';
import { DomainError, EventRefusedError } from './errors.ts';
import * as members from './members.ts';

export interface ImportProblem {
  line: number;
  /** A RefusalCode for a refused event, or BAD_USER_INPUT / IDEMPOTENCY_CONFLICT. */
  code: string;
  message: string;
}

export interface ImportSummary {
  /** Lines applied now. */
  accepted: number;
  /** Lines already applied (their key was): nothing written. */
  replayed: number;
  /** Lines the engine refused, with the reason: the first MAX_PROBLEMS of them. */
  refused: ImportProblem[];
  /** Lines that are not a valid event: the first MAX_PROBLEMS of them. */
  malformed: ImportProblem[];
  /** How many lines were refused, listed or not. */
  refusedCount: number;
  /** How many lines were malformed, listed or not. */
  malformedCount: number;
}

type Line = Record<string, unknown>;

/** Problems listed per kind: an import of millions of lines may have as many; the counts count them all. */
export const MAX_PROBLEMS = 1000;

/**
 * The longest line an import reads, in bytes: an event is one JSON object on
 * a line of its own, a few hundred bytes (an order of a hundred lines is
 * about 10,000). A file that is one document (a JSON array, a line break
 * lost) is not held in memory whole, however long it is: the reader
 * (http/events-export.ts linesOf) drops such a line and hands on an
 * UnreadLine, which is reported as malformed.
 */
export const MAX_LINE_BYTES = 1_000_000;

/** A line the reader did not make a string of: longer than MAX_LINE_BYTES, or not UTF-8 (a file saved as Latin-1, say). */
export interface UnreadLine {
  unread: 'overlong' | 'encoding';
}

const UNREAD: Record<UnreadLine['unread'], string> = {
  overlong: `the line is longer than ${MAX_LINE_BYTES.toLocaleString('en-US')} bytes: an import is one JSON event per line (JSONL)`,
  encoding: 'the line is not valid UTF-8: an import is read as UTF-8 (convert a file saved in another encoding first)',
};

/** The line's own key without its namespace (`order:`, `refund:`, `write:`), else one derived from the line. */
function keyOf(line: Line, namespace: string): string {
  const given = line.key;
  if (typeof given === 'string' && given.startsWith(`${namespace}:`)) return given.slice(namespace.length + 1);
  const body = { ...line };
  delete body.key;
  return `import-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)}`;
}

// Fields are handed over as they are: each service validates its event with the engine's parser.
async function applyLine(scope: members.Scope, actor: AuditActor, line: Line): Promise<{ replayed: boolean }> {
  const at = line.at as string;
  const member = line.member as string;
  switch (line.type) {
    case 'signup':
      return members.signup(scope, { memberId: member, birthday: (line.birthday as string | null) ?? null, referrerId: (line.referrer as string | null) ?? null, at });
    case 'order':
      return members.recordOrder(scope, {
        memberId: member,
        orderId: line.id as string,
        lines: line.lines as members.OrderLineInput[],
        channel: (line.channel as string | null) ?? null,
        at,
      });
    case 'refund':
      return members.refundOrder(scope, { memberId: member, orderId: line.order as string, refundId: keyOf(line, 'refund'), lines: line.lines as members.RefundLineInput[], at });
    case 'redeem':
      return members.redeemPoints(scope, {
        memberId: member,
        points: line.points as number,
        orderTotal: (line.order_total as string | null) ?? null,
        idempotencyKey: keyOf(line, 'write'),
        at,
      });
    case 'join_club':
      return members.joinClub(scope, { memberId: member, club: line.club as string, idempotencyKey: keyOf(line, 'write'), at });
    case 'cancel_club':
      return members.cancelClub(scope, { memberId: member, club: line.club as string, idempotencyKey: keyOf(line, 'write'), at });
    case 'redeem_reward':
      return members.redeemReward(scope, { memberId: member, reward: line.reward as string, idempotencyKey: keyOf(line, 'write'), at });
    case 'event':
      return members.recordEvent(scope, { memberId: member, name: line.name as string, idempotencyKey: keyOf(line, 'write'), at });
    case 'adjust':
      return members.adjustPoints(scope, actor, {
        memberId: member,
        points: line.points as number,
        reason: typeof line.reason === 'string' && line.reason.trim() ? line.reason : 'imported',
        idempotencyKey: keyOf(line, 'write'),
        at,
      });
    case 'tick': {
      // A tick that finds nothing due (as when re-sent) writes nothing.
      const r = await members.advanceTime(scope, at);
      return { replayed: r.members === 0 && r.entries === 0 };
    }
    default:
      throw new DomainError('BAD_USER_INPUT', `unknown event type ${JSON.stringify(line.type)}`);
  }
}

/**
 * Lines of one transaction (members.importBatch): the members they name are
 * loaded and stored once per batch, so a longer batch reads and writes each
 * member's state (kilobytes, growing with its history) fewer times. On
 * PostgreSQL 8,000 rather than 2,000 took the 100,000-line bench stream from
 * 88.8 s to 66.2 s, and the 30,000-line one from 20.7–28.0 s to 12.9–15.6 s.
 * PGlite once did worse with 8,000 (51.7–60.0 s against 37.2 s): its socket
 * server (pglite-socket) concatenates a message's bytes received so far each
 * time more arrive, so a statement cost the square of its size, and a batch
 * was one statement with every member's state in it. With statements of
 * CHUNK_LINES lines and states in statements of their own (write.ts
 * updateMembers) it takes 8,000 too (bench/README.md, "Import"). On
 * PostgreSQL 16,000 did better again once the key checks probed by index
 * (migration 20261207150000): 30,000 lines in 4.55 s against 5.74 s (median
 * of 3, alternating; 32,000: 4.35 s), since each batch reads and stores its
 * members' states once and starts and ends with the database or the server
 * waiting on the other. PGlite, when one thread did both, took the same
 * with 16,000; on a thread of its own (db/embedded.ts), with its statements
 * as binary arrays and the next batch parsed while one is written, 16,000
 * took its thread 4.37 s against 4.71 s (median of 5 alternating, in
 * process), each member's state being stored half as often. The members
 * stay locked for the batch (seconds), which a concurrent write to them
 * waits out.
 */
export const BATCH_LINES = { server: 16000, embedded: 16000 } as const;

/**
 * Lines of a batch written by one statement, sent while the engine runs the
 * next ones (members.importBatch `chunkLines`): on PostgreSQL the database
 * and the server's thread then work at the same time. For the embedded PGlite
 * the point is to keep each message small (its socket server's copying, see
 * BATCH_LINES): 500 lines are about 0.6 MB.
 */
export const CHUNK_LINES = { server: 1000, embedded: 500 } as const;
const SPLIT_MIN = 16;
const HELD_MAX = 10_000;

/** The line as the fields its write takes (what applyLine hands the service) and its client key. */
function batchEvent(line: Line): members.BatchInput {
  const { at, member } = line;
  switch (line.type) {
    case 'signup':
      return { event: { type: 'signup', at, member, birthday: line.birthday ?? null, referrer: line.referrer ?? null } };
    case 'order':
      return { event: { type: 'order', at, member, id: line.id, lines: line.lines, channel: line.channel ?? null } };
    case 'refund':
      return { event: { type: 'refund', at, member, order: line.order, lines: line.lines }, key: keyOf(line, 'refund') };
    case 'redeem':
      return { event: { type: 'redeem', at, member, points: line.points, order_total: line.order_total ?? null }, key: keyOf(line, 'write') };
    case 'join_club':
    case 'cancel_club':
      return { event: { type: line.type, at, member, club: line.club }, key: keyOf(line, 'write') };
    case 'redeem_reward':
      return { event: { type: 'redeem_reward', at, member, reward: line.reward }, key: keyOf(line, 'write') };
    case 'adjust':
      return {
        event: { type: 'adjust', at, member, points: line.points, reason: typeof line.reason === 'string' && line.reason.trim() ? line.reason : 'imported' },
        key: keyOf(line, 'write'),
      };
    case 'tick':
      return { event: { type: 'tick', at } };
    default:
      return { event: { type: 'event', at, member, name: line.name }, key: keyOf(line, 'write') };
  }
}

const TYPES = new Set(['signup', 'order', 'refund', 'redeem', 'join_club', 'cancel_club', 'redeem_reward', 'event', 'adjust', 'tick']);

/**
 * Applies the lines in order; blank lines are skipped (and counted, as
 * replay counts them). Lines go in batches of up to `batchLines`, each one
 * transaction (members.importBatch); a batch it cannot apply as one is
 * applied line by line (applyLine, the API's writes). Ticks go one by one
 * when the merchant has reminder webhooks (advanceTime looks for them).
 */
export async function importLines(
  scope: members.Scope,
  actor: AuditActor,
  lines: AsyncIterable<string | UnreadLine> | Iterable<string | UnreadLine>,
  options: { batchLines?: number; chunkLines?: number; onLine?: (n: number) => void } = {},
): Promise<ImportSummary> {
  const { batchLines = BATCH_LINES.server, chunkLines = CHUNK_LINES.server, onLine } = options;
  const summary: ImportSummary = { accepted: 0, replayed: 0, refused: [], malformed: [], refusedCount: 0, malformedCount: 0 };
  // A line found malformed as it is read comes after lines of the batch
  // still to be applied: problems are held and listed in line order after
  // each batch, so that such a line does not cut the batch short (HELD_MAX
  // of them do, so that the held ones stay few).
  let held: { kind: 'refused' | 'malformed'; p: ImportProblem }[] = [];
  const problem = (kind: 'refused' | 'malformed', p: ImportProblem) => {
    held.push({ kind, p });
  };
  /** Lists the held problems of the lines before `before`, in line order. */
  const list = (before = Infinity) => {
    held.sort((a, b) => a.p.line - b.p.line);
    let listed = 0;
    for (const { kind, p } of held) {
      if (p.line >= before) break;
      listed++;
      if (kind === 'refused') summary.refusedCount++;
      else summary.malformedCount++;
      if (summary[kind].length < MAX_PROBLEMS) summary[kind].push(p);
    }
    held = held.slice(listed);
  };
  const count = (n: number, result: { replayed: boolean } | { error: unknown }) => {
    if ('replayed' in result) {
      if (result.replayed) summary.replayed++;
      else summary.accepted++;
      return;
    }
    const error = result.error;
    if (error instanceof EventRefusedError) problem('refused', { line: n, code: error.refusal.code, message: error.refusal.message });
    else if (error instanceof DomainError && error.code === 'BAD_USER_INPUT') problem('malformed', { line: n, code: error.code, message: error.message });
    else if (error instanceof DomainError) problem('refused', { line: n, code: error.code, message: error.message });
    else throw error;
  };
  const one = async (n: number, line: Line) => {
    try {
      count(n, await applyLine(scope, actor, line));
    } catch (error) {
      count(n, { error });
    }
  };
  let pending: { n: number; line: Line }[] = [];
  /** A batch that cannot go as one (a key used with another body, a limit) is split in halves down to SPLIT_MIN lines, then applied line by line. */
  const apply = async (batch: { n: number; line: Line }[], prepared?: members.PreparedBatch, onSent?: () => void): Promise<void> => {
    let results: Awaited<ReturnType<typeof members.importBatch>>;
    try {
      results = await members.importBatch(scope, actor, prepared ?? batch.map((b) => batchEvent(b.line)), { chunkLines, onSent });
    } catch (error) {
      if (!(error instanceof members.BatchFallback || error instanceof DomainError)) throw error;
      if (batch.length <= SPLIT_MIN) {
        for (const b of batch) await one(b.n, b.line);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await apply(batch.slice(0, half));
      await apply(batch.slice(half));
      return;
    }
    results.forEach((r, i) => count(batch[i]!.n, r));
  };
  /**
   * The batch being applied. The next one is read while it runs, and parsed
   * (prepareBatch) once its rows are all sent: the server's thread would
   * otherwise wait while the database writes them, and the database while
   * the thread parses the next batch.
   */
  let running: { sent: Promise<void>; done: Promise<void> } | null = null;
  const settle = async () => {
    const was = running;
    running = null;
    await was?.done;
  };
  const flush = async () => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    await running?.sent;
    const prepared = await members.prepareBatch(scope, batch.map((b) => batchEvent(b.line)));
    await settle();
    // The problems of the lines before this batch: those after it wait for it.
    list(batch[0]!.n);
    let sent!: () => void;
    const allSent = new Promise<void>((resolve) => (sent = resolve));
    const done = apply(batch, prepared, sent).finally(sent);
    done.catch(() => undefined); // awaited by settle
    running = { sent: allSent, done };
  };
  /** Every line so far applied and its problems listed. */
  const finish = async () => {
    await flush();
    await settle();
    list();
  };
  /** A line malformed as read: listed at once when no batch is pending or running. */
  const malformed = async (p: ImportProblem) => {
    problem('malformed', p);
    if (pending.length === 0 && running === null) list();
    else if (held.length >= HELD_MAX) await finish();
  };
  const batchTicks = await members.ticksBatch(scope);
  let n = 0;
  for await (const text of lines) {
    n++;
    onLine?.(n);
    if (typeof text !== 'string') {
      await malformed({ line: n, code: 'BAD_USER_INPUT', message: UNREAD[text.unread] });
      continue;
    }
    if (!text.trim()) continue;
    let line: Line;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('an event must be a JSON object');
      line = value as Line;
      if (typeof line.at !== 'string') throw new Error(line.at === undefined ? 'missing field "at"' : 'field "at" must be a string');
      if (line.type !== 'tick' && typeof line.member !== 'string') throw new Error('missing field "member"');
    } catch (error) {
      await malformed({ line: n, code: 'BAD_USER_INPUT', message: (error as Error).message });
      continue;
    }
    if (!TYPES.has(line.type as string)) {
      await malformed({ line: n, code: 'BAD_USER_INPUT', message: `unknown event type ${JSON.stringify(line.type)}` });
      continue;
    }
    if (line.type !== 'tick' || batchTicks) {
      pending.push({ n, line });
      if (pending.length >= batchLines) await flush();
      // A batch being applied gets the thread now and then, if the lines come without waiting (an array, a file read whole).
      else if (running !== null && pending.length % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    await finish();
    await one(n, line);
  }
  await finish();
  return summary;
}
