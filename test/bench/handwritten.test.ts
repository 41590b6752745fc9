// The benchmark's generator and its hand-written coffee-chain evaluator
// (bench/). The evaluator is also a second, independent implementation of
// dsl.md / replay.md for examples/coffee-chain.loyalty, so it is checked
// against a hand-computed scenario as well as for its own consistency.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { generateToString } from '../../bench/generate.ts';
import {
  type HwEvent,
  type ReplayResultJson,
  evaluate,
  parseInstant,
  parseLine,
  parseMoney,
  parseStream,
  replayFile,
} from '../../bench/handwritten.ts';
import { FastLineParser } from '../../src/engine/jsonl.ts';
import { compareResults } from '../../src/engine/compare.ts';
import { Replay } from '../../src/engine/index.ts';
import { compileFile } from '../support.ts';
import { JreEarning, type OrderEvent } from '../../bench/jre.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// Generating and evaluating take a second or two on a busy 2-core machine.
vi.setConfig({ testTimeout: 30_000 });
const tmp = mkdtempSync(join(tmpdir(), 'loyalty-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SMALL = { events: 6_000, members: 150, months: 14, seed: 7 };

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

function entryText(e: { at: string; kind: string; points: number; rule: string | null; ref: string | null }): string {
  return `${e.at} ${e.kind} ${e.points} ${e.rule ?? '-'} ${e.ref ?? '-'}`;
}

describe('generator', () => {
  const text = generateToString(SMALL);
  const ls = lines(text);

  it('is deterministic for a seed, and the seed matters', () => {
    expect(generateToString(SMALL)).toBe(text);
    expect(generateToString({ ...SMALL, seed: 8 })).not.toBe(text);
  });

  it('writes exactly the events asked for, one JSON object a line, in time order', () => {
    expect(ls).toHaveLength(SMALL.events);
    expect(text.endsWith('\n')).toBe(true);
    let last = -Infinity;
    for (const l of ls) {
      const v = JSON.parse(l) as { type: string; at: string };
      expect(typeof v).toBe('object');
      const at = Date.parse(v.at);
      expect(Number.isNaN(at)).toBe(false);
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }
  });

  it('writes well-formed events of every kind, a tick a day and one signup per member', () => {
    const counts: Record<string, number> = {};
    const events = ls.map((l) => parseLine(l));
    for (const ev of events) {
      expect(typeof ev).toBe('object'); // not an error message
      const e = ev as HwEvent;
      counts[e.type] = (counts[e.type] ?? 0) + 1;
    }
    // 2026-01-01 .. 2027-02-28: 424 days.
    expect(counts.tick).toBe(424);
    expect(counts.signup).toBe(SMALL.members);
    for (const t of ['order', 'refund', 'redeem', 'event', 'join_club']) expect(counts[t] ?? 0).toBeGreaterThan(0);
    expect(counts.order! / SMALL.events).toBeGreaterThan(0.85);
  });

  it('uses the coffee menu, 1–4 lines an order, and refunds name an earlier order of the member', () => {
    const orders = new Map<string, { member: string; skus: Set<string> }>();
    const categories = new Set<string>();
    for (const l of ls) {
      const e = parseLine(l) as HwEvent;
      if (e.type === 'order') {
        expect(e.lines.length).toBeGreaterThanOrEqual(1);
        expect(e.lines.length).toBeLessThanOrEqual(4);
        for (const x of e.lines) categories.add(x.category);
        orders.set(e.id, { member: e.member, skus: new Set(e.lines.map((x) => x.sku)) });
      } else if (e.type === 'refund') {
        const o = orders.get(e.order);
        expect(o?.member).toBe(e.member);
        for (const x of e.lines) expect(o!.skus.has(x.sku)).toBe(true);
      }
    }
    expect([...categories].sort()).toEqual(['brewed', 'espresso', 'gift-card', 'merch', 'pastry', 'tax', 'whole-beans']);
  });

  it('averages about 228 bytes a line at the default mix', () => {
    const t = generateToString({ events: 40_000, members: 800, seed: 3 });
    const avg = Buffer.byteLength(t) / 40_000;
    expect(avg).toBeGreaterThan(200);
    expect(avg).toBeLessThan(260);
  });

  it('refuses a size that cannot hold the signups and ticks', () => {
    expect(() => generateToString({ events: 100, members: 150 })).toThrow(/too small/);
  });
});

describe('event parsing (replay.md)', () => {
  it('parses times with Z, offsets, seconds and fractions; rejects other forms', () => {
    expect(parseInstant('2026-03-01T09:30Z')).toBe(Date.UTC(2026, 2, 1, 9, 30));
    expect(parseInstant('2026-03-01T09:30:15Z')).toBe(Date.UTC(2026, 2, 1, 9, 30, 15));
    expect(parseInstant('2026-03-01T09:30:15.25Z')).toBe(Date.UTC(2026, 2, 1, 9, 30, 15, 250));
    expect(parseInstant('2026-05-04T14:00:00-04:00')).toBe(Date.UTC(2026, 4, 4, 18));
    expect(parseInstant('2026-05-04T14:00:00+05:30')).toBe(Date.UTC(2026, 4, 4, 8, 30));
    for (const bad of ['2026-05-02T16:20:00', '2026-02-30T10:00Z', '2026-13-01T10:00Z', '2026-05-02 16:20:00Z', '2026-05-02T24:00Z', '2026-05-02T16:20:00z', '2026-05-02T16:20:00.Z'])
      expect(parseInstant(bad)).toBeNaN();
  });

  it('parses money as whole cents only', () => {
    expect(parseMoney('4.50')).toBe(450);
    expect(parseMoney('4.5')).toBe(450);
    expect(parseMoney('4')).toBe(400);
    expect(parseMoney('4.500')).toBe(450);
    for (const bad of ['4.505', '-1', '1,000', '.5', '5.', '', ' 4.50', '4.50 USD']) expect(parseMoney(bad)).toBe(-1);
  });

  it('reports malformed lines and treats null optional fields as absent', () => {
    expect(parseLine('   ')).toBeNull();
    expect(parseLine('{"type":"order"')).toMatch(/not valid JSON/);
    expect(parseLine('[1]')).toMatch(/JSON object/);
    expect(parseLine('{"type":"purchase","at":"2026-05-02T16:15:00Z","member":"a"}')).toMatch(/unknown event type/);
    expect(parseLine('{"type":"redeem","at":"2026-05-02T16:15:00Z","member":"a","points":"10"}')).toMatch(/points/);
    expect(parseLine('{"type":"order","at":"2026-05-02T16:15:00Z","member":"a","id":"x","lines":[]}')).toMatch(/empty/);
    expect(parseLine('{"type":"order","at":"2026-05-02T16:15:00Z","member":"a","id":"x","lines":[{"sku":"E","category":"c","qty":0,"price":"1.00"}]}')).toMatch(/qty/);
    expect(parseLine('{"type":"tick"}')).toMatch(/at/);
    const s = parseLine('{"type":"signup","at":"2026-05-06T15:00:00Z","member":"cy","birthday":null,"referrer":null,"extra":1}') as HwEvent;
    expect(s).toEqual({ type: 'signup', at: Date.UTC(2026, 4, 6, 15), member: 'cy', birthday: null, referrer: null });
  });
});

// A hand-computed scenario for examples/coffee-chain.loyalty. New York time:
// EST (UTC−5) until 8 Mar 2026 and from 1 Nov 2026, EDT (UTC−4) between.
const SCENARIO = [
  /* 1 */ '{"type":"signup","at":"2026-01-05T14:00:00Z","member":"ana","birthday":"1990-03-10"}',
  // Mon 14:30: base 12.15 → 121; pastry 7.50 → 75; lull 12.15 × 5 = 60.75 → 60; coffee 15; app (12.15 ≥ 10) 25.
  /* 2 */ '{"type":"order","at":"2026-01-05T19:30:00Z","member":"ana","id":"o1","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"},{"sku":"CROISSANT","category":"pastry","qty":2,"price":"3.75"},{"sku":"SALES-TAX","category":"tax","qty":1,"price":"0.98"}],"channel":"app"}',
  // 16:59:59 is still in the lull (44.75 → 44); pastry 65 capped at 100 − 75 = 25; no second coffee that day.
  /* 3 */ '{"type":"order","at":"2026-01-05T21:59:59Z","member":"ana","id":"o2","lines":[{"sku":"SCONE","category":"pastry","qty":2,"price":"3.25"},{"sku":"DRIP-12","category":"brewed","qty":1,"price":"2.45"}],"channel":"store"}',
  // 17:00 is not (end exclusive); 5.25 < 10 USD: no app bonus.
  /* 4 */ '{"type":"order","at":"2026-01-05T22:00:00Z","member":"ana","id":"o3","lines":[{"sku":"LATTE-16","category":"espresso","qty":1,"price":"5.25"}],"channel":"app"}',
  // 04:30Z is 23:30 on Mon 5 Jan locally: still no second coffee.
  /* 5 */ '{"type":"order","at":"2026-01-06T04:30:00Z","member":"ana","id":"o4","lines":[{"sku":"DRIP-12","category":"brewed","qty":1,"price":"2.45"}]}',
  // Tue 00:30 locally: a new day for coffee and for the pastry cap (10.00 → 100); 2nd app bonus of the week.
  /* 6 */ '{"type":"order","at":"2026-01-06T05:30:00Z","member":"ana","id":"o5","lines":[{"sku":"ESPRESSO-DBL","category":"espresso","qty":1,"price":"3.25"},{"sku":"COOKIE","category":"pastry","qty":4,"price":"2.50"}],"channel":"app"}',
  // The gift card is not in order.total (4.65 < 10): no app bonus.
  /* 7 */ '{"type":"order","at":"2026-01-07T13:00:00Z","member":"ana","id":"o6","lines":[{"sku":"GIFT-CARD-25","category":"gift-card","qty":1,"price":"25.00"},{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}],"channel":"app"}',
  /* 8 */ '{"type":"order","at":"2026-01-08T13:00:00Z","member":"ana","id":"o7","lines":[{"sku":"MOCHA-16","category":"espresso","qty":2,"price":"5.75"}],"channel":"app"}',
  // 4th app order of the week: limit 3 times per week.
  /* 9 */ '{"type":"order","at":"2026-01-09T13:00:00Z","member":"ana","id":"o8","lines":[{"sku":"MOCHA-16","category":"espresso","qty":2,"price":"5.75"}],"channel":"app"}',
  /* 10 */ '{"type":"signup","at":"2026-01-10T15:00:00Z","member":"cho","birthday":"2000-02-29"}',
  // A new week (Monday): app bonus again.
  /* 11 */ '{"type":"order","at":"2026-01-12T13:00:00Z","member":"ana","id":"o9","lines":[{"sku":"MOCHA-16","category":"espresso","qty":2,"price":"5.75"}],"channel":"app"}',
  /* 12 */ '{"type":"join_club","at":"2026-01-16T15:00:00Z","member":"ana","club":"Bean Club"}',
  // Sat: 3 × 19.99 = 59.97 − 15% (8.9955 → 8.99) = 50.98 + 4.10 → base 550; beans 3 × 50 = 150; club 550.
  /* 13 */ '{"type":"order","at":"2026-01-17T16:00:00Z","member":"ana","id":"o10","lines":[{"sku":"BEANS-ETHIOPIA","category":"whole-beans","qty":3,"price":"19.99"},{"sku":"CORTADO","category":"espresso","qty":1,"price":"4.10"}],"channel":"store"}',
  // Sun, same week: 31.98 − 4.79 = 27.19 → 271; beans 100 capped at 200 − 150 = 50.
  /* 14 */ '{"type":"order","at":"2026-01-18T16:00:00Z","member":"ana","id":"o11","lines":[{"sku":"BEANS-HOUSE","category":"whole-beans","qty":2,"price":"15.99"}],"channel":"store"}',
  /* 15 */ '{"type":"order","at":"2026-01-24T16:00:00Z","member":"ana","id":"o12","lines":[{"sku":"BEANS-DECAF","category":"whole-beans","qty":1,"price":"16.49"}],"channel":"store"}',
  // Spend reaches 261.49 ≥ 250: Silver from the next order (none on this one).
  /* 16 */ '{"type":"order","at":"2026-01-26T16:00:00Z","member":"ana","id":"o13","lines":[{"sku":"TUMBLER","category":"merch","qty":3,"price":"28.00"}],"channel":"store"}',
  // tier:Silver 0.25 × 52 = 13.
  /* 17 */ '{"type":"order","at":"2026-01-27T16:00:00Z","member":"ana","id":"o14","lines":[{"sku":"LATTE-16","category":"espresso","qty":1,"price":"5.25"}],"channel":"store"}',
  /* 18 */ '{"type":"redeem","at":"2026-01-28T16:00:00Z","member":"ana","points":150}', // below min 200
  /* 19 */ '{"type":"redeem","at":"2026-01-28T16:01:00Z","member":"ana","points":600,"order_total":"11.99"}', // 6.00 > 5.995
  /* 20 */ '{"type":"redeem","at":"2026-01-28T16:02:00Z","member":"ana","points":599,"order_total":"11.99"}',
  /* 21 */ '{"type":"redeem","at":"2026-01-28T16:03:00Z","member":"ana","points":6000}', // over the balance
  /* 22 */ '{"type":"event","at":"2026-01-31T20:00:00Z","member":"ana","name":"survey"}',
  /* 23 */ '{"type":"event","at":"2026-02-01T04:00:00Z","member":"ana","name":"survey"}', // 31 Jan 23:00 locally
  /* 24 */ '{"type":"event","at":"2026-02-01T05:00:00Z","member":"ana","name":"survey"}', // 1 Feb 00:00
  /* 25 */ '{"type":"event","at":"2026-02-01T06:00:00Z","member":"ana","name":"app-review"}', // no section
  // Exactly when the membership ends (16 Feb 10:00): no discount, no club entry; tier:Silver 0.25 × 159 = 39.
  /* 26 */ '{"type":"order","at":"2026-02-16T15:00:00Z","member":"ana","id":"o15","lines":[{"sku":"BEANS-HOUSE","category":"whole-beans","qty":1,"price":"15.99"}],"channel":"store"}',
  /* 27 */ '{"type":"join_club","at":"2026-02-17T15:00:00Z","member":"ana","club":"Bean Club"}', // no 2nd join bonus
  /* 28 */ '{"type":"join_club","at":"2026-02-18T15:00:00Z","member":"ana","club":"Bean Club"}', // active: refused
  /* 29 */ '{"type":"cancel_club","at":"2026-02-20T15:00:00Z","member":"ana","club":"Bean Club"}',
  /* 30 */ '{"type":"cancel_club","at":"2026-02-21T15:00:00Z","member":"ana","club":"Bean Club"}', // refused
  // ana's birthday 00:00 EDT 10 Mar (04:00Z); cho's 29 Feb falls on 28 Feb 00:00 EST (05:00Z).
  /* 31 */ '{"type":"tick","at":"2026-03-10T04:00:00Z"}',
  /* 32 */ '{"type":"signup","at":"2026-03-12T13:00:00Z","member":"ben","referrer":"ana"}',
  // Exactly 30 days after signup: still within; 11.50 ≥ 10 → referee 150, ana referrer 300.
  /* 33 */ '{"type":"order","at":"2026-04-11T13:00:00Z","member":"ben","id":"b1","lines":[{"sku":"MOCHA-16","category":"espresso","qty":2,"price":"5.75"}],"channel":"store"}',
  /* 34 */ '{"type":"order","at":"2026-04-12T13:00:00Z","member":"ben","id":"b2","lines":[{"sku":"MOCHA-16","category":"espresso","qty":2,"price":"5.75"}],"channel":"store"}',
  /* 35 */ '',
  /* 36 */ '{"type":"order","at":"2026-04-12T14:00:00","member":"ben","id":"b3","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}]}',
  /* 37 */ '{"type":"order","at":"2026-04-12T14:00:00Z","member":"ben","id":"b3","lines":[{"sku":"X","category":"pastry","qty":1,"price":"4.505"}]}',
  /* 38 */ '{"type":"order","at":"2026-04-12T12:00:00Z","member":"ben","id":"b4","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}]}',
  /* 39 */ '{"type":"order","at":"2026-04-13T13:00:00Z","member":"ben","id":"o1","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}]}',
  /* 40 */ '{"type":"order","at":"2026-04-13T13:30:00Z","member":"zed","id":"z1","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}]}',
  // E = 115 + 15 (not the referral), P = 11.50, R = 5.75 → floor(130 × 5.75 / 11.50) = 65.
  /* 41 */ '{"type":"refund","at":"2026-04-14T13:00:00Z","member":"ben","order":"b1","lines":[{"sku":"MOCHA-16","qty":1}]}',
  /* 42 */ '{"type":"refund","at":"2026-04-14T13:05:00Z","member":"ben","order":"b1","lines":[{"sku":"MOCHA-16","qty":2}]}',
  /* 43 */ '{"type":"refund","at":"2026-04-14T13:10:00Z","member":"ben","order":"b1","lines":[{"sku":"LATTE-12","qty":1}]}',
  /* 44 */ '{"type":"refund","at":"2026-04-14T13:15:00Z","member":"ben","order":"o1","lines":[{"sku":"LATTE-12","qty":1}]}',
  /* 45 */ '{"type":"refund","at":"2026-04-15T13:00:00Z","member":"ben","order":"b1","lines":[{"sku":"MOCHA-16","qty":1}]}',
  // Lots of Jan 2026 expire 12 months on; the 599 redeemed took the signup lot, o1, o2 and 45 of o3.
  /* 46 */ '{"type":"tick","at":"2027-01-06T05:00:00Z"}',
  // o1–o5 have left the 12-month window: 240.68 < 250 → grace starts now (until 6 Feb 05:00Z).
  /* 47 */ '{"type":"tick","at":"2027-01-07T05:00:00Z"}',
  // In grace: still Silver, 0.25 × 46 = 11.
  /* 48 */ '{"type":"order","at":"2027-01-20T17:00:00Z","member":"ana","id":"o16","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.65"}],"channel":"store"}',
  /* 49 */ '{"type":"tick","at":"2027-02-06T05:00:00Z"}', // grace over: Green
  /* 50 */ '{"type":"join_club","at":"2027-02-20T15:00:00Z","member":"cho","club":"Bean Club"}',
  // cho: the 2026 birthday lot expires at the instant the 2027 birthday falls due (expiry first).
  /* 51 */ '{"type":"tick","at":"2027-03-01T05:00:00Z"}',
  /* 52 */ '{"type":"signup","at":"2027-03-01T06:00:00Z","member":"dan","referrer":"nobody"}',
  /* 53 */ '{"type":"signup","at":"2027-03-01T06:05:00Z","member":"dan","referrer":"dan"}',
].join('\n');

const EXPECTED: Record<string, { balance: number; tier: string; clubs: string[]; ledger: string[] }> = {
  ana: {
    balance: 872,
    tier: 'Green',
    clubs: [],
    ledger: [
      '2026-01-05T14:00:00Z earn 100 signup -',
      '2026-01-05T19:30:00Z earn 121 base o1',
      '2026-01-05T19:30:00Z earn 75 Pastry pairing o1',
      '2026-01-05T19:30:00Z earn 60 Afternoon lull o1',
      '2026-01-05T19:30:00Z earn 15 First coffee of the day o1',
      '2026-01-05T19:30:00Z earn 25 App order o1',
      '2026-01-05T21:59:59Z earn 89 base o2',
      '2026-01-05T21:59:59Z earn 25 Pastry pairing o2',
      '2026-01-05T21:59:59Z earn 44 Afternoon lull o2',
      '2026-01-05T22:00:00Z earn 52 base o3',
      '2026-01-06T04:30:00Z earn 24 base o4',
      '2026-01-06T05:30:00Z earn 132 base o5',
      '2026-01-06T05:30:00Z earn 100 Pastry pairing o5',
      '2026-01-06T05:30:00Z earn 15 First coffee of the day o5',
      '2026-01-06T05:30:00Z earn 25 App order o5',
      '2026-01-07T13:00:00Z earn 46 base o6',
      '2026-01-07T13:00:00Z earn 15 First coffee of the day o6',
      '2026-01-08T13:00:00Z earn 115 base o7',
      '2026-01-08T13:00:00Z earn 15 First coffee of the day o7',
      '2026-01-08T13:00:00Z earn 25 App order o7',
      '2026-01-09T13:00:00Z earn 115 base o8',
      '2026-01-09T13:00:00Z earn 15 First coffee of the day o8',
      '2026-01-12T13:00:00Z earn 115 base o9',
      '2026-01-12T13:00:00Z earn 15 First coffee of the day o9',
      '2026-01-12T13:00:00Z earn 25 App order o9',
      '2026-01-16T15:00:00Z earn 200 club:Bean Club:join -',
      '2026-01-17T16:00:00Z earn 550 base o10',
      '2026-01-17T16:00:00Z earn 15 First coffee of the day o10',
      '2026-01-17T16:00:00Z earn 150 Weekend beans o10',
      '2026-01-17T16:00:00Z earn 550 club:Bean Club o10',
      '2026-01-18T16:00:00Z earn 271 base o11',
      '2026-01-18T16:00:00Z earn 50 Weekend beans o11',
      '2026-01-18T16:00:00Z earn 271 club:Bean Club o11',
      '2026-01-24T16:00:00Z earn 140 base o12',
      '2026-01-24T16:00:00Z earn 50 Weekend beans o12',
      '2026-01-24T16:00:00Z earn 140 club:Bean Club o12',
      '2026-01-26T16:00:00Z earn 840 base o13',
      '2026-01-26T16:00:00Z earn 840 club:Bean Club o13',
      '2026-01-27T16:00:00Z earn 52 base o14',
      '2026-01-27T16:00:00Z earn 15 First coffee of the day o14',
      '2026-01-27T16:00:00Z earn 13 tier:Silver o14',
      '2026-01-27T16:00:00Z earn 52 club:Bean Club o14',
      '2026-01-28T16:02:00Z redeem -599 - -',
      '2026-01-31T20:00:00Z earn 50 event:survey -',
      '2026-02-01T05:00:00Z earn 50 event:survey -',
      '2026-02-16T15:00:00Z earn 159 base o15',
      '2026-02-16T15:00:00Z earn 39 tier:Silver o15',
      '2026-03-10T04:00:00Z earn 500 birthday -',
      '2026-04-11T13:00:00Z earn 300 referral:referrer b1',
      '2027-01-05T22:00:00Z expire -7 - -',
      '2027-01-06T04:30:00Z expire -24 - -',
      '2027-01-06T05:30:00Z expire -272 - -',
      '2027-01-07T13:00:00Z expire -61 - -',
      '2027-01-08T13:00:00Z expire -155 - -',
      '2027-01-09T13:00:00Z expire -130 - -',
      '2027-01-12T13:00:00Z expire -155 - -',
      '2027-01-16T15:00:00Z expire -200 - -',
      '2027-01-17T16:00:00Z expire -1265 - -',
      '2027-01-18T16:00:00Z expire -592 - -',
      '2027-01-20T17:00:00Z earn 46 base o16',
      '2027-01-20T17:00:00Z earn 15 First coffee of the day o16',
      '2027-01-20T17:00:00Z earn 11 tier:Silver o16',
      '2027-01-24T16:00:00Z expire -330 - -',
      '2027-01-26T16:00:00Z expire -1680 - -',
      '2027-01-27T16:00:00Z expire -132 - -',
      '2027-01-31T20:00:00Z expire -50 - -',
      '2027-02-01T05:00:00Z expire -50 - -',
      '2027-02-16T15:00:00Z expire -198 - -',
    ],
  },
  cho: {
    balance: 700,
    tier: 'Green',
    clubs: ['Bean Club'],
    ledger: [
      '2026-01-10T15:00:00Z earn 100 signup -',
      '2026-02-28T05:00:00Z earn 500 birthday -',
      '2027-01-10T15:00:00Z expire -100 - -',
      '2027-02-20T15:00:00Z earn 200 club:Bean Club:join -',
      '2027-02-28T05:00:00Z expire -500 - -',
      '2027-02-28T05:00:00Z earn 500 birthday -',
    ],
  },
  ben: {
    balance: 380,
    tier: 'Green',
    clubs: [],
    ledger: [
      '2026-03-12T13:00:00Z earn 100 signup -',
      '2026-04-11T13:00:00Z earn 115 base b1',
      '2026-04-11T13:00:00Z earn 15 First coffee of the day b1',
      '2026-04-11T13:00:00Z earn 150 referral:referee b1',
      '2026-04-12T13:00:00Z earn 115 base b2',
      '2026-04-12T13:00:00Z earn 15 First coffee of the day b2',
      '2026-04-14T13:00:00Z reverse -65 - b1',
      '2026-04-15T13:00:00Z reverse -65 - b1',
    ],
  },
};
const EXPECTED_ERROR_LINES = [18, 19, 21, 28, 30, 36, 37, 38, 39, 40, 42, 43, 44, 52, 53];

function tiersAfter(n: number): Record<string, string | null> {
  const prefix = SCENARIO.split('\n').slice(0, n).join('\n');
  const r = evaluate(parseStream(prefix)).result();
  return Object.fromEntries(Object.entries(r.members).map(([id, m]) => [id, m.tier]));
}

describe('hand-written evaluator: hand-computed scenario', () => {
  const result = evaluate(parseStream(SCENARIO)).result();

  it('writes exactly the hand-computed ledgers, balances, tiers and clubs', () => {
    expect(Object.keys(result.members)).toEqual(['ana', 'cho', 'ben']);
    for (const [id, want] of Object.entries(EXPECTED)) {
      const got = result.members[id]!;
      expect(got.ledger.map(entryText), id).toEqual(want.ledger);
      expect({ balance: got.balance, tier: got.tier, clubs: got.clubs }, id).toEqual({ balance: want.balance, tier: want.tier, clubs: want.clubs });
    }
  });

  it('refuses or rejects exactly the expected lines (blank line 35 counted, not reported)', () => {
    expect(result.errors.map((e) => e.line)).toEqual(EXPECTED_ERROR_LINES);
  });

  it('moves up from the next order, and down only after the 30-day grace', () => {
    expect(tiersAfter(15).ana).toBe('Green');
    expect(tiersAfter(16).ana).toBe('Silver');
    expect(tiersAfter(46).ana).toBe('Silver'); // spend still 253.93 in the window
    expect(tiersAfter(47).ana).toBe('Silver'); // lower now: grace starts
    expect(tiersAfter(49).ana).toBe('Green'); // first evaluation at start + 30 days
  });
});

function checkLaws(r: ReplayResultJson): void {
  for (const [id, m] of Object.entries(r.members)) {
    const sum = m.ledger.reduce((s, e) => s + e.points, 0);
    expect(sum, id).toBe(m.balance);
    let last = -Infinity;
    for (const e of m.ledger) {
      expect(e.kind === 'earn' ? e.points > 0 : e.points < 0, `${id} ${entryText(e)}`).toBe(true);
      const at = Date.parse(e.at);
      expect(at >= last, `${id}: entries in time order at ${entryText(e)}`).toBe(true);
      last = at;
    }
  }
}

describe('hand-written evaluator on generated streams', () => {
  const text = generateToString(SMALL);
  const stream = parseStream(text);
  const result = evaluate(stream).result();

  it('keeps every member’s ledger summing to its balance', () => {
    expect(Object.keys(result.members)).toHaveLength(SMALL.members);
    checkLaws(result);
    const entries = Object.values(result.members).reduce((s, m) => s + m.ledger.length, 0);
    expect(entries).toBeGreaterThan(SMALL.events);
  });

  it('refuses only what the generator means to be refusable (some redemptions and club joins)', () => {
    for (const e of result.errors) expect(e.message).toMatch(/^redeem of|is already in club/);
  });

  it('holds the laws for other seeds too', () => {
    for (const seed of [1, 2, 3]) checkLaws(evaluate(parseStream(generateToString({ events: 3_000, members: 80, seed }))).result());
  }, 30_000);

  it('gives the same result twice, and its JSON text is the result', () => {
    const again = evaluate(stream);
    expect(again.result()).toEqual(result);
    expect(JSON.parse(again.toJson())).toEqual(result);
  });

  it('streams a file (small read chunks, a multi-byte id across them) to the same result as in memory', () => {
    const withUtf8 = text.replaceAll('"m-00017"', '"m-0001\u00e9\u20ac7"');
    const file = join(tmp, 'small.jsonl');
    writeFileSync(file, withUtf8);
    const inMemory = evaluate(parseStream(withUtf8)).result();
    expect(inMemory.members['m-0001\u00e9\u20ac7']).toBeDefined();
    expect(replayFile(file, 4093).result()).toEqual(inMemory);
    expect(replayFile(file).result()).toEqual(inMemory);
  });

  it('has a CLI whose JSON on stdout equals the in-memory result', () => {
    const file = join(tmp, 'cli.jsonl');
    writeFileSync(file, text);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/handwritten.ts'), file], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(result);
  }, 30_000);

  it('agrees with json-rules-engine on the earning rules (no clubs in the stream)', async () => {
    const noClubs = lines(generateToString({ events: 2_500, members: 60, seed: 11, months: 3 }))
      .filter((l) => !l.includes('"join_club"') && !l.includes('"cancel_club"'))
      .join('\n');
    const s = parseStream(noClubs);
    const hw = evaluate(s).result();
    const ruleEntries = new Map<string, string[]>();
    for (const m of Object.values(hw.members))
      for (const e of m.ledger)
        if (e.kind === 'earn' && e.ref !== null && !e.rule!.includes(':')) {
          const xs = ruleEntries.get(e.ref) ?? [];
          xs.push(`${e.rule} ${e.points}`);
          ruleEntries.set(e.ref, xs);
        }
    const jre = new JreEarning();
    let orders = 0;
    for (const e of s.events) {
      if (e.type !== 'order') continue;
      orders++;
      const got = (await jre.order(e as OrderEvent)).map((c) => `${c.rule} ${c.points}`);
      expect(got, e.id).toEqual(ruleEntries.get(e.id) ?? []);
    }
    expect(orders).toBeGreaterThan(1_000);
  }, 60_000);
});

describe('edge-case streams (generate --edge)', () => {
  const text = generateToString({ ...SMALL, edge: true });
  const ls = lines(text);

  it('leaves the default stream unchanged and adds bad lines the replay rejects', () => {
    expect(generateToString(SMALL)).not.toBe(text);
    const r = evaluate(parseStream(text)).result();
    checkLaws(r);
    const bad = ls.filter((l) => /"id":"(bad|late|ghost|money)-|"qty":99/.test(l) || !l.endsWith('}')).length;
    expect(bad).toBeGreaterThan(0);
    expect(r.errors.length).toBeGreaterThanOrEqual(bad);
  });

  it('decodes every line on the byte fast path exactly as JSON.parse + validation does, or defers', () => {
    const fast = new FastLineParser();
    let deferred = 0;
    for (const l of [...ls, ...lines(generateToString(SMALL)), ...SCENARIO.split('\n')]) {
      const b = Buffer.from(l);
      const ev = fast.parse(b, 0, b.length);
      const slow = parseLine(l);
      if (ev === null) deferred++;
      else expect(ev, l).toEqual(slow);
    }
    // Only the bad and blank lines go the general way.
    expect(deferred).toBeLessThan(40);
  });

  it('streams to the same result as in memory', () => {
    const file = join(tmp, 'edge.jsonl');
    writeFileSync(file, text);
    expect(replayFile(file, 8191).result()).toEqual(evaluate(parseStream(text)).result());
  });
});

/** Adjustments (dsl.md 4.12) after every 25th order, either sign, some taking balances below zero. */
function withAdjustments(text: string): string {
  let n = 0;
  return lines(text)
    .flatMap((l) => {
      if (!l.includes('"type":"order"') || ++n % 25 !== 0) return [l];
      const ev = JSON.parse(l) as { at: string; member: string };
      const points = n % 50 === 0 ? -5000 : 120;
      return [l, JSON.stringify({ type: 'adjust', at: ev.at, member: ev.member, points, reason: 'support' })];
    })
    .join('\n');
}

describe('hand-written evaluator against the engine', () => {
  // Two independent implementations of the coffee chain must agree on
  // generated streams, with adjustments mixed in.
  for (const seed of [7, 21]) {
    it(`gives the engine's result on a generated stream with adjustments (seed ${seed})`, () => {
      const text = withAdjustments(generateToString({ events: 4_000, members: 100, months: 14, seed }));
      expect(text).toContain('"type":"adjust"');
      const program = compileFile(join(ROOT, 'examples/coffee-chain.loyalty'));
      const engine = new Replay(program);
      text.split('\n').forEach((l, i) => engine.pushLine(l, i + 1));
      const expected = engine.result();
      const hand = evaluate(parseStream(text)).result();
      expect(compareResults(expected, hand)).toEqual([]);
      expect(Object.values(hand.members).some((m) => m.balance < 0)).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------
// bench/coffee-chain-v2.loyalty: the benchmark program with pending 14 days,
// tier discounts, the "Free drink" reward and the "Three visits a week"
// challenge, which the hand-written evaluator implements with { v2: true }.

const V2_PROGRAM = join(ROOT, 'bench/coffee-chain-v2.loyalty');

function engineResult(programFile: string, text: string): ReplayResultJson {
  const engine = new Replay(compileFile(programFile));
  text.split('\n').forEach((l, i) => engine.pushLine(l, i + 1));
  return engine.result() as ReplayResultJson;
}

// New York: EST (UTC−5) until 8 Mar 2026, EDT (UTC−4) after, so an order at
// 10:00 EST vests 14 days later at 10:00 EDT (14:00Z).
const V2_SCENARIO = [
  /* 1 */ '{"type":"signup","at":"2026-03-02T14:00:00Z","member":"ann"}',
  // Mon 10:00 EST, Green: a 300.00 grinder → base 3000, pending until 16 Mar 14:00Z; spend 300 → Silver. 1st visit of the week.
  /* 2 */ '{"type":"order","at":"2026-03-02T15:00:00Z","member":"ann","id":"A1","lines":[{"sku":"GRINDER","category":"merch","qty":1,"price":"300.00"}],"channel":"store"}',
  // Silver's 10% on pastry: 7.00 − 0.70 = 6.30 → base 63, pastry (2−1) × 63 = 63, tier:Silver floor(63/4) = 15; E = 141. 2nd visit.
  /* 3 */ '{"type":"order","at":"2026-03-03T15:00:00Z","member":"ann","id":"A2","lines":[{"sku":"CROISSANT","category":"pastry","qty":2,"price":"3.50"}],"channel":"store"}',
  // base 47, first coffee 15, tier:Silver 11 (E = 73); the 3rd visit of the week → challenge 100 (not in E).
  /* 4 */ '{"type":"order","at":"2026-03-04T15:00:00Z","member":"ann","id":"A3","lines":[{"sku":"LATTE-12","category":"espresso","qty":1,"price":"4.75"}],"channel":"store"}',
  // Refused: the balance is the written 100; the 3314 pending do not count.
  /* 5 */ '{"type":"redeem_reward","at":"2026-03-05T15:00:00Z","member":"ann","reward":"Free drink"}',
  // Before A2 vests: floor(141 × 3.15 / 6.30) = 70 off its pending points, base first: base 63 → 0, pastry 63 → 56; no entry.
  /* 6 */ '{"type":"refund","at":"2026-03-06T15:00:00Z","member":"ann","order":"A2","lines":[{"sku":"CROISSANT","qty":1}]}',
  // At A1's vesting instant: base 3000 is written first, then the reward (Silver, 3100 ≥ 1000) → −1000.
  /* 7 */ '{"type":"redeem_reward","at":"2026-03-16T14:00:00Z","member":"ann","reward":"Free drink"}',
  // Refused: once per month.
  /* 8 */ '{"type":"redeem_reward","at":"2026-03-20T14:00:00Z","member":"ann","reward":"Free drink"}',
  // After A3 vested: a reverse of E = 73; the challenge bonus stays.
  /* 9 */ '{"type":"refund","at":"2026-03-25T14:00:00Z","member":"ann","order":"A3","lines":[{"sku":"LATTE-12","qty":1}]}',
  /* 10 */ '{"type":"tick","at":"2026-03-31T12:00:00Z"}',
].join('\n');

const V2_EXPECTED: ReplayResultJson = {
  members: {
    ann: {
      balance: 100 + 3000 - 1000 + 56 + 15 + 47 + 15 + 11 + 100 - 73,
      pending: 0,
      tier: 'Silver',
      clubs: [],
      ledger: [
        { at: '2026-03-02T14:00:00Z', kind: 'earn', points: 100, rule: 'signup', ref: null },
        { at: '2026-03-16T14:00:00Z', kind: 'earn', points: 3000, rule: 'base', ref: 'A1' },
        { at: '2026-03-16T14:00:00Z', kind: 'redeem', points: -1000, rule: 'reward:Free drink', ref: null },
        { at: '2026-03-17T14:00:00Z', kind: 'earn', points: 56, rule: 'Pastry pairing', ref: 'A2' },
        { at: '2026-03-17T14:00:00Z', kind: 'earn', points: 15, rule: 'tier:Silver', ref: 'A2' },
        { at: '2026-03-18T14:00:00Z', kind: 'earn', points: 47, rule: 'base', ref: 'A3' },
        { at: '2026-03-18T14:00:00Z', kind: 'earn', points: 15, rule: 'First coffee of the day', ref: 'A3' },
        { at: '2026-03-18T14:00:00Z', kind: 'earn', points: 11, rule: 'tier:Silver', ref: 'A3' },
        { at: '2026-03-18T14:00:00Z', kind: 'earn', points: 100, rule: 'challenge:Three visits a week', ref: 'A3' },
        { at: '2026-03-25T14:00:00Z', kind: 'reverse', points: -73, rule: null, ref: 'A3' },
      ],
    },
  },
  errors: [
    { line: 5, message: 'reward "Free drink" costs 1000, the balance is 100' },
    { line: 8, message: 'reward "Free drink": limit of 1 per month used' },
  ],
};

describe('the v2 benchmark program (bench/coffee-chain-v2.loyalty)', () => {
  it('gives the hand-computed result for pending, a tier discount, the reward and the challenge', () => {
    const hand = evaluate(parseStream(V2_SCENARIO), { v2: true }).result();
    expect(compareResults(V2_EXPECTED, hand)).toEqual([]);
    expect(compareResults(V2_EXPECTED, engineResult(V2_PROGRAM, V2_SCENARIO))).toEqual([]);
  });

  it('shows the points still pending before they vest, and writes them as of the vesting instant', () => {
    const upTo = (n: number) => V2_SCENARIO.split('\n').slice(0, n).join('\n');
    const before = evaluate(parseStream(upTo(6)), { v2: true }).result().members.ann!;
    // 3000 + (0 + 56 + 15) + (47 + 15 + 11 + 100) after the refund of line 6.
    expect(before.pending).toBe(3244);
    expect(before.balance).toBe(100);
    expect(evaluate(parseStream(upTo(6)), { v2: true }).toJson()).toContain('"pending": 3244');
    // The v1 program has no pending: everything is written at the order, and no `pending` field.
    const v1 = evaluate(parseStream(upTo(6))).result().members.ann!;
    expect(v1.pending).toBeUndefined();
    expect(v1.balance).toBeGreaterThan(3000);
  });

  it('adds redeem_reward lines with --rewards, from their own generator, leaving the other lines as they were', () => {
    const plain = lines(generateToString(SMALL));
    const withRewards = lines(generateToString({ ...SMALL, rewards: true }));
    const rewards = withRewards.filter((l) => l.includes('"type":"redeem_reward"'));
    expect(rewards.length).toBeGreaterThan(20);
    expect(withRewards.filter((l) => !l.includes('"type":"redeem_reward"'))).toEqual(plain);
  });

  for (const [seed, edge] of [[7, false], [21, false], [5, true]] as const) {
    it(`gives the engine's result on a generated stream with rewards${edge ? ', edge cases' : ''} and adjustments (seed ${seed})`, () => {
      const text = withAdjustments(generateToString({ events: 5_000, members: 100, months: 14, seed, rewards: true, edge }));
      const expected = engineResult(V2_PROGRAM, text);
      const hand = evaluate(parseStream(text), { v2: true }).result();
      expect(compareResults(expected, hand)).toEqual([]);
      // The stream exercises the new features: each kind of entry occurs, some rewards are refused,
      // and some points are still pending at the end.
      const rules = new Set(Object.values(hand.members).flatMap((m) => m.ledger.map((e) => e.rule)));
      for (const r of ['reward:Free drink', 'challenge:Three visits a week', 'tier:Silver', 'tier:Gold']) expect(rules).toContain(r);
      const rewardLines = new Set(lines(text).flatMap((l, i) => (l.includes('"redeem_reward"') ? [i + 1] : [])));
      expect(hand.errors.some((e) => rewardLines.has(e.line))).toBe(true);
      expect(Object.values(hand.members).some((m) => (m.pending ?? 0) > 0)).toBe(true);
      // Tier discounts change the result: the v1 program on the same stream gives other balances.
      const v1 = evaluate(parseStream(text)).result();
      expect(Object.keys(hand.members).some((id) => hand.members[id]!.balance !== v1.members[id]!.balance)).toBe(true);
    });
  }
});
