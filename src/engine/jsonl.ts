// The fast path of replay's input: decodes the common shape of an event line
// straight from the file's bytes, without JSON.parse and without building a
// JS string per line (on a 2-core machine JSON.parse alone costs ~4 µs a
// line). It accepts only what it fully understands (ASCII strings without
// escapes, non-empty, known keys once each, integers without sign, fraction
// or exponent, valid times, money with no more decimals than the currency)
// and returns null for anything else; the caller then takes the general path
// (JSON.parse and parseEvent), which also produces the error messages. For
// every line it accepts, the event is the one parseEvent(JSON.parse(line))
// gives (test/engine/jsonl.test.ts). Strings that recur (member ids, skus,
// categories, names) are made once.
//
// The hand-written benchmark baseline (bench/handwritten.ts) reads its input
// with the same decoder, so the comparison is about evaluation.

import { daysFromCivil, daysInMonth } from '../../dsl/values.ts';
import { DAY, HOUR, MINUTE } from './time.ts';
import type { EngineEvent, OrderLine } from './types.ts';

type HwEvent = EngineEvent;
type HwOrderLine = OrderLine;

// Keys of an event, as bits.
const K_TYPE = 1;
const K_AT = 2;
const K_MEMBER = 4;
const K_ID = 8;
const K_LINES = 16;
const K_CHANNEL = 32;
const K_BIRTHDAY = 64;
const K_REFERRER = 128;
const K_ORDER = 256;
const K_POINTS = 512;
const K_ORDER_TOTAL = 1024;
const K_CLUB = 2048;
const K_NAME = 4096;
// Keys of a line.
const L_SKU = 1;
const L_CATEGORY = 2;
const L_QTY = 4;
const L_PRICE = 8;

const EVENT_KEYS: [string, number][] = [
  ['type', K_TYPE],
  ['at', K_AT],
  ['member', K_MEMBER],
  ['id', K_ID],
  ['lines', K_LINES],
  ['channel', K_CHANNEL],
  ['birthday', K_BIRTHDAY],
  ['referrer', K_REFERRER],
  ['order', K_ORDER],
  ['points', K_POINTS],
  ['order_total', K_ORDER_TOTAL],
  ['club', K_CLUB],
  ['name', K_NAME],
];
const LINE_KEYS: [string, number][] = [
  ['sku', L_SKU],
  ['category', L_CATEGORY],
  ['qty', L_QTY],
  ['price', L_PRICE],
];
const TYPES = ['signup', 'order', 'refund', 'redeem', 'join_club', 'cancel_club', 'event', 'tick'] as const;

type Latin1 = Buffer & { latin1Slice(start: number, end: number): string };

/** Strings that recur (member ids, skus, categories, names) made once, found again by their bytes. */
class Interner {
  private mask = 1023;
  private hashes = new Int32Array(1024);
  private strs: (string | undefined)[] = new Array(1024);
  private count = 0;
  private static readonly MAX = 1 << 20;

  get(buf: Latin1, a: number, b: number): string {
    let h = 0x811c9dc5 | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    let idx = h & this.mask;
    const strs = this.strs;
    const hashes = this.hashes;
    for (;;) {
      const s = strs[idx];
      if (s === undefined) break;
      if (hashes[idx] === h && s.length === b - a) {
        let same = true;
        for (let i = 0; i < s.length; i++) {
          if (s.charCodeAt(i) !== buf[a + i]) {
            same = false;
            break;
          }
        }
        if (same) return s;
      }
      idx = (idx + 1) & this.mask;
    }
    const s = buf.latin1Slice(a, b);
    if (this.count >= Interner.MAX) return s;
    strs[idx] = s;
    hashes[idx] = h;
    if (++this.count * 2 > this.mask) this.grow();
    return s;
  }

  private grow(): void {
    const old = this.strs;
    const oldH = this.hashes;
    this.mask = this.mask * 2 + 1;
    this.strs = new Array(this.mask + 1);
    this.hashes = new Int32Array(this.mask + 1);
    for (let i = 0; i < old.length; i++) {
      const s = old[i];
      if (s === undefined) continue;
      let idx = oldH[i]! & this.mask;
      while (this.strs[idx] !== undefined) idx = (idx + 1) & this.mask;
      this.strs[idx] = s;
      this.hashes[idx] = oldH[i]!;
    }
  }
}

const FAIL = -1;

const POW10 = [1, 10, 100, 1000];

export class FastLineParser {
  /** `exponent`: the program currency's decimals (0, 2 or 3). */
  constructor(private readonly exponent: number = 2) {}

  private buf!: Latin1;
  private p = 0;
  private end = 0;
  // The last string value: [sA, sB) in buf.
  private sA = 0;
  private sB = 0;
  private readonly intern = new Interner();
  private lastDate = new Uint8Array(10);
  private lastDateDays = NaN;

  /** The event on bytes [a, b) of buf, or null to take the general path. */
  parse(buf: Buffer, a: number, b: number): HwEvent | null {
    this.buf = buf as Latin1;
    this.p = a;
    this.end = b;
    try {
      return this.event();
    } catch {
      return null;
    }
  }

  private ws(): void {
    const buf = this.buf;
    let p = this.p;
    while (p < this.end) {
      const c = buf[p]!;
      if (c !== 32 && c !== 9 && c !== 13) break;
      p++;
    }
    this.p = p;
  }

  private expect(c: number): void {
    this.ws();
    if (this.p >= this.end || this.buf[this.p] !== c) throw FAIL;
    this.p++;
  }

  /** Next non-blank byte is `c`? (consumed if so) */
  private accept(c: number): boolean {
    this.ws();
    if (this.p < this.end && this.buf[this.p] === c) {
      this.p++;
      return true;
    }
    return false;
  }

  /** A string of printable ASCII without escapes; sets [sA, sB). */
  private str(): void {
    this.expect(34);
    const buf = this.buf;
    const a = this.p;
    let p = a;
    for (;;) {
      if (p >= this.end) throw FAIL;
      const c = buf[p]!;
      if (c === 34) break;
      if (c < 32 || c > 126 || c === 92) throw FAIL;
      p++;
    }
    if (p === a) throw FAIL; // empty: the general path says which field
    this.sA = a;
    this.sB = p;
    this.p = p + 1;
  }

  private isNull(): boolean {
    this.ws();
    const buf = this.buf;
    const p = this.p;
    if (p + 4 <= this.end && buf[p] === 110 && buf[p + 1] === 117 && buf[p + 2] === 108 && buf[p + 3] === 108) {
      this.p = p + 4;
      return true;
    }
    return false;
  }

  /** A positive integer written as plain digits (no leading zero, sign, fraction or exponent). */
  private posInt(): number {
    this.ws();
    const buf = this.buf;
    let p = this.p;
    const a = p;
    let v = 0;
    while (p < this.end) {
      const c = buf[p]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      p++;
    }
    if (p === a || buf[a] === 48 || p - a > 15) throw FAIL;
    const c = p < this.end ? buf[p]! : 0;
    if (c === 46 || c === 101 || c === 69) throw FAIL; // 1.0, 1e3: general path
    this.p = p;
    return v;
  }

  private key(keys: [string, number][]): number {
    this.str();
    const buf = this.buf;
    const a = this.sA;
    const n = this.sB - a;
    for (const [k, bit] of keys) {
      if (k.length !== n) continue;
      let same = true;
      for (let i = 0; i < n; i++) {
        if (k.charCodeAt(i) !== buf[a + i]) {
          same = false;
          break;
        }
      }
      if (same) return bit;
    }
    throw FAIL; // unknown key: the general path ignores it
  }

  private string(): string {
    this.str();
    return this.buf.latin1Slice(this.sA, this.sB);
  }

  private interned(): string {
    this.str();
    return this.intern.get(this.buf, this.sA, this.sB);
  }

  private event(): HwEvent | null {
    this.expect(123);
    let seen = 0;
    let type = -1;
    let at = NaN;
    let member = '';
    let id = '';
    let order = '';
    let club = '';
    let name = '';
    let channel: string | null = null;
    let birthday: string | null = null;
    let referrer: string | null = null;
    let points = 0;
    let orderTotal: number | null = null;
    let orderLines: HwOrderLine[] | null = null;
    let refundLines: { sku: string; qty: number }[] | null = null;
    if (!this.accept(125)) {
      do {
        const k = this.key(EVENT_KEYS);
        if (seen & k) throw FAIL; // duplicate key: JSON.parse keeps the last one
        seen |= k;
        this.expect(58);
        switch (k) {
          case K_TYPE:
            type = this.typeCode();
            break;
          case K_AT:
            this.str();
            at = this.instant(this.sA, this.sB);
            break;
          case K_MEMBER:
            member = this.interned();
            break;
          case K_ID:
            id = this.string();
            break;
          case K_ORDER:
            order = this.string();
            break;
          case K_CLUB:
            club = this.interned();
            break;
          case K_NAME:
            name = this.interned();
            break;
          case K_CHANNEL:
            channel = this.isNull() ? null : this.interned();
            break;
          case K_BIRTHDAY:
            if (this.isNull()) birthday = null;
            else {
              birthday = this.string();
              if (!isDate(birthday)) throw FAIL;
            }
            break;
          case K_REFERRER:
            referrer = this.isNull() ? null : this.interned();
            break;
          case K_POINTS:
            points = this.posInt();
            break;
          case K_ORDER_TOTAL:
            if (this.isNull()) orderTotal = null;
            else {
              this.str();
              orderTotal = this.money(this.sA, this.sB);
            }
            break;
          case K_LINES: {
            // Order lines and refund lines have different keys; decide by what is there.
            const ls = this.lines();
            if (ls.order) orderLines = ls.order;
            else refundLines = ls.refund;
            break;
          }
        }
      } while (this.accept(44));
      this.expect(125);
    }
    this.ws();
    if (this.p !== this.end) throw FAIL;
    if (!(seen & K_TYPE) || !(seen & K_AT)) return null;
    const t = TYPES[type];
    if (t === 'tick') return { type: t, at };
    if (!(seen & K_MEMBER)) return null;
    switch (t) {
      case 'order':
        if (!(seen & K_ID) || orderLines === null) return null;
        return { type: t, at, member, id, lines: orderLines, channel };
      case 'signup':
        return { type: t, at, member, birthday, referrer };
      case 'refund':
        if (!(seen & K_ORDER) || refundLines === null) return null;
        return { type: t, at, member, order, lines: refundLines };
      case 'redeem':
        if (!(seen & K_POINTS)) return null;
        return { type: t, at, member, points, orderTotal };
      case 'join_club':
      case 'cancel_club':
        if (!(seen & K_CLUB)) return null;
        return { type: t, at, member, club };
      case 'event':
        if (!(seen & K_NAME)) return null;
        return { type: t, at, member, name };
    }
    return null;
  }

  private typeCode(): number {
    this.str();
    const buf = this.buf;
    const a = this.sA;
    const n = this.sB - a;
    for (let k = 0; k < TYPES.length; k++) {
      const name = TYPES[k]!;
      if (name.length !== n) continue;
      let same = true;
      for (let i = 0; i < n; i++) {
        if (name.charCodeAt(i) !== buf[a + i]) {
          same = false;
          break;
        }
      }
      if (same) return k;
    }
    throw FAIL;
  }

  /** A non-empty list of line objects, all of the order shape or all of the refund shape. */
  private lines(): { order: HwOrderLine[] | null; refund: { sku: string; qty: number }[] | null } {
    this.expect(91);
    const order: HwOrderLine[] = [];
    const refund: { sku: string; qty: number }[] = [];
    if (this.accept(93)) throw FAIL; // empty: the general path reports it
    do {
      this.expect(123);
      let seen = 0;
      let sku = '';
      let category = '';
      let qty = 0;
      let price = 0;
      do {
        const k = this.key(LINE_KEYS);
        if (seen & k) throw FAIL;
        seen |= k;
        this.expect(58);
        switch (k) {
          case L_SKU:
            sku = this.interned();
            break;
          case L_CATEGORY:
            category = this.interned();
            break;
          case L_QTY:
            qty = this.posInt();
            break;
          case L_PRICE:
            this.str();
            price = this.money(this.sA, this.sB);
            break;
        }
      } while (this.accept(44));
      this.expect(125);
      if (seen === (L_SKU | L_CATEGORY | L_QTY | L_PRICE)) {
        if (!Number.isSafeInteger(qty * price)) throw FAIL;
        order.push({ sku, category, qty, price });
      }
      else if (seen === (L_SKU | L_QTY)) refund.push({ sku, qty });
      else throw FAIL;
    } while (this.accept(44));
    this.expect(93);
    if (order.length > 0 && refund.length > 0) throw FAIL;
    return order.length > 0 ? { order, refund: null } : { order: null, refund };
  }

  private d2(i: number): number {
    const buf = this.buf;
    const a = buf[i]! - 48;
    const b = buf[i + 1]! - 48;
    if (a < 0 || a > 9 || b < 0 || b > 9) throw FAIL;
    return a * 10 + b;
  }

  /** `YYYY-MM-DDTHH:MM[:SS[.f]](Z|±HH:MM)` on bytes [a, b). */
  private instant(a: number, b: number): number {
    const buf = this.buf;
    if (b - a < 17) throw FAIL;
    let days: number;
    const ld = this.lastDate;
    if (
      this.lastDateDays === this.lastDateDays &&
      buf[a] === ld[0] && buf[a + 1] === ld[1] && buf[a + 2] === ld[2] && buf[a + 3] === ld[3] && buf[a + 4] === ld[4] &&
      buf[a + 5] === ld[5] && buf[a + 6] === ld[6] && buf[a + 7] === ld[7] && buf[a + 8] === ld[8] && buf[a + 9] === ld[9]
    ) {
      days = this.lastDateDays;
    } else {
      const y = this.d2(a) * 100 + this.d2(a + 2);
      const mo = this.d2(a + 5);
      const d = this.d2(a + 8);
      if (buf[a + 4] !== 45 || buf[a + 7] !== 45 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) throw FAIL;
      days = daysFromCivil(y, mo, d);
      for (let i = 0; i < 10; i++) ld[i] = buf[a + i]!;
      this.lastDateDays = days;
    }
    if (buf[a + 10] !== 84 || buf[a + 13] !== 58) throw FAIL;
    const h = this.d2(a + 11);
    const mi = this.d2(a + 14);
    if (h > 23 || mi > 59) throw FAIL;
    let i = a + 16;
    let sec = 0;
    let ms = 0;
    if (buf[i] === 58) {
      if (i + 3 > b) throw FAIL;
      sec = this.d2(i + 1);
      if (sec > 59) throw FAIL;
      i += 3;
      if (buf[i] === 46) {
        i++;
        const from = i;
        let scale = 100;
        while (i < b) {
          const c = buf[i]! - 48;
          if (c < 0 || c > 9) break;
          ms += c * scale;
          scale /= 10;
          i++;
        }
        if (i === from) throw FAIL;
        ms = Math.floor(ms);
      }
    }
    let off = 0;
    const c = buf[i];
    if (c === 90) {
      if (i + 1 !== b) throw FAIL;
    } else if (c === 43 || c === 45) {
      if (i + 6 !== b || buf[i + 3] !== 58) throw FAIL;
      const oh = this.d2(i + 1);
      const om = this.d2(i + 4);
      if (oh > 23 || om > 59) throw FAIL;
      off = (oh * 60 + om) * MINUTE;
      if (c === 45) off = -off;
    } else throw FAIL;
    return days * DAY + h * HOUR + mi * MINUTE + sec * 1000 + ms - off;
  }

  /** A decimal string on bytes [a, b), in minor units of the currency. */
  private money(a: number, b: number): number {
    const buf = this.buf;
    const exp = this.exponent;
    let i = a;
    let whole = 0;
    while (i < b) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      whole = whole * 10 + c;
      i++;
    }
    if (i === a || i - a > 12) throw FAIL;
    let frac = 0;
    let digits = 0;
    if (i < b) {
      if (buf[i] !== 46) throw FAIL;
      i++;
      const from = i;
      while (i < b) {
        const c = buf[i]! - 48;
        if (c < 0 || c > 9) throw FAIL;
        if (digits < exp) {
          frac = frac * 10 + c;
          digits++;
        } else if (c !== 0) throw FAIL; // more decimals than the currency: the general path explains
        i++;
      }
      if (i === from) throw FAIL;
    }
    return whole * POW10[exp]! + frac * POW10[exp - digits]!;
  }
}

function isDate(s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const n = (i: number) => {
    const a = s.charCodeAt(i) - 48;
    const b = s.charCodeAt(i + 1) - 48;
    return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
  };
  const y1 = n(0);
  const y2 = n(2);
  const m = n(5);
  const d = n(8);
  if (y1 < 0 || y2 < 0) return false;
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y1 * 100 + y2, m);
}
