// Events from JSON (replay.md): every field checked, money parsed into minor
// units of the program currency, times into epoch milliseconds. A malformed
// event gets a message naming the field; nothing here throws.
import type { Program } from '../../dsl/program.ts';
import { fromMinorUnits, toMinorUnits } from '../../dsl/values.ts';
import { formatInstant, parseBirthday, parseInstant } from './time.ts';
import type { EngineEvent, OrderLine, RefundLine } from './types.ts';

export type ParseResult = { event: EngineEvent; error?: undefined } | { event?: undefined; error: string };

/** The event types of replay.md. */
export const EVENT_TYPES: readonly EngineEvent['type'][] = ['signup', 'order', 'refund', 'redeem', 'join_club', 'cancel_club', 'event', 'adjust', 'redeem_reward', 'tick'];
const TYPES = new Set<string>(EVENT_TYPES);

class Malformed {
  constructor(readonly message: string) {}
}
function fail(message: string): never {
  throw new Malformed(message);
}

type Obj = Record<string, unknown>;

function field(where: string, key: string): string {
  return where ? `field "${key}" in ${where}` : `field "${key}"`;
}

function str(o: Obj, key: string, where = ''): string {
  const v = o[key];
  if (v === undefined || v === null) fail(where ? `missing ${field(where, key)}` : `missing field "${key}"`);
  if (typeof v !== 'string') fail(`${field(where, key)} must be a string`);
  if (v.length === 0) fail(`${field(where, key)} is empty`);
  return v;
}

function optStr(o: Obj, key: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(`field "${key}" must be a string`);
  return v;
}

function posInt(o: Obj, key: string, where = ''): number {
  const v = o[key];
  if (v === undefined || v === null) fail(`missing ${field(where, key)}`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`${field(where, key)} must be a positive integer`);
  return v;
}

/** A money amount given as a decimal string, in minor units of the program currency. */
export function parseMoney(program: Program, text: unknown, what = 'amount'): { ok: true; minor: number } | { ok: false; error: string } {
  try {
    return { ok: true, minor: moneyText(text, program.currencyExponent, program.currency, what) };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, error: e.message };
    throw e;
  }
}

/** A decimal string with no more decimals than the currency has. */
function moneyText(text: unknown, exponent: number, currency: string, what: string): number {
  // Events carry no negative amounts (a refund names lines, not money).
  const r = typeof text === 'string' && text.charCodeAt(0) !== 45 ? toMinorUnits(text, exponent) : null;
  if (r === null || (!r.ok && r.reason === 'syntax')) fail(`${what} must be a decimal string such as "4.50"`);
  if (!r.ok) fail(r.reason === 'decimals' ? `${what} ${text} has more decimals than ${currency} allows` : `${what} ${text} is too large`);
  return r.minor;
}

function money(o: Obj, key: string, p: Program, where = ''): number {
  if (o[key] === undefined || o[key] === null) fail(`missing ${field(where, key)}`);
  return moneyText(o[key], p.currencyExponent, p.currency, field(where, key));
}

function list(o: Obj, key: string): Obj[] {
  const v = o[key];
  if (v === undefined || v === null) fail(`missing field "${key}"`);
  if (!Array.isArray(v)) fail(`field "${key}" must be a list`);
  if (v.length === 0) fail(`field "${key}" is empty`);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`line ${i + 1} of "${key}" must be an object`);
  }
  return v as Obj[];
}

/** Validates a JSON value as an event of replay.md. */
export function parseEvent(program: Program, value: unknown): ParseResult {
  try {
    return { event: parse(program, value) };
  } catch (e) {
    if (e instanceof Malformed) return { error: e.message };
    throw e;
  }
}

function parse(p: Program, value: unknown): EngineEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('an event must be a JSON object');
  const o = value as Obj;
  const type = o.type;
  if (type === undefined || type === null) fail('missing field "type"');
  if (typeof type !== 'string') fail('field "type" must be a string');
  if (!TYPES.has(type)) fail(`unknown event type ${JSON.stringify(type)}`);
  const atText = o.at;
  if (atText === undefined || atText === null) fail('missing field "at"');
  if (typeof atText !== 'string') fail('field "at" must be a string');
  const t = parseInstant(atText);
  if (!t.ok) fail(`field "at" ${t.error}`);
  const at = t.ms;
  if (type === 'tick') return { type, at };
  const member = str(o, 'member');
  switch (type) {
    case 'signup': {
      const birthday = optStr(o, 'birthday');
      if (birthday !== null && !parseBirthday(birthday)) fail('field "birthday" must be a date such as "1990-03-10"');
      const referrer = optStr(o, 'referrer');
      if (referrer === '') fail('field "referrer" is empty');
      return { type, at, member, birthday, referrer };
    }
    case 'order': {
      const id = str(o, 'id');
      const raw = list(o, 'lines');
      const lines: OrderLine[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const l = raw[i]!;
        const where = `line ${i + 1} of "lines"`;
        const sku = str(l, 'sku', where);
        const category = str(l, 'category', where);
        const qty = posInt(l, 'qty', where);
        const price = money(l, 'price', p, where);
        if (!Number.isSafeInteger(qty * price)) fail(`${where} is too large`);
        lines[i] = { sku, category, qty, price };
      }
      const channel = optStr(o, 'channel');
      return { type, at, member, id, lines, channel };
    }
    case 'refund': {
      const order = str(o, 'order');
      const raw = list(o, 'lines');
      const lines: RefundLine[] = raw.map((l, i) => {
        const where = `line ${i + 1} of "lines"`;
        return { sku: str(l, 'sku', where), qty: posInt(l, 'qty', where) };
      });
      return { type, at, member, order, lines };
    }
    case 'redeem': {
      const points = posInt(o, 'points');
      const total = o.order_total;
      const orderTotal = total === undefined || total === null ? null : moneyText(total, p.currencyExponent, p.currency, 'field "order_total"');
      return { type, at, member, points, orderTotal };
    }
    case 'join_club':
    case 'cancel_club':
      return { type, at, member, club: str(o, 'club') };
    case 'event':
      return { type, at, member, name: str(o, 'name') };
    case 'redeem_reward':
      return { type, at, member, reward: str(o, 'reward') };
    case 'adjust': {
      const points = o.points;
      if (points === undefined || points === null) fail('missing field "points"');
      if (typeof points !== 'number' || !Number.isSafeInteger(points) || points === 0) fail('field "points" must be a non-zero integer');
      return { type, at, member, points, reason: optStr(o, 'reason') };
    }
  }
  return fail(`unknown event type ${JSON.stringify(type)}`);
}

/**
 * The event as a replay.md line (the inverse of parseEvent): one canonical
 * spelling, with fields in a fixed order, money with the currency's
 * decimals and times in UTC. `at: false` leaves the time out (a body hash
 * of an event the server dated).
 */
export function eventLine(program: Program, ev: EngineEvent, options: { at?: boolean; extra?: Record<string, string> } = {}): string {
  const o: Record<string, unknown> = { type: ev.type };
  if (options.at !== false) o.at = formatInstant(ev.at);
  switch (ev.type) {
    case 'tick':
      break;
    case 'signup':
      o.member = ev.member;
      if (ev.birthday != null) o.birthday = ev.birthday;
      if (ev.referrer != null) o.referrer = ev.referrer;
      break;
    case 'order':
      o.member = ev.member;
      o.id = ev.id;
      o.lines = ev.lines.map((l) => ({ sku: l.sku, category: l.category, qty: l.qty, price: fromMinorUnits(l.price, program.currencyExponent) }));
      if (ev.channel != null) o.channel = ev.channel;
      break;
    case 'refund':
      o.member = ev.member;
      o.order = ev.order;
      o.lines = ev.lines.map((l) => ({ sku: l.sku, qty: l.qty }));
      break;
    case 'redeem':
      o.member = ev.member;
      o.points = ev.points;
      if (ev.orderTotal != null) o.order_total = fromMinorUnits(ev.orderTotal, program.currencyExponent);
      break;
    case 'join_club':
    case 'cancel_club':
      o.member = ev.member;
      o.club = ev.club;
      break;
    case 'event':
      o.member = ev.member;
      o.name = ev.name;
      break;
    case 'adjust':
      o.member = ev.member;
      o.points = ev.points;
      if (ev.reason != null) o.reason = ev.reason;
      break;
    case 'redeem_reward':
      o.member = ev.member;
      o.reward = ev.reward;
      break;
  }
  if (options.extra) Object.assign(o, options.extra);
  return JSON.stringify(o);
}
