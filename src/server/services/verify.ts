// The audit of the event log: replaying a merchant's log with its program
// versions must give exactly the stored member states, balances and ledger.
// The replay follows the server's rules, not `loyalty replay`'s: events in
// the order they were applied (their sequence numbers), each member's clock
// its own, each event under the version it was applied with, every member
// carried into a new version where it was published (as publishing does),
// and a tick bringing forward the members it was due for (as advanceTime
// does). The log streams in pages: memory holds the members, not the events.
import { isDeepStrictEqual } from 'node:util';
import type { PrismaClient } from '@prisma/client';
import {
  advance,
  applyEvent,
  carryOver,
  changeBirthday,
  nextDue,
  parseEvent,
  type LedgerEntry,
  type MemberState,
  type OrderRecord,
  type Program,
  upgradeState,
} from '../engine.ts';
import { programOf } from './programs.ts';

export interface VerifyDifference {
  member: string;
  /** What differs: `state`, `balance`, `ledger`, `missing` (stored, not derived) or `extra` (derived, not stored). */
  what: 'state' | 'balance' | 'ledger' | 'missing' | 'extra';
  message: string;
}

export interface VerifyReport {
  merchantId: string;
  events: number;
  members: number;
  /** Members whose personal data was erased: their log lost what they were derived from (the birthday), so they are not compared. */
  skipped: number;
  differences: VerifyDifference[];
}

type Entry = Pick<LedgerEntry, 'at' | 'kind' | 'points' | 'rule' | 'ref'>;

const PAGE = 2000;
const MAX_DIFFERENCES = 1000;

/** A state as it is stored (JSON), so that derived and stored compare alike. */
const asStored = (s: MemberState): unknown => JSON.parse(JSON.stringify(s));

const entryText = (e: Entry) => `${new Date(e.at).toISOString()} ${e.kind} ${e.points} ${e.rule ?? '-'} ${e.ref ?? '-'}`;

/** Replays one merchant's log and compares the result with what is stored. */
export async function verifyMerchant(prisma: PrismaClient, merchantId: string): Promise<VerifyReport> {
  const versions = await prisma.programVersion.findMany({ where: { merchantId }, orderBy: { version: 'asc' } });
  // Compiled when needed: a version no event and no member needs is not read.
  const byId = new Map(versions.map((v) => [v.id, v]));
  const programFor = (id: string) => programOf(byId.get(id)!);
  const states = new Map<string, MemberState>();
  const orders = new Map<string, OrderRecord>();
  const ledgers = new Map<string, Entry[]>();
  const world = { get: (id: string) => states.get(id), order: (id: string) => orders.get(id) };
  const write = (entries: readonly LedgerEntry[]) => {
    for (const e of entries) {
      let list = ledgers.get(e.member);
      if (!list) ledgers.set(e.member, (list = []));
      list.push(e);
    }
  };
  // Publishing carries every member into the new version (rederiveTiers).
  let published = 0;
  const carryPast = (seq: bigint) => {
    while (published + 1 < versions.length && versions[published + 1]!.fromSeq < seq) {
      const version = versions[++published]!;
      if (states.size === 0) continue;
      const program = programFor(version.id);
      if (program.tiers.length === 0) continue;
      for (const [id, s] of states) {
        const carried = structuredClone(s);
        try {
          if (carryOver(program, carried)) states.set(id, carried);
        } catch {
          // An unreadable state is left as it is, as publishing leaves it.
        }
      }
    }
  };

  let events = 0;
  let after = -1n;
  for (;;) {
    const page = await prisma.event.findMany({
      where: { merchantId, seq: { gt: after } },
      orderBy: { seq: 'asc' },
      take: PAGE,
      select: { seq: true, type: true, line: true, programVersionId: true },
    });
    if (page.length === 0) break;
    after = page[page.length - 1]!.seq;
    for (const row of page) {
      events++;
      carryPast(row.seq);
      const program = programFor(row.programVersionId);
      apply(program, row.type, row.line, states, world, orders, write);
    }
  }
  carryPast(BigInt(Number.MAX_SAFE_INTEGER));
  return compare(prisma, merchantId, states, ledgers, events);
}

function apply(
  program: Program,
  type: string,
  line: string,
  states: Map<string, MemberState>,
  world: { get(id: string): MemberState | undefined; order(id: string): OrderRecord | undefined },
  orders: Map<string, OrderRecord>,
  write: (entries: readonly LedgerEntry[]) => void,
): void {
  const value = JSON.parse(line) as Record<string, unknown>;
  if (type === 'birthday') {
    const s = states.get(value.member as string);
    if (s) write(changeBirthday(program, s, (value.birthday as string | null) ?? null, Date.parse(value.at as string)));
    return;
  }
  const parsed = parseEvent(program, value);
  if (parsed.error !== undefined) throw new Error(`logged event does not parse (${parsed.error}): ${line}`);
  const event = parsed.event;
  if (event.type === 'tick') {
    for (const s of states.values()) {
      const due = nextDue(program, s);
      if (due !== null && due <= event.at) write(advance(program, s, event.at));
    }
    return;
  }
  const outcome = applyEvent(program, event, world);
  for (const s of outcome.changed) states.set(s.id, s);
  write(outcome.entries);
  if (outcome.order && (event.type === 'order' || event.type === 'refund')) {
    orders.set(event.type === 'order' ? event.id : event.order, outcome.order);
  }
}

async function compare(
  prisma: PrismaClient,
  merchantId: string,
  states: Map<string, MemberState>,
  ledgers: Map<string, Entry[]>,
  events: number,
): Promise<VerifyReport> {
  const differences: VerifyDifference[] = [];
  const differ = (d: VerifyDifference) => {
    if (differences.length < MAX_DIFFERENCES) differences.push(d);
  };
  const seen = new Set<string>();
  let members = 0;
  let skipped = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await prisma.member.findMany({
      where: { merchantId, id: { gt: after } },
      orderBy: { id: 'asc' },
      take: PAGE,
      select: { id: true, externalId: true, state: true, balance: true, erasedAt: true },
    });
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const stored = await prisma.ledgerEntry.findMany({
      where: { memberId: { in: page.map((m) => m.id) } },
      orderBy: { id: 'asc' },
      select: { memberId: true, at: true, kind: true, points: true, rule: true, ref: true },
    });
    const byMember = new Map<string, Entry[]>();
    for (const e of stored) {
      let list = byMember.get(e.memberId);
      if (!list) byMember.set(e.memberId, (list = []));
      list.push({ at: e.at.getTime(), kind: e.kind, points: Number(e.points), rule: e.rule, ref: e.ref });
    }
    for (const m of page) {
      members++;
      seen.add(m.externalId);
      if (m.erasedAt !== null) {
        skipped++;
        continue;
      }
      const derived = states.get(m.externalId);
      if (!derived) {
        differ({ member: m.externalId, what: 'missing', message: 'stored, but no event in the log creates it' });
        continue;
      }
      const state = asStored(derived) as Record<string, unknown>;
      // A state stored by an older engine compares as it reads (state.ts).
      const storedState = (upgradeState(m.state) ?? {}) as Record<string, unknown>;
      const fields = [...new Set([...Object.keys(state), ...Object.keys(storedState)])].filter((k) => !isDeepStrictEqual(state[k], storedState[k]));
      if (fields.length) {
        const shown = fields.map((k) => `${k}: stored ${JSON.stringify(storedState[k])}, derived ${JSON.stringify(state[k])}`).join('; ');
        differ({ member: m.externalId, what: 'state', message: `state differs in ${shown}` });
      }
      const mine = (byMember.get(m.id) ?? []).map(entryText);
      const theirs = (ledgers.get(m.externalId) ?? []).map(entryText);
      const sum = (ledgers.get(m.externalId) ?? []).reduce((a, e) => a + e.points, 0);
      if (Number(m.balance) !== sum) differ({ member: m.externalId, what: 'balance', message: `stored ${m.balance} ≠ derived ${sum}` });
      if (!isDeepStrictEqual(mine, theirs)) {
        const i = mine.findIndex((e, k) => e !== theirs[k]);
        const at = i < 0 ? Math.min(mine.length, theirs.length) : i;
        differ({
          member: m.externalId,
          what: 'ledger',
          message: `entry ${at + 1}: stored ${mine[at] ?? '(none)'} ≠ derived ${theirs[at] ?? '(none)'} (${mine.length} stored, ${theirs.length} derived)`,
        });
      }
    }
  }
  for (const id of states.keys()) {
    if (!seen.has(id)) differ({ member: id, what: 'extra', message: 'the log creates it, but it is not stored' });
  }
  return { merchantId, events, members, skipped, differences };
}

/** verifyMerchant for every merchant. */
export async function verifyAll(prisma: PrismaClient): Promise<VerifyReport[]> {
  const merchants = await prisma.merchant.findMany({ select: { id: true }, orderBy: { createdAt: 'asc' } });
  const reports: VerifyReport[] = [];
  for (const m of merchants) reports.push(await verifyMerchant(prisma, m.id));
  return reports;
}
