// Comparing a replay result with an expected one (replay.md `--expect`):
// key order is ignored, members and errors are compared, error messages by
// line number only. Each difference names the member, the field, the
// expected and the actual value.
import type { ReplayResult } from './replay.ts';

export interface Difference {
  path: string;
  expected: unknown;
  actual: unknown;
}

const MISSING = Symbol('missing');

export function compareResults(expected: unknown, actual: ReplayResult): Difference[] {
  const diffs: Difference[] = [];
  const exp = (expected ?? {}) as Partial<ReplayResult>;
  const em = (exp.members ?? {}) as unknown as Record<string, Record<string, unknown>>;
  const am = actual.members as unknown as Record<string, Record<string, unknown>>;
  for (const id of new Set([...Object.keys(em), ...Object.keys(am)])) {
    const e = em[id];
    const a = am[id];
    if (!e || !a) {
      diffs.push({ path: `members[${JSON.stringify(id)}]`, expected: e ? 'present' : MISSING, actual: a ? 'present' : MISSING });
      continue;
    }
    for (const field of ['balance', 'pending', 'tier', 'clubs']) {
      if (!deepEqual(e[field], a[field])) diffs.push({ path: `members[${JSON.stringify(id)}].${field}`, expected: e[field], actual: a[field] });
    }
    const el = (Array.isArray(e.ledger) ? e.ledger : []) as unknown[];
    const al = a.ledger as unknown[];
    const n = Math.max(el.length, al.length);
    for (let i = 0; i < n; i++) {
      if (!deepEqual(el[i], al[i])) diffs.push({ path: `members[${JSON.stringify(id)}].ledger[${i}]`, expected: i < el.length ? el[i] : MISSING, actual: i < al.length ? al[i] : MISSING });
    }
  }
  const eLines = new Set(((exp.errors ?? []) as { line: number }[]).map((x) => x.line));
  const aLines = new Set(actual.errors.map((x) => x.line));
  for (const l of [...new Set([...eLines, ...aLines])].sort((a, b) => a - b)) {
    if (eLines.has(l) !== aLines.has(l)) {
      const msg = actual.errors.find((x) => x.line === l)?.message;
      diffs.push({ path: `errors[line ${l}]`, expected: eLines.has(l) ? 'an error' : MISSING, actual: aLines.has(l) ? msg : MISSING });
    }
  }
  return diffs;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function describeValue(v: unknown): string {
  if (v === MISSING) return '(none)';
  return JSON.stringify(v);
}
