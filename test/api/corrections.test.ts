// Corrections (issue 7): updateMember, the GDPR export and erasure, and the
// audit log of admin actions; admin only. On embedded PGlite and on a real
// PostgreSQL, as the API suite.
import { describe, expect, test } from 'vitest';
import { example, newMerchant, ok, rawRequest, request, verifiedServer, type Backend, type TestServer } from './client.ts';
import {
  AuditLogDocument,
  EraseMemberDocument,
  ExportMemberDocument,
  MemberCorrectionsDocument,
  RecordOrderDocument,
  SignupDocument,
  UpdateMemberDocument,
} from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const latte = { sku: 'LATTE-12', category: 'espresso', qty: 3, price: '4.75' };
const DAY = 86_400_000;

type Result = Awaited<ReturnType<typeof rawRequest>>;
const codes = (res: { errors?: Result['errors'] }) => (res.errors ?? []).map((e) => e.extensions?.code);
/** The month and day of `ms` in UTC, as a birthday of 1990. */
const birthdayOn = (ms: number) => `1990-${new Date(ms).toISOString().slice(5, 10)}`;

interface Exported {
  member: { id: string; birthday: string | null; note: string | null; balance: number; erasedAt: string | null };
  state: { id: string; birthday: string | null; referrer: string | null; nextBirthday: number | null };
  ledger: { kind: string; points: number; rule: string | null }[];
  orders: { id: string; total: number; lines: { sku: string }[] }[];
  referrals: { referee: string }[];
  referredBy: { referrer: string } | null;
  audit: { action: string; actor: string | null; details: Record<string, unknown> }[];
}

describe.each<Backend>(['pglite', 'postgres'])('corrections on %s', { timeout: 120_000 }, (backend) => {
  let server: TestServer;

  verifiedServer(backend, (s) => (server = s), { eachTest: true });

  const gql = (key: string | null, query: string, variables: Record<string, unknown> = {}) => rawRequest(server.app, { query, variables }, key);

  /** A sandbox merchant with the coffee program; keys of every scope (the admin one labelled "support desk"); `ava` (with an order) referred `ben`. */
  async function shop(avaBirthday: string) {
    const merchant = await newMerchant(server, COFFEE, { sandbox: true });
    const key = async (scope: string, label: string) => {
      const res = await gql(merchant.key, 'mutation($scope: ApiKeyScope!, $label: String) { createApiKey(scope: $scope, label: $label) { key } }', { scope, label });
      expect(res.errors).toBeUndefined();
      return (res.data as { createApiKey: { key: string } }).createApiKey.key;
    };
    const admin = await key('ADMIN', 'support desk');
    const write = await key('WRITE', 'POS');
    const read = await key('READ', 'dashboard');
    expect((await ok(server.app, write, SignupDocument, { input: { memberId: 'ava', birthday: avaBirthday } })).signup.__typename).toBe('MemberPayload');
    expect((await ok(server.app, write, SignupDocument, { input: { memberId: 'ben', referrerId: 'ava' } })).signup.__typename).toBe('MemberPayload');
    const order = await ok(server.app, write, RecordOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', lines: [latte] } });
    expect(order.recordOrder.__typename).toBe('RecordOrderPayload');
    return { merchant, admin, write, read };
  }

  async function memberToken(write: string, memberId: string): Promise<string> {
    const res = await gql(write, 'mutation($m: ID!) { createMemberToken(memberId: $m) { token } }', { m: memberId });
    expect(res.errors).toBeUndefined();
    return (res.data as { createMemberToken: { token: string } }).createMemberToken.token;
  }

  const exported = async (admin: string, memberId: string) => (await ok(server.app, admin, ExportMemberDocument, { memberId })).exportMember as Exported;

  test('updateMember corrects the birthday in the engine state: the next bonus is the new birthday\'s', async () => {
    const now = Date.now();
    const { admin, read } = await shop(birthdayOn(now + 180 * DAY));
    const corrected = birthdayOn(now + 10 * DAY);
    const res = await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', birthday: corrected, note: 'prefers oat milk' } });
    expect(res.updateMember.member).toMatchObject({ id: 'ava', birthday: corrected, note: 'prefers oat milk' });

    const state = (await exported(admin, 'ava')).state;
    expect(state.birthday).toBe(corrected);
    expect(state.nextBirthday).toBeGreaterThan(now + 9 * DAY);
    expect(state.nextBirthday).toBeLessThan(now + 11 * DAY);

    // The sandbox moves its clock: the bonus falls on the corrected birthday.
    const until = new Date(now + 20 * DAY).toISOString();
    expect((await gql(admin, 'mutation($at: DateTime!) { advanceTime(at: $at) { entries } }', { at: until })).errors).toBeUndefined();
    const member = (await ok(server.app, read, MemberCorrectionsDocument, { id: 'ava' })).member!;
    expect(member.note).toBe('prefers oat milk');
    expect(member.ledger.edges.filter((e) => e.node.rule === 'birthday').map((e) => e.node.points)).toEqual([500]);

    // Only the note; null clears it, and the birthday stays.
    const cleared = await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', note: null } });
    expect(cleared.updateMember.member).toMatchObject({ birthday: corrected, note: null });
  });

  test('invalid corrections are BAD_USER_INPUT, an unknown member NOT_FOUND; nothing is written', async () => {
    const { admin } = await shop('1990-06-15');
    const refused: [Record<string, unknown>, string][] = [
      [{ memberId: 'ava', birthday: '1990-02-30' }, 'BAD_USER_INPUT'],
      [{ memberId: 'ava', birthday: '1990-6-15' }, 'BAD_USER_INPUT'],
      [{ memberId: 'ava', birthday: '15/06/1990' }, 'BAD_USER_INPUT'],
      [{ memberId: 'ava', note: 'x'.repeat(2001) }, 'BAD_USER_INPUT'],
      [{ memberId: 'ava' }, 'BAD_USER_INPUT'],
      [{ memberId: 'nobody', note: 'hi' }, 'NOT_FOUND'],
    ];
    for (const [input, code] of refused) {
      const res = await request(server.app, admin, UpdateMemberDocument, { input: input as { memberId: string } });
      expect(codes(res), JSON.stringify(input)).toEqual([code]);
    }
    expect((await request(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', note: 'x'.repeat(2000) } })).errors).toBeUndefined();
    expect(codes(await request(server.app, admin, EraseMemberDocument, { memberId: 'nobody' }))).toEqual(['NOT_FOUND']);
    expect(codes(await request(server.app, admin, ExportMemberDocument, { memberId: 'nobody' }))).toEqual(['NOT_FOUND']);
    const audit = await ok(server.app, admin, AuditLogDocument, { action: 'updateMember' });
    expect(audit.auditLog.totalCount).toBe(1);
    expect((await exported(admin, 'ava')).member.birthday).toBe('1990-06-15');
  });

  test('corrections, exports and the audit log are admin only; member tokens never see the note', async () => {
    const { admin, write, read } = await shop('1990-06-15');
    await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', note: 'VIP' } });
    const token = await memberToken(write, 'ava');
    const operations = [
      'mutation { updateMember(input: { memberId: "ava", note: "x" }) { points } }',
      'mutation { eraseMember(memberId: "ava") { points } }',
      '{ exportMember(memberId: "ava") }',
      '{ auditLog(first: 5) { totalCount } }',
    ];
    for (const query of operations) {
      for (const [credential, name] of [[write, 'write'], [read, 'read'], [token, 'member']] as const) {
        const res = await gql(credential, query);
        expect(res.status, `${name}: ${query}`).toBe(403);
        expect(codes(res)).toContain('FORBIDDEN');
      }
    }
    // Keys read the note; a member token reads its member but not the note.
    for (const key of [admin, write, read]) {
      expect((await gql(key, '{ member(id: "ava") { note } }')).data).toEqual({ member: { note: 'VIP' } });
    }
    expect((await gql(token, '{ member(id: "ava") { balance } }')).errors).toBeUndefined();
    const seen = await gql(token, '{ member(id: "ava") { note } }');
    expect(seen.status).toBe(403);
    expect(codes(seen)).toContain('FORBIDDEN');
    expect((await exported(admin, 'ava')).member.note).toBe('VIP');
  });

  test('exportMember holds the member, state, ledger, orders with lines, referrals, note and audit', async () => {
    const { admin } = await shop('1990-06-15');
    await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', note: 'prefers oat milk' } });
    const data = await exported(admin, 'ava');
    expect(data.member).toMatchObject({ id: 'ava', birthday: '1990-06-15', note: 'prefers oat milk', erasedAt: null });
    expect(data.state).toMatchObject({ id: 'ava', birthday: '1990-06-15' });
    expect(data.ledger.map((e) => e.rule)).toContain('signup');
    expect(data.ledger.reduce((sum, e) => sum + e.points, 0)).toBe(data.member.balance);
    expect(data.orders).toEqual([expect.objectContaining({ id: 'A-1', total: 1425, lines: [expect.objectContaining({ sku: 'LATTE-12', qty: 3 })] })]);
    expect(data.referrals).toEqual([expect.objectContaining({ referee: 'ben' })]);
    expect(data.audit).toEqual([expect.objectContaining({ action: 'updateMember', actor: 'support desk', details: { fields: ['note'] } })]);
    expect((await exported(admin, 'ben')).referredBy).toMatchObject({ referrer: 'ava' });
  });

  test('eraseMember removes birthday, note and id, keeps balance, ledger and orders; the referee follows the pseudonym', async () => {
    const { admin, write, read } = await shop('1990-06-15');
    await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', note: 'lives at 1 Main St' } });
    const token = await memberToken(write, 'ava');
    const before = (await ok(server.app, read, MemberCorrectionsDocument, { id: 'ava' })).member!;

    const erased = (await ok(server.app, admin, EraseMemberDocument, { memberId: 'ava' })).eraseMember.member;
    expect(erased.id).toMatch(/^erased-[A-Za-z0-9_-]{12}$/);
    expect(erased).toMatchObject({ birthday: null, note: null, balance: before.balance });
    expect(erased.erasedAt).not.toBeNull();

    expect((await ok(server.app, read, MemberCorrectionsDocument, { id: 'ava' })).member).toBeNull();
    expect(codes(await request(server.app, admin, ExportMemberDocument, { memberId: 'ava' }))).toEqual(['NOT_FOUND']);
    const after = (await ok(server.app, read, MemberCorrectionsDocument, { id: erased.id })).member!;
    expect(after).toMatchObject({ birthday: null, note: null, balance: before.balance });
    expect(after.ledger).toEqual(before.ledger);

    const data = await exported(admin, erased.id);
    expect(JSON.stringify(data)).not.toMatch(/"ava"|1990-06-15|Main St/);
    expect(data.state).toMatchObject({ id: erased.id, birthday: null, nextBirthday: null });
    expect(data.orders.map((o) => o.total)).toEqual([1425]);
    expect(data.audit.map((a) => a.action)).toEqual(['updateMember', 'eraseMember']);

    // The member's tokens stop working.
    expect((await gql(token, '{ member(id: "ava") { balance } }')).status).toBe(401);
    // ben's referrer is the pseudonym: his first order rewards it.
    expect((await exported(admin, 'ben')).state.referrer).toBe(erased.id);
    const order = await ok(server.app, write, RecordOrderDocument, { input: { memberId: 'ben', orderId: 'B-1', lines: [latte] } });
    expect(order.recordOrder.__typename).toBe('RecordOrderPayload');
    const rewarded = (await ok(server.app, read, MemberCorrectionsDocument, { id: erased.id })).member!;
    expect(rewarded.ledger.edges.map((e) => e.node.rule)).toContain('referral:referrer');
    // A new member may take the old id; the erased one stays apart.
    expect((await ok(server.app, write, SignupDocument, { input: { memberId: 'ava' } })).signup.__typename).toBe('MemberPayload');
    expect((await exported(admin, 'ava')).orders).toEqual([]);
  });

  test('the audit log lists admin actions with the acting key, newest first, by action and target, in pages', async () => {
    const { admin, merchant } = await shop('1990-06-15');
    await ok(server.app, admin, UpdateMemberDocument, { input: { memberId: 'ava', birthday: '1991-01-02' } });
    expect((await gql(admin, 'mutation($s: String!) { publishProgram(source: $s) { ... on PublishProgramPayload { created } } }', { s: `${COFFEE}\n# v2\n` })).errors).toBeUndefined();
    expect((await gql(admin, 'mutation { advanceTime { entries } }')).errors).toBeUndefined();
    const created = await gql(admin, 'mutation { createApiKey(scope: READ, label: "temp") { apiKey { id } } }');
    const tempId = (created.data as { createApiKey: { apiKey: { id: string } } }).createApiKey.apiKey.id;
    expect((await gql(admin, `mutation { revokeApiKey(id: "${tempId}") { revokedAt } }`)).errors).toBeUndefined();
    expect((await gql(admin, 'mutation { rotateMemberTokenSecret }')).errors).toBeUndefined();
    const erased = (await ok(server.app, admin, EraseMemberDocument, { memberId: 'ben' })).eraseMember.member.id;

    const all = (await ok(server.app, admin, AuditLogDocument, { first: 100 })).auditLog;
    const actions = all.edges.map((e) => e.node.action);
    expect(actions).toEqual([
      'eraseMember',
      'rotateMemberTokenSecret',
      'revokeApiKey',
      'createApiKey',
      'advanceTime',
      'publishProgram',
      'updateMember',
      'createApiKey',
      'createApiKey',
      'createApiKey',
    ]);
    expect(all.totalCount).toBe(10);
    const byAction = (action: string) => all.edges.map((e) => e.node).filter((n) => n.action === action);
    // The first key (created with the merchant) created the others; "support desk" did the rest.
    expect(byAction('createApiKey').map((n) => [n.actorLabel, (n.details as { label: string }).label])).toEqual([
      ['support desk', 'temp'],
      ['created with the merchant', 'dashboard'],
      ['created with the merchant', 'POS'],
      ['created with the merchant', 'support desk'],
    ]);
    expect(byAction('updateMember')[0]).toMatchObject({ actorLabel: 'support desk', target: 'ava', details: { fields: ['birthday'] } });
    expect(byAction('revokeApiKey')[0]).toMatchObject({ target: tempId, details: { label: 'temp' } });
    expect(byAction('publishProgram')[0]).toMatchObject({ target: '2', details: { created: true } });
    expect(byAction('eraseMember')[0]).toMatchObject({ target: erased, details: {} });
    expect(all.edges.every((e) => e.node.actorKeyId !== null)).toBe(true);

    const filtered = (await ok(server.app, admin, AuditLogDocument, { action: 'updateMember', target: 'ava' })).auditLog;
    expect(filtered.totalCount).toBe(1);
    const page1 = (await ok(server.app, admin, AuditLogDocument, { first: 4 })).auditLog;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await ok(server.app, admin, AuditLogDocument, { first: 100, after: page1.pageInfo.endCursor })).auditLog;
    expect([...page1.edges, ...page2.edges].map((e) => e.node.id)).toEqual(all.edges.map((e) => e.node.id));

    // Another merchant's log is its own.
    const other = await newMerchant(server, COFFEE);
    expect((await ok(server.app, other.key, AuditLogDocument, {})).auditLog.totalCount).toBe(0);
    expect(merchant.id).not.toBe(other.id);
  });
});
