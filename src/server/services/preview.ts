// Previewing a draft program against the merchant's recorded history
// (previewProgram): the event log, exported in time order as `loyalty replay`
// reads it (GET /events.jsonl), is replayed under the active program
// ("before") and under the draft ("after") by the engine's ProgramDiff, and
// the two are compared. Nothing is written. The log streams from the
// database page by page: memory holds the members of both replays, not the
// events.
//
// "before" is the active version over the whole history, not each event
// under the version it was applied with: for a merchant that has published
// several versions, `before` may differ from the stored balances (the
// stored ones are what members got; `before` is what the active program
// gives for the same events), and the comparison is of two programs over the
// same events. The export leaves out what replay.md has no event for
// (corrected birthdays) and events the server refused as out of order.
import type { PrismaClient } from '@prisma/client';
import { ProgramDiff, type DiffResult, type Program } from '../engine.ts';
import { logPages } from '../http/events-export.ts';
import { DomainError, ProgramInvalidError } from './errors.ts';
import { compileSource, requireActiveProgram } from './programs.ts';

export interface PreviewOptions {
  /** The instant (epoch ms) from which the draft applies; absent: the whole history. */
  from?: number;
  /** Only events before this instant (epoch ms); absent: up to the last. */
  to?: number;
}

export interface Preview {
  result: DiffResult;
  before: Program;
  after: Program;
  /** Event lines replayed. */
  events: number;
  /** Program versions the merchant has published (more than one: `before` is the active one all along). */
  versions: number;
  to: number | null;
}

export async function previewProgram(prisma: PrismaClient, merchantId: string, source: string, opts: PreviewOptions = {}): Promise<Preview> {
  const compiled = compileSource(source);
  if (!compiled.program) throw new ProgramInvalidError(compiled.diagnostics, source);
  const after = compiled.program;
  const active = await requireActiveProgram(prisma, merchantId);
  const before = active.program;
  if (before.currency !== after.currency || before.currencyExponent !== after.currencyExponent) {
    throw new DomainError('CURRENCY_CHANGE', `the active program counts in ${before.currency}; a draft in ${after.currency} cannot be published, nor compared over its events`);
  }
  if (opts.from !== undefined && opts.to !== undefined && opts.from > opts.to) {
    throw new DomainError('BAD_USER_INPUT', '`from` must not be after `to`');
  }
  // The log as it is now: events appended while the preview runs are not read.
  const [logged, versions] = await Promise.all([
    prisma.event.aggregate({ where: { merchantId }, _max: { seq: true } }),
    prisma.programVersion.count({ where: { merchantId } }),
  ]);
  const diff = new ProgramDiff(before, after, opts.from === undefined ? {} : { from: opts.from });
  let events = 0;
  if (logged._max.seq !== null) {
    const pages = logPages(prisma, merchantId, { throughSeq: logged._max.seq, ...(opts.to !== undefined ? { to: new Date(opts.to) } : {}) });
    // A page's lines are decoded together (ProgramDiff.pushTexts: the
    // byte-level decoder, one buffer a page), then dropped.
    for await (const page of pages) {
      diff.pushTexts(page.map((e) => e.line), events + 1);
      events += page.length;
    }
  }
  return { result: diff.result(), before, after, events, versions, to: opts.to ?? null };
}
