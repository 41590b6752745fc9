import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addRat, mulDivFloor, mulMulDivFloor, ratGte } from '../../src/engine/arith.ts';

const big = (x: bigint, d: bigint) => {
  const q = x / d;
  return Number(x % d !== 0n && x < 0n !== d < 0n ? q - 1n : q);
};

describe('exact integer arithmetic', () => {
  it('floor(a × b / c) is exact, also beyond 2^53', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), (a, b, c) => {
        expect(mulDivFloor(a, b, c)).toBe(big(BigInt(a) * BigInt(b), BigInt(c)));
      }),
      { numRuns: 2000 },
    );
  });

  it('floor(a × b × c / d) is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 1e7 }), (a, b, c, d) => {
        expect(mulMulDivFloor(a, b, c, d)).toBe(big(BigInt(a) * BigInt(b) * BigInt(c), BigInt(d)));
      }),
      { numRuns: 2000 },
    );
  });

  it('floors quotients just below a whole number (where a double rounds up)', () => {
    // (2^53 - 1) / (2^53 - 2) is just above 1; 3 * (10^15 - 1) / 3 * 10^15 just below 1.
    expect(mulDivFloor(3, 1e15 - 1, 3e15)).toBe(0);
    expect(mulDivFloor(1, 2 ** 53 - 1, 2 ** 53 - 2)).toBe(1);
  });

  it('adds and compares rationals exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 1, max: 1000 }), (a, b, c, d) => {
        const s = addRat([a, b], [c, d]);
        expect(BigInt(s[0]) * BigInt(b) * BigInt(d)).toBe(BigInt(s[1]) * (BigInt(a) * BigInt(d) + BigInt(c) * BigInt(b)));
        expect(ratGte([a, b], [c, d])).toBe(BigInt(a) * BigInt(d) >= BigInt(c) * BigInt(b));
      }),
    );
  });
});
