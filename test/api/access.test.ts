// Access: key scopes, member tokens, 401/403, CORS, GraphiQL, and the codes
// of GraphQL's own errors. On embedded PGlite (nothing here depends on the
// database engine; operations.test.ts covers several processes on PostgreSQL).
import { buildSchema, isObjectType, parse, validate, type GraphQLObjectType } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { schema } from '../../src/server/graphql/schema.ts';
import { GRAPHIQL_HEADERS, STARTER_QUERY } from '../../src/server/http/graphiql.ts';
import { createMemberToken, KeyUsage } from '../../src/server/services/auth.ts';
import { createApp } from '../../src/server/yoga.ts';
import { example, newMerchant, rawRequest, startTestServer, type TestServer } from './client.ts';

const COFFEE = example('coffee-chain.loyalty');
const latte = { sku: 'LATTE-12', category: 'espresso', qty: 1, price: '4.75' };

type Result = Awaited<ReturnType<typeof rawRequest>>;
const codes = (res: Result) => (res.errors ?? []).map((e) => e.extensions?.code);

describe('access', { timeout: 120_000 }, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('pglite');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(() => {
    expect(server.masked).toEqual([]);
  });

  const gql = (key: string | null, query: string, variables: Record<string, unknown> = {}) =>
    rawRequest(server.app, { query, variables }, key);

  /** A merchant with the coffee program, member `ava` (with an order) and member `ben`; keys of every scope. */
  async function shop() {
    const merchant = await newMerchant(server, COFFEE);
    const admin = merchant.key;
    const key = async (scope: string, label: string) => {
      const res = await gql(admin, 'mutation($scope: ApiKeyScope!, $label: String) { createApiKey(scope: $scope, label: $label) { key apiKey { id scope label } } }', { scope, label });
      expect(res.errors).toBeUndefined();
      return (res.data as { createApiKey: { key: string } }).createApiKey.key;
    };
    const write = await key('WRITE', 'POS');
    const read = await key('READ', 'dashboard');
    for (const id of ['ava', 'ben']) {
      expect((await gql(write, `mutation { signup(input: { memberId: "${id}", at: "2026-03-02T09:00:00Z" }) { __typename } }`)).errors).toBeUndefined();
    }
    const order = await gql(write, 'mutation($l: [OrderLineInput!]!) { recordOrder(input: { memberId: "ava", orderId: "A-1", lines: $l, at: "2026-03-02T10:00:00Z" }) { __typename } }', { l: [latte] });
    expect(order.errors).toBeUndefined();
    return { merchant, admin, write, read };
  }

  async function memberToken(writeKey: string, memberId: string, ttl?: number): Promise<string> {
    const res = await gql(writeKey, 'mutation($m: ID!, $ttl: Int) { createMemberToken(memberId: $m, ttl: $ttl) { token expiresAt memberId } }', { m: memberId, ttl });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return (res.data as { createMemberToken: { token: string } }).createMemberToken.token;
  }

  describe('401 for a missing, unknown, expired or revoked credential', () => {
    test('every operation, { __typename } and introspection included', async () => {
      const { admin, write } = await shop();
      const revoked = await gql(admin, 'mutation { createApiKey(scope: READ) { key apiKey { id } } }');
      const { key: revokedKey, apiKey } = (revoked.data as { createApiKey: { key: string; apiKey: { id: string } } }).createApiKey;
      expect((await gql(admin, `mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`)).errors).toBeUndefined();
      const expired = (await createMemberToken(server.db.prisma, (await server.db.prisma.apiKey.findFirstOrThrow({ where: { revokedAt: null, scope: 'write', label: 'POS' }, orderBy: { createdAt: 'desc' } })).merchantId, 'ava', 60, Date.now() - 3_600_000)).token;
      const tokenThenRevoked = await memberToken(write, 'ava');
      expect((await gql(write, 'mutation { revokeMemberTokens(memberId: "ava") }')).data).toEqual({ revokeMemberTokens: true });
      // Change the signature's first character: the last one of a base64url
      // HMAC carries padding bits, so changing it may leave the bytes as they were.
      const signed = await memberToken(write, 'ava');
      const at = signed.lastIndexOf('.') + 1;
      const tampered = signed.slice(0, at) + (signed[at] === 'A' ? 'Q' : 'A') + signed.slice(at + 1);

      const credentials: [string | null, string][] = [
        [null, 'missing'],
        ['garbage', 'unknown'],
        ['lk_not-a-real-key', 'unknown'],
        [revokedKey, 'revoked'],
        [expired, 'expired'],
        [tokenThenRevoked, 'revoked'],
        [tampered, 'unknown'],
      ];
      for (const [credential, reason] of credentials) {
        for (const query of ['{ __typename }', '{ __schema { queryType { name } } }', '{ merchant { id } }', 'mutation { advanceTime { entries } }', '{ nonsense }']) {
          const res = await gql(credential, query);
          expect(res.status, `${reason}: ${query}`).toBe(401);
          expect(res.data).toBeUndefined();
          expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
        }
      }
      // A malformed Authorization header is refused the same way.
      const res = await server.app.fetch('http://loyalty.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
        body: '{"query":"{ __typename }"}',
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    });

    test('rotating the member-token secret revokes every member token; new ones work', async () => {
      const { admin, write } = await shop();
      const before = await memberToken(write, 'ava');
      expect((await gql(before, '{ member(id: "ava") { balance } }')).status).toBe(200);
      expect((await gql(write, 'mutation { rotateMemberTokenSecret }')).status).toBe(403);
      expect((await gql(admin, 'mutation { rotateMemberTokenSecret }')).data).toEqual({ rotateMemberTokenSecret: true });
      expect((await gql(before, '{ member(id: "ava") { balance } }')).status).toBe(401);
      const after = await memberToken(write, 'ava');
      expect((await gql(after, '{ member(id: "ava") { balance } }')).status).toBe(200);
    });
  });

  describe('scopes', () => {
    test('read keys read; write keys also write; admin keys also change programs, keys and time', async () => {
      const { admin, write, read } = await shop();
      const operations: [string, 'read' | 'write' | 'admin'][] = [
        ['{ merchant { name } members(first: 5) { edges { node { id } } } program { version } }', 'read'],
        ['{ member(id: "ava") { balance orders(first: 1) { edges { node { id } } } } }', 'read'],
        ['query($l: [OrderLineInput!]!) { quote(member: "ava", order: { lines: $l }) { points } }', 'read'],
        ['mutation { recordEvent(input: { memberId: "ava", name: "survey", at: "2026-03-05T10:00:00Z" }) { __typename } }', 'write'],
        ['mutation { createMemberToken(memberId: "ava") { token } }', 'write'],
        ['mutation($s: String!) { publishProgram(source: $s) { __typename } }', 'admin'],
        ['query($s: String!) { checkProgram(source: $s) { ok } }', 'admin'],
        ['query($s: String!) { previewProgram(source: $s) { __typename } }', 'admin'],
        ['mutation { advanceTime(at: "2026-03-05T11:00:00Z") { entries } }', 'admin'],
        ['mutation { adjustPoints(input: { memberId: "ava", points: 5, reason: "test", idempotencyKey: "k" }) { __typename } }', 'admin'],
        ['{ apiKeys { id } }', 'admin'],
        ['mutation { createApiKey(scope: READ) { key } }', 'admin'],
      ];
      const rank = { read: 0, write: 1, admin: 2 };
      for (const [query, needed] of operations) {
        for (const [key, scope] of [[read, 'read'], [write, 'write'], [admin, 'admin']] as const) {
          const res = await gql(key, query, { l: [latte], s: COFFEE });
          if (rank[scope] >= rank[needed]) {
            expect(res.errors, `${scope}: ${query}`).toBeUndefined();
            expect(res.status).toBe(200);
          } else {
            expect(res.status, `${scope}: ${query}`).toBe(403);
            expect(codes(res)).toContain('FORBIDDEN');
            expect(res.errors?.[0]?.message).toContain(`"${scope}" scope`);
          }
        }
      }
    });

    test('every Query, Mutation and Subscription field declares its scopes', () => {
      const missing: string[] = [];
      for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[]) {
        for (const field of Object.values(root.getFields())) {
          const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions;
          if (!options?.authScopes) missing.push(`${root.name}.${field.name}`);
        }
      }
      expect(missing).toEqual([]);
    });

    test('every object type of ours declares type-level scopes', () => {
      const generated = /(Connection|Edge)$|^(PageInfo|Query|Mutation|Subscription)$|^__/;
      const missing = Object.values(schema.getTypeMap())
        .filter((t) => isObjectType(t) && !generated.test(t.name))
        .filter((t) => !(t.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes)
        .map((t) => t.name);
      expect(missing).toEqual([]);
    });
  });

  describe('keys', () => {
    test('created with a scope and label, listed with created and last-used times, revoked', async () => {
      const merchant = await newMerchant(server, COFFEE);
      // An app whose key usage is flushed only when the test says so.
      const usage = new KeyUsage(server.db.prisma);
      const app = createApp(server.db, { keyUsage: usage });
      const send = (key: string, query: string) => rawRequest(app, { query }, key);
      const created = await send(merchant.key, 'mutation { createApiKey(scope: READ, label: "POS") { key apiKey { id prefix label scope createdAt lastUsedAt revokedAt } } }');
      const { key, apiKey } = (created.data as { createApiKey: { key: string; apiKey: Record<string, unknown> } }).createApiKey;
      expect(key).toMatch(/^lk_[A-Za-z0-9_-]{32}$/);
      expect(apiKey).toMatchObject({ prefix: key.slice(0, 10), label: 'POS', scope: 'READ', lastUsedAt: null, revokedAt: null });

      expect((await send(key, '{ merchant { id } }')).status).toBe(200);
      const list = async () =>
        ((await send(merchant.key, '{ apiKeys { id label scope lastUsedAt revokedAt createdAt } }')).data as { apiKeys: Record<string, unknown>[] }).apiKeys;
      // Authenticating does not write: the use is recorded at the next flush.
      expect((await list()).find((k) => k.id === apiKey.id)?.lastUsedAt).toBeNull();
      await usage.flush();
      const listed = await list();
      expect(listed.map((k) => [k.label, k.scope])).toEqual([
        ['created with the merchant', 'ADMIN'],
        ['POS', 'READ'],
      ]);
      const used = listed.find((k) => k.id === apiKey.id)!;
      expect(Date.parse(String(used.lastUsedAt))).toBeGreaterThanOrEqual(Date.parse(String(used.createdAt)));

      const revoked = await send(merchant.key, `mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`);
      expect((revoked.data as { revokeApiKey: { revokedAt: string } }).revokeApiKey.revokedAt).toBeTruthy();
      expect((await send(key, '{ merchant { id } }')).status).toBe(401);
      // Another merchant's admin cannot revoke this merchant's keys.
      const other = await newMerchant(server);
      const foreign = await send(other.key, `mutation { revokeApiKey(id: "${(listed[0] as { id: string }).id}") { id } }`);
      expect(codes(foreign)).toEqual(['NOT_FOUND']);
      await usage.stop();
    });
  });

  describe('member tokens', () => {
    test("answer only the member's own balance, tier progress, ledger and quote", async () => {
      const { write, read } = await shop();
      const token = await memberToken(write, 'ava');
      const own = await gql(
        token,
        `query($l: [OrderLineInput!]!) {
          member(id: "ava") { id balance perks clubs { name } tier { name progress { metric value nextTier remaining remainingMoney { amount } } }
            ledger(first: 5) { edges { node { id at kind points rule ref line sourceLine } } pageInfo { hasNextPage } } }
          quote(member: "ava", order: { lines: $l }) { points entries { rule points } total { amount } }
        }`,
        { l: [latte] },
      );
      expect(own.errors).toBeUndefined();
      const data = own.data as { member: { balance: number; ledger: { edges: unknown[] } }; quote: { points: number } };
      expect(data.member.balance).toBeGreaterThan(100);
      expect(data.member.ledger.edges.length).toBeGreaterThanOrEqual(2);
      expect(data.quote.points).toBeGreaterThan(0);

      const refused = [
        '{ member(id: "ben") { balance } }',
        'query($l: [OrderLineInput!]!) { quote(member: "ben", order: { lines: $l }) { points } }',
        '{ members(first: 5) { edges { node { id } } } }',
        '{ merchant { id } }',
        '{ program { source } }',
        '{ member(id: "ava") { birthday } }',
        '{ member(id: "ava") { orders(first: 5) { edges { node { id } } } } }',
        '{ member(id: "ava") { referrals { referee { id } } } }',
        '{ member(id: "ava") { ledger(first: 5) { edges { node { order { id } } } } } }',
        '{ member(id: "ava") { ledger(first: 5) { edges { node { member { balance } } } } } }',
        '{ member(id: "ava") { ledger(first: 5) { edges { node { programVersion { source } } } } } }',
        'mutation { recordEvent(input: { memberId: "ava", name: "survey" }) { __typename } }',
        'mutation { createMemberToken(memberId: "ben") { token } }',
        'mutation { revokeMemberTokens(memberId: "ava") }',
        '{ apiKeys { id } }',
      ];
      for (const query of refused) {
        const res = await gql(token, query, { l: [latte] });
        expect(res.status, query).toBe(403);
        expect(codes(res), query).toContain('FORBIDDEN');
        expect(JSON.stringify(res.data ?? null), query).not.toMatch(/"(ben|balance|source|birthday)":\s*[^n]/);
      }
      // Read keys cannot hand out member tokens.
      expect((await gql(read, 'mutation { createMemberToken(memberId: "ava") { token } }')).status).toBe(403);
    });

    test("a token is its merchant's only, for an existing member, for a bounded time", async () => {
      const a = await shop();
      const b = await shop();
      const token = await memberToken(a.write, 'ava');
      // Merchant B also has an "ava"; A's token reads A's ava only.
      await gql(b.write, 'mutation { recordEvent(input: { memberId: "ava", name: "survey", at: "2026-03-05T10:00:00Z" }) { __typename } }');
      const balances = async (key: string) => ((await gql(key, '{ member(id: "ava") { balance } }')).data as { member: { balance: number } }).member.balance;
      expect(await balances(token)).toBe(await balances(a.read));
      expect(await balances(token)).not.toBe(await balances(b.read));

      const unknown = await gql(a.write, 'mutation { createMemberToken(memberId: "nobody") { token } }');
      expect(codes(unknown)).toEqual(['NOT_FOUND']);
      for (const ttl of [0, 59, 7 * 24 * 3600 + 1]) {
        const res = await gql(a.write, 'mutation($ttl: Int) { createMemberToken(memberId: "ava", ttl: $ttl) { token } }', { ttl });
        expect(codes(res), String(ttl)).toEqual(['BAD_USER_INPUT']);
      }
      const res = await gql(a.write, 'mutation { createMemberToken(memberId: "ava", ttl: 120) { expiresAt } }');
      const expiresAt = Date.parse((res.data as { createMemberToken: { expiresAt: string } }).createMemberToken.expiresAt);
      expect(Math.abs(expiresAt - (Date.now() + 120_000))).toBeLessThan(5_000);
    });
  });

  describe('browsers', () => {
    test('CORS is closed unless origins are listed', async () => {
      const { read } = await shop();
      const preflight = (app: typeof server.app, origin: string) =>
        app.fetch('http://loyalty.test/graphql', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
        });
      const post = (app: typeof server.app, origin: string) =>
        app.fetch('http://loyalty.test/graphql', {
          method: 'POST',
          headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${read}` },
          body: '{"query":"{ __typename }"}',
        });
      for (const res of [await preflight(server.app, 'https://evil.example'), await post(server.app, 'https://evil.example')]) {
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      }
      const open = createApp(server.db, { corsOrigins: ['https://shop.example', 'https://app.shop.example'] });
      const allowed = await preflight(open, 'https://shop.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
      expect((await post(open, 'https://app.shop.example')).headers.get('access-control-allow-origin')).toBe('https://app.shop.example');
      expect((await post(open, 'https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    });

    test('GraphiQL: no key in its page, a starter query valid against the schema, off with graphiql: false', async () => {
      await shop();
      const page = await server.app.fetch('http://loyalty.test/graphql', { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toMatch(/lk_[A-Za-z0-9_-]{20}/);
      expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|esm\.sh|fonts\.googleapis)/);
      expect(JSON.parse(GRAPHIQL_HEADERS)).toEqual({ Authorization: 'Bearer <your API key>' });
      // Validated against the committed schema, which is what GraphiQL shows.
      const committed = buildSchema((await import('node:fs')).readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));
      expect(validate(committed, parse(STARTER_QUERY)).map((e) => e.message)).toEqual([]);
      expect(validate(schema, parse(STARTER_QUERY)).map((e) => e.message)).toEqual([]);
      expect(html).toContain(JSON.stringify(STARTER_QUERY).slice(1, 40));

      const off = createApp(server.db, { graphiql: false });
      const none = await off.fetch('http://loyalty.test/graphql', { headers: { accept: 'text/html' } });
      expect(none.status).toBe(401);
      expect(await none.text()).not.toContain('<html');
    });
  });

  describe('rate limits', () => {
    test('per credential, a token bucket: over it HTTP 429 with Retry-After', async () => {
      const { read, write } = await shop();
      const limited = createApp(server.db, { rateLimit: { perSecond: 1, burst: 3 } });
      const send = (key: string) => rawRequest(limited, { query: '{ __typename }' }, key);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(read)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await limited.fetch('http://loyalty.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${read}` },
        body: '{"query":"{ __typename }"}',
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
      // Another key has its own bucket.
      expect((await send(write)).status).toBe(200);
    });

    test('the bucket refills at its rate', async () => {
      const { TokenBuckets } = await import('../../src/server/http/rate-limit.ts');
      const buckets = new TokenBuckets({ perSecond: 2, burst: 2 });
      expect([buckets.take('k', 0), buckets.take('k', 0)]).toEqual([0, 0]);
      expect(buckets.take('k', 0)).toBe(500);
      expect(buckets.take('k', 499)).toBeGreaterThan(0);
      expect(buckets.take('k', 500)).toBe(0);
      expect(buckets.take('k', 10_000)).toBe(0);
      expect(buckets.take('k', 10_000)).toBe(0);
      expect(buckets.take('k', 10_000)).toBeGreaterThan(0);
    });
  });

  describe('errors', () => {
    test('every GraphQL error has extensions.code', async () => {
      const { read } = await shop();
      const cases: [unknown, string][] = [
        [{ query: '{ merchant { id ' }, 'GRAPHQL_PARSE_FAILED'],
        [{ query: '{ merchant { nope } }' }, 'GRAPHQL_VALIDATION_FAILED'],
        [{ query: 'query($n: Int!) { members(first: $n) { edges { node { id } } } }', variables: { n: 'x' } }, 'BAD_USER_INPUT'],
        [{ query: '{ member(id: "ava") { clubs(at: 5) { name } } }' }, 'BAD_USER_INPUT'],
        [{ query: '{ members(first: 5) { edges { node { id } } } }', variables: [1] }, 'BAD_REQUEST'],
        [{ query: `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: merchant { id }`).join(' ')} }` }, 'GRAPHQL_VALIDATION_FAILED'],
        [{ query: '{ members(first: 100) { edges { node { ledger(first: 100) { edges { node { order { entries { id } } } } } } } } }' }, 'COST_LIMIT_EXCEEDED'],
        [{ query: '{ merchant { id } }', extra: 'x'.repeat(300_000) }, 'PAYLOAD_TOO_LARGE'],
        ['not json', 'BAD_REQUEST'],
      ];
      for (const [body, code] of cases) {
        const res = await rawRequest(server.app, body, read);
        expect(res.errors?.length, JSON.stringify(body).slice(0, 80)).toBeGreaterThan(0);
        for (const e of res.errors ?? []) expect(e.extensions?.code, `${JSON.stringify(body).slice(0, 80)}: ${e.message}`).toBeTruthy();
        expect(codes(res), JSON.stringify(body).slice(0, 80)).toContain(code);
      }
    });

    test('a typo in a field gets "did you mean" once authenticated', async () => {
      const { read } = await shop();
      const typo = await gql(read, '{ member(id: "ava") { balanse } }');
      expect(typo.errors?.[0]?.message).toMatch(/Did you mean "balance"\?/);
      const anonymous = await gql(null, '{ member(id: "ava") { balanse } }');
      expect(anonymous.status).toBe(401);
      expect(JSON.stringify(anonymous)).not.toContain('balance');
    });

    test('costly operations count by the size of their inputs', async () => {
      const { admin } = await shop();
      // A program padded with comments to about 195 KB, compiled under 15 aliases.
      const big = COFFEE + `\n# ${'x'.repeat(120)}`.repeat(Math.ceil(195_000 / 123));
      expect(big.length).toBeGreaterThan(190_000);
      const aliases = Array.from({ length: 15 }, (_, i) => `c${i}: checkProgram(source: $s) { ok }`).join(' ');
      const res = await gql(admin, `query($s: String!) { ${aliases} }`, { s: big });
      expect(codes(res)).toContain('COST_LIMIT_EXCEEDED');
      expect(res.data ?? null).toBeNull(); // refused before any of them compiled
      const publishes = Array.from({ length: 3 }, (_, i) => `p${i}: publishProgram(source: $s) { __typename }`).join(' ');
      expect(codes(await gql(admin, `mutation($s: String!) { ${publishes} }`, { s: big }))).toContain('COST_LIMIT_EXCEEDED');
      const sims = 'a: simulate(source: $s, events: []) { __typename } b: simulate(source: $s, events: []) { __typename }';
      expect(codes(await gql(admin, `query($s: String!) { ${sims} }`, { s: big }))).toContain('COST_LIMIT_EXCEEDED');
      // A preview replays the whole log, whatever its draft's size: a few per operation at most.
      const previews = Array.from({ length: 5 }, (_, i) => `v${i}: previewProgram(source: $s) { __typename }`).join(' ');
      expect(codes(await gql(admin, `query($s: String!) { ${previews} }`, { s: COFFEE }))).toContain('COST_LIMIT_EXCEEDED');
      expect((await gql(admin, 'query($s: String!) { previewProgram(source: $s) { __typename } }', { s: big })).errors).toBeUndefined();
      // Events count too: 15 simulations of a small program pass, unless each has 4,000 events.
      const many = Array.from({ length: 15 }, (_, i) => `s${i}: simulate(source: $s, events: $e) { __typename }`).join(' ');
      expect((await gql(admin, `query($s: String!, $e: [JSON!]!) { ${many} }`, { s: COFFEE, e: [] })).errors).toBeUndefined();
      const events = Array.from({ length: 4_000 }, () => ({}));
      expect(codes(await gql(admin, `query($s: String!, $e: [JSON!]!) { ${many} }`, { s: COFFEE, e: events }))).toContain('COST_LIMIT_EXCEEDED');
      // One of each is fine.
      const one = await gql(admin, 'query($s: String!) { checkProgram(source: $s) { ok } }', { s: big });
      expect(one.errors).toBeUndefined();
      expect((one.data as { checkProgram: { ok: boolean } }).checkProgram.ok).toBe(true);
    });
  });
});
