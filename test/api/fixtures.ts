// Feeds a replay fixture (examples/NAME.events.jsonl) through the API, one
// mutation per event, and reads back what replay.md's result holds, so a test
// can compare it with `loyalty replay` of the same files.
import {
  AdvanceTimeDocument,
  CancelClubDocument,
  JoinClubDocument,
  MemberDocument,
  MemberLedgerDocument,
  MemberPendingDocument,
  RecordEventDocument,
  RecordOrderDocument,
  RedeemPointsDocument,
  RedeemRewardDocument,
  RefundOrderDocument,
  SignupDocument,
} from './generated/operations.ts';
import { ok, request, type Response } from './client.ts';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { App } from '../../src/server/yoga.ts';
import type { MemberLedgerQuery } from './generated/operations.ts';

export interface ApiResult {
  members: Record<string, { balance: number; pending?: number; tier: string | null; clubs: string[]; ledger: unknown[] }>;
  /** Lines the API refused or rejected (replay.md errors). */
  errorLines: number[];
}

type Json = Record<string, unknown>;

/** A write's outcome: accepted, or refused (typed refusal, GraphQL error, or an order-id replay). */
function refused(res: Response<Record<string, unknown>>): boolean {
  if (res.errors?.length || !res.data) return true;
  const payload = Object.values(res.data)[0] as Json;
  if (payload.__typename === 'EventRefused') return true;
  // replay.md refuses a second order with a used id; the API answers a same-body retry with the
  // first result and writes nothing, which is the same outcome for the ledger.
  return payload.replayed === true;
}

/** `pending`: the program has a `pending` setting, so the result has each member's pending points (replay.md). */
export async function feedFixture(app: App, key: string, jsonl: string, options: { pending?: boolean } = {}): Promise<ApiResult> {
  const errorLines: number[] = [];
  const members = new Set<string>();
  let lastAccepted: string | null = null;
  const lines = jsonl.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (!text) continue;
    const n = i + 1;
    let e: Json;
    try {
      e = JSON.parse(text) as Json;
      if (!e || typeof e !== 'object' || Array.isArray(e)) throw new Error('not an object');
    } catch {
      errorLines.push(n);
      continue;
    }
    const at = e.at as string;
    // Fixture values go in as they are (untyped JSON), so the API meets exactly what replay met.
    const send = (doc: unknown, variables: unknown) =>
      request(app, key, doc as TypedDocumentNode<Record<string, unknown>, unknown>, variables) as Promise<Response<Record<string, unknown>>>;
    let res: Response<Record<string, unknown>>;
    switch (e.type) {
      case 'signup':
        res = await send(SignupDocument, {
          input: { memberId: e.member, birthday: e.birthday ?? null, referrerId: e.referrer ?? null, at },
        });
        break;
      case 'order':
        res = await send(RecordOrderDocument, {
          input: { memberId: e.member, orderId: e.id, lines: e.lines, channel: e.channel ?? null, at },
        });
        break;
      case 'refund':
        res = await send(RefundOrderDocument, { input: { memberId: e.member, orderId: e.order, refundId: `line-${n}`, lines: e.lines, at } });
        break;
      case 'redeem':
        res = await send(RedeemPointsDocument, {
          input: { memberId: e.member, points: e.points, orderTotal: e.order_total ?? null, at },
        });
        break;
      case 'redeem_reward':
        res = await send(RedeemRewardDocument, { input: { memberId: e.member, reward: e.reward, at } });
        break;
      case 'join_club':
        res = await send(JoinClubDocument, { input: { memberId: e.member, club: e.club, at } });
        break;
      case 'cancel_club':
        res = await send(CancelClubDocument, { input: { memberId: e.member, club: e.club, at } });
        break;
      case 'event':
        res = await send(RecordEventDocument, { input: { memberId: e.member, name: e.name, at } });
        break;
      case 'tick':
        res = await send(AdvanceTimeDocument, { at });
        break;
      default:
        errorLines.push(n);
        continue;
    }
    if (refused(res)) {
      errorLines.push(n);
    } else {
      lastAccepted = at;
      if (e.type === 'signup') members.add(String(e.member));
    }
  }
  const result: ApiResult = { members: {}, errorLines };
  for (const id of members) {
    const m = (await ok(app, key, MemberDocument, { id, clubsAt: lastAccepted })).member!;
    const ledger: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const page: NonNullable<MemberLedgerQuery['member']>['ledger'] = (await ok(app, key, MemberLedgerDocument, { id, first: 100, after })).member!.ledger;
      for (const { node } of page.edges) ledger.push({ at: node.at, kind: node.kind.toLowerCase(), points: node.points, rule: node.rule, ref: node.ref });
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? null;
    }
    const pending = options.pending ? { pending: (await ok(app, key, MemberPendingDocument, { id })).member!.pendingPoints } : {};
    result.members[id] = {
      balance: m.balance,
      ...pending,
      tier: m.tier?.name ?? null,
      clubs: m.clubs.map((c) => c.name).sort(),
      ledger: ledger.reverse(), // the API lists newest first; replay in write order
    };
  }
  return result;
}
