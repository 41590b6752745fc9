// The replay's id → index table (replay.ts) against a Map: lookups of
// present and absent ids, inserts after a miss and without one, growth
// across many sizes, and ids that differ in one character only.
import { describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/engine/replay.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('IdIndex', () => {
  it('agrees with a Map over 50,000 inserts and lookups', () => {
    const ids: string[] = [];
    const index = new IdIndex(ids);
    const map = new Map<string, number>();
    const r = rng(7);
    // Mismatches are collected (an expect per lookup would dominate the run).
    const wrong: string[] = [];
    const check = (id: string) => {
      const want = map.get(id) ?? -1;
      const got = index.get(id);
      if (got !== want) wrong.push(`${id}: ${got}, want ${want}`);
    };
    for (let n = 0; n < 50_000; n++) {
      // Similar ids (one character apart), some short, some repeated.
      const id = r() < 0.3 ? `o-${Math.floor(r() * 60_000)}` : r() < 0.5 ? String.fromCharCode(97 + Math.floor(r() * 26)) + n : `order/${n}/é`;
      const probe = r() < 0.5 ? id : `missing-${n}`;
      check(probe);
      if (map.has(id)) {
        check(id);
        continue;
      }
      // Half the inserts follow a failed lookup of the same id (the fast
      // path), half do not.
      if (r() < 0.5) check(id);
      ids.push(id);
      index.add(id, ids.length - 1);
      map.set(id, ids.length - 1);
    }
    for (const id of map.keys()) check(id);
    expect(wrong).toEqual([]);
    expect(map.size).toBeGreaterThan(40_000);
  });

  it('refuses an id it already holds, even right after a miss on another id', () => {
    const ids = ['a', 'b'];
    const index = new IdIndex(ids);
    index.add('a', 0);
    index.add('b', 1);
    expect(index.get('c')).toBe(-1);
    expect(() => index.add('a', 2)).toThrow(/already recorded/);
    expect(index.get('a')).toBe(0);
  });

  it('tells the empty string and other short ids apart', () => {
    const ids = ['', ' ', '0', '00'];
    const index = new IdIndex(ids);
    ids.forEach((id, k) => index.add(id, k));
    ids.forEach((id, k) => expect(index.get(id)).toBe(k));
    expect(index.get('000')).toBe(-1);
  });
});
