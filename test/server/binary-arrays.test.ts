// Binary array parameters (db/binary-arrays.ts) read back by PostgreSQL and by PGlite as the values they encode.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ColumnRows, encodeArray, type ElementType } from '../../src/server/db/binary-arrays.ts';
import { startEmbedded, type EmbeddedDatabase } from '../../src/server/db/embedded.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

const INSTANTS = [0, -1, 946_684_800_000, 946_684_799_999, Date.parse('2026-12-08T01:02:03.456Z'), Date.parse('1901-02-03T04:05:06.007Z'), 253_402_300_799_999, null];

describe('binary array parameters', { timeout: 60_000 }, () => {
  let postgres: TestPostgres;
  let embedded: EmbeddedDatabase;
  const clients: [string, pg.Client][] = [];

  beforeAll(async () => {
    [postgres, embedded] = await Promise.all([startPostgres(), startEmbedded(null)]);
    for (const [name, url] of [['postgres', postgres.url], ['pglite', embedded.url]] as const) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      clients.push([name, client]);
    }
  }, 60_000);
  afterAll(async () => {
    for (const [, c] of clients) await c.end();
    await Promise.all([postgres?.stop(), embedded?.stop()]);
  });

  /** The elements as the database reads them, as text (`expr` of the element `x`), in order. */
  async function read(client: pg.Client, type: ElementType, values: unknown[], expr = 'x::text'): Promise<unknown[]> {
    const sqlType = type === 'timestamptz' ? 'timestamptz' : type;
    const { rows } = await client.query(`SELECT ${expr} AS v FROM unnest($1::${sqlType}[]) WITH ORDINALITY AS u(x, n) ORDER BY n`, [encodeArray(type, values)]);
    return rows.map((r) => r.v);
  }

  test.each(['postgres', 'pglite'])('%s reads integers, text, instants, uuids and documents as encoded, nulls as NULL', async (name) => {
    const client = clients.find(([n]) => n === name)![1];
    const int8 = [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32) - 7, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 123n, null];
    expect(await read(client, 'int8', int8)).toEqual(int8.map((v) => (v === null ? null : String(v))));
    const int4 = [0, -5, 2_147_483_647, -2_147_483_648, undefined];
    expect(await read(client, 'int4', int4)).toEqual(int4.map((v) => (v === undefined ? null : String(v))));
    const text = ['', 'josé', 'emoji 😀', 'quote " backslash \\ brace {', 'line\nbreak', null, 'x'.repeat(10_000)];
    expect(await read(client, 'text', text)).toEqual(text);
    expect(await read(client, 'timestamptz', INSTANTS, `(extract(epoch FROM x) * 1000)::int8::text`)).toEqual(INSTANTS.map((v) => (v === null ? null : String(v))));
    const uuids = ['3e6d1a2d-b235-4773-9754-d0c50da1c3c7', '7A59881E-3904-4EB8-B045-B3B12BC803B6', null, '00000000-0000-0000-0000-000000000000'];
    expect(await read(client, 'uuid', uuids)).toEqual(uuids.map((v) => v?.toLowerCase() ?? null));
    const documents = [{ a: 1, b: [1, 2, { c: 'é' }] }, [], 'a string', 5.5, { nested: { deep: [null, true] } }, null];
    expect(await read(client, 'jsonb', documents, 'x')).toEqual(documents);
    // A JSON null inside a document stays JSON; a null element is SQL NULL.
    expect(await read(client, 'jsonb', [null, [null]], 'x IS NULL')).toEqual([true, false]);
    expect(await read(client, 'int8', [])).toEqual([]);
  });

  test.each(['postgres', 'pglite'])('%s reads ColumnRows back as the rows added, with their order as n and a value set afterwards', async (name) => {
    const client = clients.find(([n]) => n === name)![1];
    const columns = { id: 'uuid', label: 'text', at: 'timestamptz', points: 'int8', doc: 'jsonb' } as const;
    const rows = new ColumnRows(columns);
    rows.add({ id: '3e6d1a2d-b235-4773-9754-d0c50da1c3c7', label: 'first', at: 0, points: -250, doc: { lines: [1] } });
    const second = rows.add({ label: 'second', at: 1_000, points: 2 ** 40 });
    rows.add({ id: '7a59881e-3904-4eb8-b045-b3b12bc803b6', label: null, at: null, points: 0, doc: [] });
    rows.set(second, 'doc', { set: 'later' });
    expect(rows.length).toBe(3);
    const { rows: read } = await client.query(
      `SELECT r.id::text AS id, r.label, (extract(epoch FROM r.at) * 1000)::int8::text AS at, r.points::text AS points, r.doc, r.n::int AS n
         FROM ${ColumnRows.sql(columns, 2, 'r')} WHERE $1::int = 1 ORDER BY r.n`,
      [1, ...rows.params()],
    );
    expect(read).toEqual([
      { id: '3e6d1a2d-b235-4773-9754-d0c50da1c3c7', label: 'first', at: '0', points: '-250', doc: { lines: [1] }, n: 1 },
      { id: null, label: 'second', at: '1000', points: String(2 ** 40), doc: { set: 'later' }, n: 2 },
      { id: '7a59881e-3904-4eb8-b045-b3b12bc803b6', label: null, at: null, points: '0', doc: [], n: 3 },
    ]);
  });

  test('values that would not be read back as given are refused before anything is sent', () => {
    expect(() => encodeArray('int8', [1.5])).toThrow(/not an int8/);
    expect(() => encodeArray('int8', [2 ** 53])).toThrow(/not an int8/);
    expect(() => encodeArray('int8', ['12'])).toThrow(/not an int8/);
    expect(() => encodeArray('int4', [2 ** 31])).toThrow(/not an int4/);
    expect(() => encodeArray('timestamptz', [Number.NaN])).toThrow(/not an instant/);
    expect(() => encodeArray('timestamptz', ['2026-01-01T00:00:00Z'])).toThrow(/not an instant/);
    // A lone surrogate would be written as U+FFFD: another string than the one given.
    expect(() => encodeArray('text', ['jos\ud800'])).toThrow(/lone surrogate/);
    expect(() => encodeArray('text', [5])).toThrow(/not text/);
    for (const bad of ['not-a-uuid', '3e6d1a2d-b235-4773-9754-d0c50da1c3c', '3e6d1a2d-b235-4773-9754-d0c50da1c3c7a', '3e6d1a2d-b235-4773-9754_d0c50da1c3c7', 'g'.repeat(32)]) {
      expect(() => encodeArray('uuid', [bad]), bad).toThrow(/not a uuid/);
    }
    expect(() => ColumnRows.sql({ n: 'int4' }, 1, 'r')).toThrow(/may not be named n/);
  });
});
