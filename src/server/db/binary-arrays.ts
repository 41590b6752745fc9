// Rows as columns, each sent as one PostgreSQL array in its binary format
// (the one array_recv reads), for `INSERT ... SELECT ... FROM unnest($1::int8[],
// $2::text[], ...)`. node-postgres sends a Buffer parameter as binary, so the
// database copies each value out of the array instead of parsing a JSON
// document: for the import's events, orders, ledger entries and
// notifications that took PGlite's share of the work by about a third in a
// measurement of the statements alone (bench/README.md, "Import: rows as
// binary arrays"). A jsonb value is still text inside (binary jsonb is a
// version byte and the document's text), so it is parsed as before.

export type ElementType = 'int4' | 'int8' | 'text' | 'timestamptz' | 'uuid' | 'jsonb';

const OID: Record<ElementType, number> = { int4: 23, int8: 20, text: 25, timestamptz: 1184, uuid: 2950, jsonb: 3802 };
const SQL_TYPE: Record<ElementType, string> = { int4: 'int4', int8: 'int8', text: 'text', timestamptz: 'timestamptz', uuid: 'uuid', jsonb: 'jsonb' };

/** PostgreSQL's epoch (2000-01-01T00:00:00Z) in Unix milliseconds: a binary timestamptz is microseconds since it. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

function integer(value: unknown, type: 'int4' | 'int8'): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || (type === 'int4' && (n < -2_147_483_648 || n > 2_147_483_647))) {
    throw new TypeError(`${String(value)} is not an ${type}`);
  }
  return n;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${typeof value} is not text`);
  // UTF-8 has no lone surrogate: Buffer.write would put U+FFFD in its place, changing the value unseen.
  if (!value.isWellFormed()) throw new TypeError('text with a lone surrogate (not valid Unicode)');
  return value;
}

/**
 * One array parameter: `values` as a one-dimensional array of `type`, null
 * and undefined as SQL NULL. Integers are numbers or bigints (safe
 * integers), timestamps Unix milliseconds, uuids their text form, jsonb any
 * JSON value.
 */
export function encodeArray(type: ElementType, values: readonly unknown[]): Buffer {
  const n = values.length;
  // The text of text and jsonb elements, measured first so that the array is allocated once.
  const texts: (string | null)[] = type === 'text' || type === 'jsonb' ? new Array<string | null>(n) : [];
  let size = 20;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      size += 4;
      nulls = 1;
      if (texts.length > 0) texts[i] = null;
      continue;
    }
    switch (type) {
      case 'int4':
        size += 8;
        break;
      case 'int8':
      case 'timestamptz':
        size += 12;
        break;
      case 'uuid':
        size += 20;
        break;
      case 'text': {
        const s = text(v);
        texts[i] = s;
        size += 4 + Buffer.byteLength(s);
        break;
      }
      case 'jsonb': {
        const s = text(JSON.stringify(v));
        texts[i] = s;
        size += 5 + Buffer.byteLength(s);
        break;
      }
    }
  }
  const b = Buffer.allocUnsafe(size);
  b.writeInt32BE(1, 0); // dimensions
  b.writeInt32BE(nulls, 4);
  b.writeInt32BE(OID[type], 8);
  b.writeInt32BE(n, 12);
  b.writeInt32BE(1, 16); // lower bound
  let o = 20;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      b.writeInt32BE(-1, o);
      o += 4;
      continue;
    }
    switch (type) {
      case 'int4':
        b.writeInt32BE(4, o);
        b.writeInt32BE(integer(v, 'int4'), o + 4);
        o += 8;
        break;
      case 'int8':
      case 'timestamptz': {
        let x: number;
        if (type === 'int8') x = integer(v, 'int8');
        else {
          if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${String(v)} is not an instant in milliseconds`);
          x = (v - PG_EPOCH_MS) * 1000;
        }
        const high = Math.floor(x / TWO_32);
        b.writeInt32BE(8, o);
        b.writeInt32BE(high, o + 4);
        b.writeUInt32BE(x - high * TWO_32, o + 8);
        o += 12;
        break;
      }
      case 'uuid': {
        if (typeof v !== 'string') throw new TypeError(`${String(v)} is not a uuid`);
        const s = v;
        b.writeInt32BE(16, o);
        let at = o + 4;
        for (let j = 0; j < s.length; j++) {
          if (s.charCodeAt(j) === 45 && (j === 8 || j === 13 || j === 18 || j === 23)) continue; // the hyphens
          const high = HEX[s.charCodeAt(j)] ?? -1;
          const low = HEX[s.charCodeAt(++j)] ?? -1;
          if (high < 0 || low < 0 || at === o + 20) throw new TypeError(`${s} is not a uuid`);
          b[at++] = (high << 4) | low;
        }
        if (at !== o + 20) throw new TypeError(`${s} is not a uuid`);
        o += 20;
        break;
      }
      case 'text': {
        const written = b.write(texts[i]!, o + 4);
        b.writeInt32BE(written, o);
        o += 4 + written;
        break;
      }
      case 'jsonb': {
        b[o + 4] = 1; // jsonb's binary format version
        const written = b.write(texts[i]!, o + 5);
        b.writeInt32BE(written + 1, o);
        o += 5 + written;
        break;
      }
    }
  }
  return b;
}

type Row<C extends Record<string, ElementType>> = { [K in keyof C]?: unknown };

/**
 * Rows staged column by column (no object kept per row), sent as one array
 * parameter a column (params) and read back as rows by unnest(sql), with
 * each row's place in the order added as `n`.
 */
export class ColumnRows<C extends Record<string, ElementType>> {
  readonly columns: { readonly [K in keyof C]: unknown[] };
  private readonly names: (keyof C & string)[];
  length = 0;

  constructor(readonly types: C) {
    this.names = Object.keys(types) as (keyof C & string)[];
    this.columns = Object.fromEntries(this.names.map((k) => [k, []])) as unknown as { [K in keyof C]: unknown[] };
  }

  /** Adds a row (a column it leaves out is null); returns its index. */
  add(row: Row<C>): number {
    for (const k of this.names) this.columns[k].push(row[k]);
    return this.length++;
  }

  /** Replaces one value of a row added before. */
  set<K extends keyof C>(index: number, column: K, value: unknown): void {
    this.columns[column][index] = value;
  }

  /** The parameters, a binary array per column in the order of `types`. */
  params(): Buffer[] {
    return this.names.map((k) => encodeArray(this.types[k]!, this.columns[k]));
  }

  /** `unnest($first::type[], ...) WITH ORDINALITY AS alias(column, ..., n)`: the rows, with their index from 1 as `n`. */
  static sql<C extends Record<string, ElementType>>(types: C, first: number, alias: string): string {
    const names = Object.keys(types);
    if (names.includes('n')) throw new Error('a column may not be named n (the ordinality)');
    const arrays = names.map((k, i) => `$${first + i}::${SQL_TYPE[types[k]!]}[]`).join(', ');
    return `unnest(${arrays}) WITH ORDINALITY AS ${alias}(${names.join(', ')}, n)`;
  }
}
