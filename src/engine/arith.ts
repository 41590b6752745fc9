// Exact integer arithmetic for points and money. Products stay on doubles
// while they are safe integers (the common case) and fall back to BigInt.

/** floor(a × b / c) for integers a, b and c > 0. */
export function mulDivFloor(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) {
    // Correct the rounded double quotient so the floor is exact.
    let q = Math.floor(p / c);
    if (q * c > p) q -= 1;
    else if ((q + 1) * c <= p) q += 1;
    return q + 0; // never -0
  }
  return floorDivBig(BigInt(a) * BigInt(b), BigInt(c));
}

/** floor(a × b × c / d) for integers, d > 0. */
export function mulMulDivFloor(a: number, b: number, c: number, d: number): number {
  const ab = a * b;
  if (Number.isSafeInteger(ab)) return mulDivFloor(ab, c, d);
  return floorDivBig(BigInt(a) * BigInt(b) * BigInt(c), BigInt(d));
}

export function floorDivBig(n: bigint, d: bigint): number {
  let q = n / d;
  if (n % d !== 0n && n < 0n !== d < 0n) q -= 1n;
  return Number(q) + 0;
}

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A rational as [numerator, denominator], denominator > 0, in lowest terms. */
export type Rat = [number, number];

export function addRat(a: Rat, b: Rat): Rat {
  if (a[1] === 1 && b[1] === 1) return [a[0] + b[0], 1];
  const n = a[0] * b[1] + b[0] * a[1];
  const d = a[1] * b[1];
  const g = gcd(n, d) || 1;
  return [n / g, d / g];
}

/** a ≥ b for rationals. */
export function ratGte(a: Rat, b: Rat): boolean {
  if (a[1] === 1 && b[1] === 1) return a[0] >= b[0];
  return BigInt(a[0]) * BigInt(b[1]) >= BigInt(b[0]) * BigInt(a[1]);
}
