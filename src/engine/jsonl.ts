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
// categories, names) are made once. Times, money and dates are not read
// here: their bytes go to the one reader of each format (dsl/values.ts),
// so this decoder has no second grammar for them.
//
// Kept by measurement (bench/README.md): with JSON.parse alone, `loyalty
// replay --json` on the 1M stream was not reliably within 2x of the
// hand-written baseline.
//
// The hand-written benchmark baseline (bench/handwritten.ts) reads its input
// with the same decoder, so the comparison is about evaluation.

import { parseDateParts, parseInstant, toMinorUnits } from '../../dsl/values.ts';
import type { EngineEvent, OrderLine } from './types.ts';

type HwEvent = EngineEvent;
type HwOrderLine = OrderLine;

// The bytes the decoder looks for.
const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22; // "
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const COLON = 0x3a;
const UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_E = 0x65;
const LOWER_L = 0x6c;
const LOWER_N = 0x6e;
const LOWER_U = 0x75;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const TILDE = 0x7e; // the last printable ASCII byte
/** FNV-1a, 32 bits. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

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
    let h = FNV_OFFSET | 0;
    for (let i = a; i < b; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
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
      if (c !== SPACE && c !== TAB && c !== CR) break;
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
    this.expect(QUOTE);
    const buf = this.buf;
    const a = this.p;
    let p = a;
    for (;;) {
      if (p >= this.end) throw FAIL;
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c < SPACE || c > TILDE || c === BACKSLASH) throw FAIL;
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
    if (p + 4 <= this.end && buf[p] === LOWER_N && buf[p + 1] === LOWER_U && buf[p + 2] === LOWER_L && buf[p + 3] === LOWER_L) {
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
      const c = buf[p]! - DIGIT_0;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
      p++;
    }
    if (p === a || buf[a] === DIGIT_0 || p - a > 15) throw FAIL;
    const c = p < this.end ? buf[p]! : 0;
    if (c === DOT || c === LOWER_E || c === UPPER_E) throw FAIL; // 1.0, 1e3: general path
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
    this.expect(OPEN_BRACE);
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
    if (!this.accept(CLOSE_BRACE)) {
      do {
        const k = this.key(EVENT_KEYS);
        if (seen & k) throw FAIL; // duplicate key: JSON.parse keeps the last one
        seen |= k;
        this.expect(COLON);
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
              if (parseDateParts(birthday) === null) throw FAIL;
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
      } while (this.accept(COMMA));
      this.expect(CLOSE_BRACE);
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
    this.expect(OPEN_BRACKET);
    const order: HwOrderLine[] = [];
    const refund: { sku: string; qty: number }[] = [];
    if (this.accept(CLOSE_BRACKET)) throw FAIL; // empty: the general path reports it
    do {
      this.expect(OPEN_BRACE);
      let seen = 0;
      let sku = '';
      let category = '';
      let qty = 0;
      let price = 0;
      do {
        const k = this.key(LINE_KEYS);
        if (seen & k) throw FAIL;
        seen |= k;
        this.expect(COLON);
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
      } while (this.accept(COMMA));
      this.expect(CLOSE_BRACE);
      if (seen === (L_SKU | L_CATEGORY | L_QTY | L_PRICE)) {
        if (!Number.isSafeInteger(qty * price)) throw FAIL;
        order.push({ sku, category, qty, price });
      }
      else if (seen === (L_SKU | L_QTY)) refund.push({ sku, qty });
      else throw FAIL;
    } while (this.accept(COMMA));
    this.expect(CLOSE_BRACKET);
    if (order.length > 0 && refund.length > 0) throw FAIL;
    return order.length > 0 ? { order, refund: null } : { order: null, refund };
  }

  /** An instant on bytes [a, b): read by the one instant reader (dsl/values.ts). */
  private instant(a: number, b: number): number {
    const t = parseInstant(this.buf.latin1Slice(a, b));
    if (!t.ok) throw FAIL; // the general path says what is wrong
    return t.ms;
  }

  /** A decimal string on bytes [a, b), in minor units of the currency: read
   * by the one money reader (dsl/values.ts); events carry no negative amounts. */
  private money(a: number, b: number): number {
    if (this.buf[a] === MINUS) throw FAIL;
    const r = toMinorUnits(this.buf.latin1Slice(a, b), this.exponent);
    if (!r.ok) throw FAIL; // more decimals than the currency, or too large: the general path explains
    return r.minor;
  }
}
