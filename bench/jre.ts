// The earning rules of examples/coffee-chain.loyalty (base and the five
// rules, with their limits; no tiers, clubs, referral or expiry) expressed with
// json-rules-engine, for the side-by-side throughput figure.
//
//   node --import tsx bench/jre.ts EVENTS.jsonl [--orders N]
//
// The rules are data (conditions over facts); facts about an order (eligible
// total, what its lines hold, its local weekday and time) are dynamic facts
// computed from the order by the almanac. json-rules-engine says which rules
// fire; the points and the per-member limits (which need state across orders)
// are applied by the small harness below, in source order.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Engine, type Almanac, type RuleProperties } from 'json-rules-engine';
import { type HwEvent, type HwOrderLine, parseStream } from './handwritten.ts';
import { DAY, Zone } from './tz.ts';

export type OrderEvent = Extract<HwEvent, { type: 'order' }>;

const zone = new Zone('America/New_York');
const EXCLUDED = new Set(['gift-card', 'tax']);

interface Effect {
  /** Source order of the rule in the program. */
  order: number;
  rule: string;
  effect: 'base' | 'multiplier' | 'extra' | 'bonus' | 'bonusPerItem';
  /** base/extra: points per `per` cents; multiplier: k; bonus: points. */
  points?: number;
  per?: number;
  k?: number;
  categories?: string[];
  limit?: { kind: 'points' | 'times'; max: number; period: 'day' | 'week' };
}

/**
 * What each rule does, by name. (Kept out of the event params: json-rules-engine
 * deep-clones those on every success.)
 */
export const EFFECTS: Record<string, Effect> = Object.fromEntries(
  (
    [
      { order: 0, rule: 'base', effect: 'base', points: 10, per: 100 },
      { order: 1, rule: 'Pastry pairing', effect: 'multiplier', k: 2, categories: ['pastry'], limit: { kind: 'points', max: 100, period: 'day' } },
      { order: 2, rule: 'Afternoon lull', effect: 'extra', points: 5, per: 100 },
      { order: 3, rule: 'First coffee of the day', effect: 'bonus', points: 15, limit: { kind: 'times', max: 1, period: 'day' } },
      { order: 4, rule: 'Weekend beans', effect: 'bonusPerItem', points: 50, categories: ['whole-beans'], limit: { kind: 'points', max: 200, period: 'week' } },
      { order: 5, rule: 'App order', effect: 'bonus', points: 25, limit: { kind: 'times', max: 3, period: 'week' } },
    ] satisfies Effect[]
  ).map((e) => [e.rule, e]),
);

const earn = (rule: string) => ({ type: 'earn', params: { rule } });

/** The program's earning rules as json-rules-engine rules (the base is a rule too). */
export const RULES: RuleProperties[] = [
  {
    name: 'base',
    conditions: { all: [{ fact: 'eligibleLines', operator: 'greaterThan', value: 0 }] },
    event: earn('base'),
  },
  {
    name: 'Pastry pairing',
    conditions: { all: [{ fact: 'pastryLines', operator: 'greaterThan', value: 0 }] },
    event: earn('Pastry pairing'),
  },
  {
    name: 'Afternoon lull',
    conditions: {
      all: [
        { fact: 'eligibleLines', operator: 'greaterThan', value: 0 },
        { fact: 'localWeekday', operator: 'in', value: ['mon', 'tue', 'wed', 'thu', 'fri'] },
        { fact: 'localMinute', operator: 'greaterThanInclusive', value: 14 * 60 },
        { fact: 'localMinute', operator: 'lessThan', value: 17 * 60 },
      ],
    },
    event: earn('Afternoon lull'),
  },
  {
    name: 'First coffee of the day',
    conditions: { all: [{ fact: 'coffeeLines', operator: 'greaterThan', value: 0 }] },
    event: earn('First coffee of the day'),
  },
  {
    name: 'Weekend beans',
    conditions: {
      all: [
        { fact: 'beansLines', operator: 'greaterThan', value: 0 },
        { fact: 'localWeekday', operator: 'in', value: ['sat', 'sun'] },
      ],
    },
    event: earn('Weekend beans'),
  },
  {
    name: 'App order',
    conditions: {
      all: [
        { fact: 'eligibleLines', operator: 'greaterThan', value: 0 },
        { fact: 'channel', operator: 'equal', value: 'app' },
        { fact: 'eligibleTotal', operator: 'greaterThanInclusive', value: 1000 },
      ],
    },
    event: earn('App order'),
  },
];

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function orderOf(almanac: Almanac): Promise<OrderEvent> {
  return almanac.factValue<OrderEvent>('order');
}

function eligible(l: HwOrderLine): boolean {
  return !EXCLUDED.has(l.category);
}

/** An engine with the rules and the order facts. */
export function buildEngine(): Engine {
  const engine = new Engine(RULES, { allowUndefinedFacts: false });
  engine.addFact('channel', async (_p, a) => (await orderOf(a)).channel ?? null);
  engine.addFact('eligibleLines', async (_p, a) => (await orderOf(a)).lines.filter(eligible).length);
  engine.addFact('eligibleTotal', async (_p, a) => (await orderOf(a)).lines.filter(eligible).reduce((s, l) => s + l.qty * l.price, 0));
  // One fact per filter (facts with params would be cached under a hash of the params).
  const matching = (cats: string[]) => async (_p: unknown, a: Almanac) => (await orderOf(a)).lines.filter((l) => eligible(l) && cats.includes(l.category)).length;
  engine.addFact('pastryLines', matching(['pastry']));
  engine.addFact('coffeeLines', matching(['espresso', 'brewed']));
  engine.addFact('beansLines', matching(['whole-beans']));
  engine.addFact('localWeekday', async (_p, a) => WEEKDAYS[(Math.floor(zone.toLocal((await orderOf(a)).at) / DAY) + 3) % 7]);
  engine.addFact('localMinute', async (_p, a) => {
    const local = zone.toLocal((await orderOf(a)).at);
    return Math.floor((local - Math.floor(local / DAY) * DAY) / 60000);
  });
  return engine;
}

interface LimitState {
  key: number;
  used: number;
}

/** Points per rule for each order, with limits applied per member. */
export class JreEarning {
  private readonly engine = buildEngine();
  private readonly limits = new Map<string, Map<string, LimitState>>();

  async order(o: OrderEvent): Promise<{ rule: string; points: number }[]> {
    const { events } = await this.engine.run({ order: o });
    const effects = events.map((e) => EFFECTS[(e.params as { rule: string }).rule]!).sort((a, b) => a.order - b.order);
    const out: { rule: string; points: number }[] = [];
    const local = zone.toLocal(o.at);
    const day = Math.floor(local / DAY);
    const week = Math.floor((day + 3) / 7);
    for (const e of effects) {
      const lines = e.categories ? o.lines.filter((l) => eligible(l) && e.categories!.includes(l.category)) : o.lines.filter(eligible);
      const paid = lines.reduce((s, l) => s + l.qty * l.price, 0);
      let points: number;
      switch (e.effect) {
        case 'base':
        case 'extra':
          points = Math.floor((paid * e.points!) / e.per!);
          break;
        case 'multiplier':
          // (k − 1) × base of the matching lines; base is 10 points per 100 cents
          points = Math.floor(((e.k! - 1) * paid * 10) / 100);
          break;
        case 'bonus':
          points = e.points!;
          break;
        case 'bonusPerItem':
          points = e.points! * lines.reduce((s, l) => s + l.qty, 0);
          break;
      }
      if (e.limit) {
        let mine = this.limits.get(o.member);
        if (!mine) this.limits.set(o.member, (mine = new Map()));
        const key = e.limit.period === 'day' ? day : week;
        let st = mine.get(e.rule);
        if (!st || st.key !== key) mine.set(e.rule, (st = { key, used: 0 }));
        if (e.limit.kind === 'points') points = Math.min(points, e.limit.max - st.used);
        else if (st.used >= e.limit.max) points = 0;
        if (points > 0) st.used += e.limit.kind === 'points' ? points : 1;
      }
      if (points > 0) out.push({ rule: e.rule, points });
    }
    return out;
  }
}

/** Runs the orders through json-rules-engine; returns the time and total points. */
export async function runJre(orders: OrderEvent[]): Promise<{ orders: number; ns: bigint; points: number }> {
  const j = new JreEarning();
  let points = 0;
  const t0 = process.hrtime.bigint();
  for (const o of orders) for (const c of await j.order(o)) points += c.points;
  const ns = process.hrtime.bigint() - t0;
  return { orders: orders.length, ns, points };
}

export function ordersOf(events: HwEvent[], max = Infinity): OrderEvent[] {
  const out: OrderEvent[] = [];
  for (const e of events) {
    if (e.type === 'order') {
      out.push(e);
      if (out.length >= max) break;
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const i = args.indexOf('--orders');
  const max = i >= 0 ? Number(args[i + 1]) : 100_000;
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/jre.ts EVENTS.jsonl [--orders N]\n');
    process.exit(2);
  }
  const orders = ordersOf(parseStream(readFileSync(file, 'utf8')).events, max);
  const r = await runJre(orders);
  const secs = Number(r.ns) / 1e9;
  process.stdout.write(`json-rules-engine: ${r.orders} orders in ${secs.toFixed(2)} s = ${Math.round(r.orders / secs)} orders/s (${r.points} points)\n`);
}
