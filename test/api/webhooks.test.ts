// Notifications and webhooks (issue 10): each write records what it did in
// its own transaction (a rolled-back one records nothing), and the delivery
// worker POSTs them, signed, to a local receiver, retrying through refused
// connections and 500s, in order per member. On PGlite and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDeliveryWorker, type DeliveryWorker } from '../../src/server/services/delivery.ts';
import { recordNotifications, type NewNotification } from '../../src/server/services/notifications.ts';
import { signature, verifySignature } from '../../src/server/services/webhooks.ts';
import { example, newMerchant, ok, request, startTestServer, type Backend, type TestServer } from './client.ts';
import {
  AdjustPointsDocument,
  AdvanceTimeDocument,
  CancelClubDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  JoinClubDocument,
  NotificationsDocument,
  RecordOrderDocument,
  RedeemPointsDocument,
  RedeemRewardDocument,
  RedeliverDocument,
  RefundOrderDocument,
  SignupDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  type NotificationType,
} from './generated/operations.ts';

const COFFEE = example('coffee-chain.loyalty');
const TOUR_DIR = new URL('../cli/fixtures/notifications/', import.meta.url);
const TOUR = readFileSync(new URL('program.loyalty', TOUR_DIR), 'utf8');
const SECRET = 'whsec_test_secret_0123456789';

/** The receiver's check, exactly as docs/webhooks.md shows it. */
function verify(header: string, body: string, secret: string): boolean {
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('='))) as { t: string; v1: string };
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const fresh = Math.abs(Date.now() / 1000 - Number(t)) < 300;
  return fresh && v1.length === expected.length && timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; member: string; version: number; data: Record<string, unknown> };
  status: number;
}

/** A node:http receiver; `respond` picks each request's status (default 200). */
async function startReceiver(port = 0, respond: (n: number) => number = () => 200): Promise<{ url: string; port: number; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const status = respond(got.length);
      got.push({ headers: req.headers, body, json: JSON.parse(body) as Received['json'], status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hooks`,
    port: actual,
    got,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function webhooks(backend: Backend) {
  describe(`notifications and webhooks on ${backend}`, { timeout: 120_000 }, () => {
    let server: TestServer;
    let worker: DeliveryWorker;
    beforeAll(async () => {
      server = await startTestServer(backend);
      worker = startDeliveryWorker(server.db.prisma, { pollIntervalMs: 20, baseDelayMs: 30, maxDelayMs: 150, timeoutMs: 2_000 });
    }, 120_000);
    afterAll(async () => {
      await worker?.stop();
      await server?.stop();
    });

    const feed = async (key: string, types?: NotificationType[]) => {
      const r = await ok(server.app, key, NotificationsDocument, { first: 100, ...(types ? { types } : {}) });
      return r.notifications.edges.map((e) => e.node);
    };

    test('each write records what it did, and the receiver gets each, signed', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const receiver = await startReceiver();
      try {
        const endpoint = (await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: receiver.url, secret: SECRET })).createWebhookEndpoint;
        expect(endpoint).toMatchObject({ url: receiver.url, types: [], enabled: true, secret: SECRET });
        const w = async <R, V>(doc: Parameters<typeof ok<R, V>>[2], input: V) => ok(server.app, m.key, doc, input);
        await w(SignupDocument, { input: { memberId: 'rita', at: '2026-03-02T09:00:00Z' } });
        await w(SignupDocument, { input: { memberId: 'ava', birthday: '1990-07-14', referrerId: 'rita', at: '2026-03-02T10:00:00Z' } });
        await w(RecordOrderDocument, {
          input: { memberId: 'ava', orderId: 'A-1', lines: [{ sku: 'BEANS', category: 'whole-beans', qty: 20, price: '15.00' }], at: '2026-03-03T09:00:00Z' },
        });
        await w(RefundOrderDocument, { input: { memberId: 'ava', orderId: 'A-1', refundId: 'R-1', lines: [{ sku: 'BEANS', qty: 5 }], at: '2026-03-04T09:00:00Z' } });
        await w(RedeemPointsDocument, { input: { memberId: 'ava', points: 200, at: '2026-03-05T09:00:00Z' } });
        await w(AdjustPointsDocument, { input: { memberId: 'ava', points: 40, reason: 'missed scan', idempotencyKey: 'adj-1', at: '2026-03-06T09:00:00Z' } });
        await w(JoinClubDocument, { input: { memberId: 'ava', club: 'Bean Club', idempotencyKey: 'join-1', at: '2026-03-07T09:00:00Z' } });
        await w(CancelClubDocument, { input: { memberId: 'ava', club: 'Bean Club', idempotencyKey: 'cancel-1', at: '2026-03-08T09:00:00Z' } });
        await w(AdvanceTimeDocument, { at: '2026-07-15T12:00:00Z' });
        await w(AdvanceTimeDocument, { at: '2027-06-01T12:00:00Z' });

        const all = await feed(m.key);
        const of = (member: string) => all.filter((n) => n.memberId === member);
        const ava = of('ava');
        const types = ava.map((n) => n.type);
        for (const t of ['MEMBER_SIGNED_UP', 'POINTS_EARNED', 'POINTS_REVERSED', 'POINTS_REDEEMED', 'POINTS_ADJUSTED', 'CLUB_JOINED', 'CLUB_ENDED', 'BIRTHDAY_BONUS', 'POINTS_EXPIRED']) {
          expect(types, t).toContain(t);
        }
        expect(of('rita').map((n) => n.type)).toEqual(expect.arrayContaining(['MEMBER_SIGNED_UP', 'POINTS_EARNED', 'REFERRAL_REWARDED']));
        const data = (type: string) => ava.filter((n) => n.type === type).map((n) => n.data as Record<string, unknown>);
        expect(data('MEMBER_SIGNED_UP')).toEqual([{ referrer: 'rita', birthday: '1990-07-14', tier: 'Green', balance: 100 }]);
        const earned = data('POINTS_EARNED').find((d) => d.order === 'A-1')!;
        expect(earned.rules).toEqual(expect.arrayContaining(['referral:referee']));
        expect((earned.entries as unknown[]).length).toBeGreaterThan(1);
        expect(data('POINTS_REDEEMED')).toEqual([expect.objectContaining({ points: 200 })]);
        expect(data('POINTS_ADJUSTED')).toEqual([expect.objectContaining({ points: 40, reason: 'missed scan' })]);
        expect(data('BIRTHDAY_BONUS')).toEqual([expect.objectContaining({ points: 500 })]);
        expect(data('CLUB_JOINED')).toEqual([expect.objectContaining({ club: 'Bean Club' })]);
        expect(data('CLUB_ENDED')).toEqual([expect.objectContaining({ club: 'Bean Club' })]);
        // $300 of beans in a rolling year makes Silver; the year passing takes it away again.
        expect(data('TIER_CHANGED')).toEqual([
          { from: 'Green', to: 'Silver', direction: 'up' },
          ...data('TIER_CHANGED').slice(1),
        ]);
        expect(data('TIER_CHANGED').at(-1)).toMatchObject({ to: 'Green', direction: 'down' });
        const referral = of('rita').find((n) => n.type === 'REFERRAL_REWARDED')!.data as Record<string, unknown>;
        expect(referral).toMatchObject({ points: 300, referee: 'ava', order: 'A-1' });

        // The feed pages in order, and filters by type.
        const page = await ok(server.app, m.key, NotificationsDocument, { first: 3 });
        const next = await ok(server.app, m.key, NotificationsDocument, { first: 3, after: page.notifications.pageInfo.endCursor });
        expect([...page.notifications.edges, ...next.notifications.edges].map((e) => e.node.id)).toEqual(all.slice(0, 6).map((n) => n.id));
        expect((await feed(m.key, ['TIER_CHANGED'])).every((n) => n.type === 'TIER_CHANGED')).toBe(true);

        // Every one is delivered once, signed with the endpoint's secret, with the feed's body.
        await waitFor('every delivery', () => receiver.got.length >= all.length);
        expect(receiver.got.map((r) => r.json.id).sort()).toEqual(all.map((n) => n.id).sort());
        for (const r of receiver.got) {
          const header = String(r.headers['loyalty-signature']);
          expect(verify(header, r.body, SECRET)).toBe(true);
          expect(verify(header, r.body, 'whsec_another_secret_000000')).toBe(false);
          expect(verifySignature(header, r.body, SECRET)).toBe(true);
          expect(verifySignature(header, r.body, 'whsec_another_secret_000000')).toBe(false);
          expect(r.headers['loyalty-notification-id']).toBe(r.json.id);
        }
        const first = receiver.got.find((r) => r.json.id === all[0]!.id)!;
        expect(first.json).toEqual(all[0]!.body);
        expect(first.json.version).toBe(1);
        // A read key reads the feed; endpoints are admin only.
        expect((await request(server.app, m.key, WebhookEndpointsDocument, {})).data?.webhookEndpoints).toHaveLength(1);
        const delivered = await ok(server.app, m.key, WebhookDeliveriesDocument, { status: 'DELIVERED', first: 100 });
        expect(delivered.webhookDeliveries).toHaveLength(all.length);
      } finally {
        await receiver.close();
      }
    });

    test('rewards, grace and reminders N days ahead per endpoint; the feed is what loyalty replay --notifications prints', async () => {
      const m = await newMerchant(server, TOUR, { sandbox: true });
      const soon = await startReceiver();
      const early = await startReceiver();
      try {
        await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: soon.url, reminderDays: 3 });
        const ahead = (await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: early.url, types: ['POINTS_EXPIRING', 'CLUB_ENDING'], reminderDays: 10 }))
          .createWebhookEndpoint;
        expect(ahead.reminderDays).toBe(10);
        const bad = await request(server.app, m.key, CreateWebhookEndpointDocument, { url: soon.url, reminderDays: 0 });
        expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        // The events of the CLI fixture, as writes and advanceTime runs.
        const lines = readFileSync(new URL('events.jsonl', TOUR_DIR), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        let k = 0;
        for (const e of lines) {
          const at = e.at as string;
          const member = e.member as string;
          const key = `k-${++k}`;
          if (e.type === 'signup') await ok(server.app, m.key, SignupDocument, { input: { memberId: member, at } });
          else if (e.type === 'order') {
            const orderLines = (e.lines as { sku: string; category: string; qty: number; price: string }[]).map((l) => ({ ...l }));
            await ok(server.app, m.key, RecordOrderDocument, { input: { memberId: member, orderId: e.id as string, lines: orderLines, at } });
          } else if (e.type === 'join_club') await ok(server.app, m.key, JoinClubDocument, { input: { memberId: member, club: e.club as string, idempotencyKey: key, at } });
          else if (e.type === 'redeem_reward') await ok(server.app, m.key, RedeemRewardDocument, { input: { memberId: member, reward: e.reward as string, idempotencyKey: key, at } });
          else if (e.type === 'redeem') await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: member, points: e.points as number, at } });
          else if (e.type === 'tick') await ok(server.app, m.key, AdvanceTimeDocument, { at });
          else throw new Error(`the fixture has an event this test does not send: ${String(e.type)}`);
        }
        const all = await feed(m.key);
        const strip = (n: (typeof all)[number]) => {
          const { id: _id, created: _created, ...rest } = n.body as Record<string, unknown>;
          return rest;
        };
        const data = (type: string) => all.filter((n) => n.type === type).map((n) => n.data);
        expect(data('REWARD_REDEEMED')).toEqual([{ points: 150, balance: 200, reward: 'Mug', line: 23 }]);
        expect(data('POINTS_REDEEMED')).toEqual([{ points: 50, balance: 150 }]);
        expect(data('TIER_GRACE_STARTED')).toEqual([{ tier: 'Gold', until: '2026-02-12T10:00:00Z' }]);
        // Each lead time gets its own reminder, once, at the first time step within it.
        expect(data('CLUB_ENDING')).toEqual([
          { club: 'Plus', until: '2026-02-03T10:00:00Z', daysBefore: 10 },
          { club: 'Plus', until: '2026-02-03T10:00:00Z', daysBefore: 3 },
        ]);
        expect(all.filter((n) => n.type === 'CLUB_ENDING').map((n) => n.at)).toEqual(['2026-01-28T10:00:00Z', '2026-02-02T10:00:00Z']);
        expect(data('POINTS_EXPIRING')).toEqual([
          { points: 150, balance: 150, reason: 'lots', expiresAt: '2026-03-03T10:00:00Z', daysBefore: 10 },
          { points: 150, balance: 150, reason: 'lots', expiresAt: '2026-03-03T10:00:00Z', daysBefore: 3 },
        ]);
        // The CLI previews the same notifications, in the same order (for the 3-day endpoint).
        const cli = spawnSync(process.execPath, ['bin/loyalty.mjs', 'replay', new URL('program.loyalty', TOUR_DIR).pathname, new URL('events.jsonl', TOUR_DIR).pathname, '--notifications', '--reminder-days', '3'], {
          encoding: 'utf8',
        });
        expect(cli.status, cli.stderr).toBe(0);
        const previewed = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
        expect(all.filter((n) => (n.data as { daysBefore?: number }).daysBefore !== 10).map(strip)).toEqual(previewed);
        // Reminders reach the endpoints that asked for that lead time only.
        await waitFor('deliveries', () => soon.got.length === previewed.length && early.got.length === 2);
        expect(early.got.map((r) => (r.json.data as { daysBefore: number }).daysBefore)).toEqual([10, 10]);
        expect(soon.got.filter((r) => r.json.type === 'club.ending' || r.json.type === 'points.expiring').map((r) => r.json.data.daysBefore)).toEqual([3, 3]);
        // Another time step within the window makes no second reminder.
        await ok(server.app, m.key, AdvanceTimeDocument, { at: '2026-03-10T11:00:00Z' });
        expect((await feed(m.key)).length).toBe(all.length);
      } finally {
        await soon.close();
        await early.close();
      }
    });

    test('the subscription streams the merchant\'s notifications over SSE as they are recorded, filtered, and resumes after an id', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const other = await newMerchant(server, COFFEE, { sandbox: true });
      const http = createServer(server.app);
      await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
      const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
      /** A real SSE client: POST with Accept: text/event-stream, reading `data:` lines of `next` events. */
      const subscribe = async (key: string | null, args: string) => {
        const abort = new AbortController();
        const res = await fetch(base, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ query: `subscription { notifications${args} { id type memberId data } }` }),
          signal: abort.signal,
        });
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const got: { data?: { notifications: { id: string; type: string; memberId: string } }; errors?: { extensions?: { code?: string } }[] }[] = [];
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        void (async () => {
          let buf = '';
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              buf += value;
              let end: number;
              while ((end = buf.indexOf('\n\n')) >= 0) {
                const event = buf.slice(0, end);
                buf = buf.slice(end + 2);
                const data = event.split('\n').find((l) => l.startsWith('data:'));
                if (event.startsWith('event: next') && data) got.push(JSON.parse(data.slice(5)) as (typeof got)[number]);
              }
            }
          } catch {
            /* aborted */
          }
        })();
        return { got, close: () => abort.abort() };
      };
      // A notification before subscribing: the streams start after it (so no wait for them to start is needed).
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'pre', at: '2026-03-01T09:00:00Z' } });
      const pre = await feed(m.key);
      const start = pre.at(-1)!.id;
      const all = await subscribe(m.key, `(after: "${start}")`);
      const earned = await subscribe(m.key, `(types: [POINTS_EARNED], memberId: "sam", after: "${start}")`);
      // Without a credential: refused before any stream starts.
      const denied = await fetch(base, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { notifications { id } }' }),
      });
      expect(denied.status).toBe(401);
      await denied.body?.cancel();
      try {
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'sam', at: '2026-03-02T09:00:00Z' } });
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'tia', at: '2026-03-02T09:30:00Z' } });
        await ok(server.app, other.key, SignupDocument, { input: { memberId: 'sam', at: '2026-03-02T09:00:00Z' } });
        await ok(server.app, m.key, RecordOrderDocument, {
          input: { memberId: 'sam', orderId: 'S-1', lines: [{ sku: 'LATTE', category: 'espresso', qty: 1, price: '5.00' }], at: '2026-03-03T09:00:00Z' },
        });
        const recorded = (await feed(m.key)).slice(pre.length);
        expect(recorded).toHaveLength(5);
        await waitFor('the live feed', () => all.got.length === recorded.length && earned.got.length === 2);
        expect(all.got.map((g) => g.data!.notifications.id)).toEqual(recorded.map((n) => n.id));
        expect(earned.got.map((g) => [g.data!.notifications.type, g.data!.notifications.memberId])).toEqual([
          ['POINTS_EARNED', 'sam'],
          ['POINTS_EARNED', 'sam'],
        ]);
        // Resuming after the second: the three after it.
        const resumed = await subscribe(m.key, `(after: "${recorded[1]!.id}")`);
        try {
          await waitFor('the resumed feed', () => resumed.got.length === 3);
          expect(resumed.got.map((g) => g.data!.notifications.id)).toEqual(recorded.slice(2).map((n) => n.id));
        } finally {
          resumed.close();
        }
        const bad = await subscribe(m.key, '(after: "42")');
        await waitFor('the refusal', () => bad.got.length === 1);
        expect(bad.got[0]!.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        bad.close();
      } finally {
        all.close();
        earned.close();
        await new Promise((done) => http.close(done));
      }
    });

    test('a rolled-back write records nothing; a refused one only what fell due', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      await ok(server.app, m.key, SignupDocument, { input: { memberId: 'doomed', at: '2026-03-02T09:00:00Z' } });
      const before = await feed(m.key);
      // The adjustment's audit entry is written after its notifications, in the same transaction: fail it.
      const prisma = server.db.prisma;
      await prisma.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_fail_audit() RETURNS trigger AS $$
        BEGIN IF NEW.target = 'doomed' THEN RAISE EXCEPTION 'audit refused for the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await prisma.$executeRawUnsafe(`CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_fail_audit()`);
      try {
        const res = await request(server.app, m.key, AdjustPointsDocument, { input: { memberId: 'doomed', points: 40, reason: 'x', idempotencyKey: 'k', at: '2026-03-03T09:00:00Z' } });
        expect(res.errors?.length).toBeGreaterThan(0);
        server.masked.length = 0;
      } finally {
        await prisma.$executeRawUnsafe(`DROP TRIGGER test_fail_audit ON audit_log`);
      }
      expect(await feed(m.key)).toEqual(before);
      const refused = await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: 'doomed', points: 99_999, at: '2026-03-03T10:00:00Z' } });
      expect(refused.redeemPoints.__typename).toBe('EventRefused');
      expect(await feed(m.key)).toEqual(before);
    });

    test('receiver down, then 500s: retried with backoff and delivered after, in order per member', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      // A port nothing listens on: connections are refused.
      const probe = await startReceiver();
      const port = probe.port;
      await probe.close();
      const url = `http://127.0.0.1:${port}/hooks`;
      const endpoint = (await ok(server.app, m.key, CreateWebhookEndpointDocument, { url, types: ['MEMBER_SIGNED_UP', 'POINTS_EARNED', 'POINTS_REDEEMED'], secret: SECRET }))
        .createWebhookEndpoint;
      for (const member of ['bo', 'cy']) {
        await ok(server.app, m.key, SignupDocument, { input: { memberId: member, at: '2026-03-02T09:00:00Z' } });
        for (let i = 1; i <= 3; i++) {
          await ok(server.app, m.key, RecordOrderDocument, {
            input: { memberId: member, orderId: `${member}-${i}`, lines: [{ sku: 'LATTE', category: 'espresso', qty: 1, price: '25.00' }], at: `2026-03-0${2 + i}T09:00:00Z` },
          });
        }
        await ok(server.app, m.key, RedeemPointsDocument, { input: { memberId: member, points: 200, at: '2026-03-09T09:00:00Z' } });
      }
      const all = await feed(m.key, ['MEMBER_SIGNED_UP', 'POINTS_EARNED', 'POINTS_REDEEMED']);
      expect(all).toHaveLength(12);
      // Refused connections: each member's first notification is tried (more than once), none after it.
      await waitFor('refused attempts', async () => {
        const d = await ok(server.app, m.key, WebhookDeliveriesDocument, { endpointId: endpoint.id, first: 100 });
        return d.webhookDeliveries.some((x) => x.attempts >= 2);
      });
      const tried = (await ok(server.app, m.key, WebhookDeliveriesDocument, { endpointId: endpoint.id, first: 100 })).webhookDeliveries;
      expect(tried.filter((d) => d.attempts > 0).map((d) => d.notification.type)).toEqual(['MEMBER_SIGNED_UP', 'MEMBER_SIGNED_UP']);
      expect(tried.every((d) => d.status === 'PENDING' && d.lastStatusCode === null)).toBe(true);
      // Up again, answering 500 to the first four requests.
      const receiver = await startReceiver(port, (n) => (n < 4 ? 500 : 200));
      try {
        await waitFor('every delivery', () => receiver.got.filter((r) => r.status === 200).length >= all.length);
        expect(receiver.got.filter((r) => r.status === 500)).toHaveLength(4);
        for (const member of ['bo', 'cy']) {
          const delivered = receiver.got.filter((r) => r.status === 200 && r.json.member === member).map((r) => r.json.id);
          expect(delivered).toEqual(all.filter((n) => n.memberId === member).map((n) => n.id));
        }
        const attempts = receiver.got.map((r) => Number(r.headers['loyalty-delivery-attempt']));
        expect(Math.max(...attempts)).toBeGreaterThan(1);
      } finally {
        await receiver.close();
      }
    });

    test('several workers share the outbox: each delivery sent once, in order per member', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const receiver = await startReceiver();
      const others = [1, 2].map(() => startDeliveryWorker(server.db.prisma, { pollIntervalMs: 5, batchSize: 3 }));
      try {
        await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: receiver.url, types: ['MEMBER_SIGNED_UP', 'POINTS_EARNED'] });
        const members = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
        await Promise.all(
          members.map(async (member) => {
            await ok(server.app, m.key, SignupDocument, { input: { memberId: member, at: '2026-03-02T09:00:00Z' } });
            for (let i = 1; i <= 3; i++) {
              await ok(server.app, m.key, RecordOrderDocument, {
                input: { memberId: member, orderId: `${member}-${i}`, lines: [{ sku: 'LATTE', category: 'espresso', qty: 1, price: '5.00' }], at: `2026-03-0${2 + i}T09:00:00Z` },
              });
            }
          }),
        );
        const all = await feed(m.key, ['MEMBER_SIGNED_UP', 'POINTS_EARNED']);
        await waitFor('every delivery', () => receiver.got.length >= all.length);
        await sleep(100);
        expect(receiver.got.map((r) => r.json.id).sort()).toEqual(all.map((n) => n.id).sort());
        for (const member of members) {
          expect(receiver.got.filter((r) => r.json.member === member).map((r) => r.json.id)).toEqual(all.filter((n) => n.memberId === member).map((n) => n.id));
        }
      } finally {
        await Promise.all(others.map((w) => w.stop()));
        await receiver.close();
      }
    });

    test('a batch of accepted deliveries is marked delivered together, each with the status its receiver answered', async () => {
      const m = await newMerchant(server, COFFEE);
      const statuses = [200, 201, 204, 202];
      const receiver = await startReceiver(0, (n) => statuses[n % statuses.length]!);
      try {
        await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: receiver.url });
        for (const member of ['b1', 'b2', 'b3', 'b4', 'b5']) await ok(server.app, m.key, SignupDocument, { input: { memberId: member } });
        const deliveries = async () => (await ok(server.app, m.key, WebhookDeliveriesDocument, { first: 100 })).webhookDeliveries;
        await waitFor('every delivery delivered', async () => {
          const all = await deliveries();
          return all.length === 10 && all.every((d) => d.status === 'DELIVERED');
        });
        const answered = new Map(receiver.got.map((g) => [g.json.id, g.status]));
        expect(answered.size).toBe(10);
        expect(new Set(answered.values()).size).toBe(statuses.length);
        for (const d of await deliveries()) {
          expect(d.lastStatusCode, d.notification.id).toBe(answered.get(d.notification.id));
          expect(d.attempts).toBe(1);
          expect(d.lastError).toBeNull();
        }
      } finally {
        await receiver.close();
      }
    });

    // Two writes at once (PGlite serves one connection, so only PostgreSQL has them): the
    // first takes the lower id and commits last. A reader paging in between must not pass it.
    if (backend === 'postgres')
      test('the pull feed does not pass over a write that commits late: the later id commits first', async () => {
        const m = await newMerchant(server, COFFEE);
        const prisma = server.db.prisma;
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'before' } });
        const note = (member: string): NewNotification => ({ type: 'member.signed_up', member, at: Date.now(), payload: { member } });
        let cursor: string | null = null;
        /** Pages on from the reader's cursor to the end, as a client would. */
        const drain = async () => {
          const got: string[] = [];
          for (;;) {
            const r = await ok(server.app, m.key, NotificationsDocument, { first: 2, after: cursor });
            got.push(...r.notifications.edges.map((e) => `${e.node.memberId} ${e.node.id}`));
            cursor = r.notifications.pageInfo.endCursor ?? cursor;
            if (!r.notifications.pageInfo.hasNextPage) return got;
          }
        };
        // The signup's notifications (member.signed_up, points.earned): the reader's cursor is after them.
        expect(new Set((await drain()).map((n) => n.split(' ')[0]))).toEqual(new Set(['before']));

        let release!: () => void;
        const held = new Promise<void>((done) => (release = done));
        let recorded!: () => void;
        const lateRecorded = new Promise<void>((done) => (recorded = done));
        const late = prisma.$transaction(
          async (tx) => {
            await recordNotifications(tx, m.id, null, [note('late')]);
            recorded();
            await held;
          },
          { timeout: 60_000 },
        );
        await lateRecorded;
        await prisma.$transaction((tx) => recordNotifications(tx, m.id, null, [note('prompt')]));
        const whileInFlight = await drain();
        release();
        await late;
        const after = await drain();
        const all = [...whileInFlight, ...after];
        expect(all.map((n) => n.split(' ')[0])).toEqual(['late', 'prompt']);
        // The scenario is the one described: the late write holds the lower id.
        const [lateId, promptId] = all.map((n) => BigInt(n.split(' ')[1]!.replace('ntf_', '')));
        expect(lateId! < promptId!).toBe(true);
        // A reader with nothing new gets nothing again.
        expect(await drain()).toEqual([]);
      });

    test('a delivery past its retry window fails; redeliver sends it again; endpoints update and delete', async () => {
      const m = await newMerchant(server, COFFEE, { sandbox: true });
      const receiver = await startReceiver(0, () => 500);
      // A second worker with no retry window: the first failure is final.
      const impatient = startDeliveryWorker(server.db.prisma, { pollIntervalMs: 20, retryWindowMs: 0 });
      await worker.stop();
      try {
        const endpoint = (await ok(server.app, m.key, CreateWebhookEndpointDocument, { url: receiver.url, types: ['MEMBER_SIGNED_UP'] })).createWebhookEndpoint;
        expect(endpoint.secret).toMatch(/^whsec_/);
        await ok(server.app, m.key, SignupDocument, { input: { memberId: 'di', at: '2026-03-02T09:00:00Z' } });
        await waitFor('a failed delivery', async () => (await ok(server.app, m.key, WebhookDeliveriesDocument, { status: 'FAILED' })).webhookDeliveries.length === 1);
        const [failed] = (await ok(server.app, m.key, WebhookDeliveriesDocument, { status: 'FAILED' })).webhookDeliveries;
        expect(failed).toMatchObject({ attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
        await impatient.stop();
        worker = startDeliveryWorker(server.db.prisma, { pollIntervalMs: 20, baseDelayMs: 30, maxDelayMs: 150 });
        const good = await startReceiver();
        try {
          await ok(server.app, m.key, UpdateWebhookEndpointDocument, { id: endpoint.id, url: good.url });
          expect((await ok(server.app, m.key, RedeliverDocument, { deliveryId: failed!.id })).redeliver).toMatchObject({ status: 'PENDING', attempts: 0 });
          await waitFor('the redelivery', () => good.got.length === 1);
          expect(good.got[0]!.json).toMatchObject({ type: 'member.signed_up', member: 'di' });
          expect(verify(String(good.got[0]!.headers['loyalty-signature']), good.got[0]!.body, endpoint.secret)).toBe(true);
          // Disabled: no new deliveries.
          await ok(server.app, m.key, UpdateWebhookEndpointDocument, { id: endpoint.id, enabled: false });
          await ok(server.app, m.key, SignupDocument, { input: { memberId: 'ed', at: '2026-03-02T09:00:00Z' } });
          expect((await ok(server.app, m.key, WebhookDeliveriesDocument, { endpointId: endpoint.id })).webhookDeliveries).toHaveLength(1);
        } finally {
          await good.close();
        }
        const bad = await request(server.app, m.key, CreateWebhookEndpointDocument, { url: 'ftp://example.com/x' });
        expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect((await ok(server.app, m.key, DeleteWebhookEndpointDocument, { id: endpoint.id })).deleteWebhookEndpoint).toBe(true);
        expect((await ok(server.app, m.key, WebhookEndpointsDocument, {})).webhookEndpoints).toEqual([]);
      } finally {
        await impatient.stop();
        await receiver.close();
      }
    });
  });
}

test('signature(): t and v1 over "timestamp.body"', () => {
  const header = signature('s3cret-s3cret-s3cret', 1_700_000_000, '{"a":1}');
  const mac = createHmac('sha256', 's3cret-s3cret-s3cret').update('1700000000.{"a":1}').digest('hex');
  expect(header).toBe(`t=1700000000,v1=${mac}`);
  expect(verifySignature(header, '{"a":1}', 's3cret-s3cret-s3cret', 300, 1_700_000_100_000)).toBe(true);
  expect(verifySignature(header, '{"a":1}', 's3cret-s3cret-s3cret', 300, 1_700_001_000_000)).toBe(false);
  expect(verifySignature(header, '{"a":2}', 's3cret-s3cret-s3cret', 300, 1_700_000_100_000)).toBe(false);
});

webhooks('pglite');
webhooks('postgres');
