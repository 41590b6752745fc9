// Shared by the language tests: the example and conformance programs, a
// seeded PRNG, and a canonical form of a compiled Program that two programs
// share exactly when they mean the same thing (closures are compared by
// what they answer on a fixed set of probe inputs).
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { compile, type Diagnostic, type OrderFacts, type Program } from '../../dsl/index.ts';
import { unescapeString } from '../../dsl/ast.ts';
import { parseDate, parseTimeOfDay, toMinorUnits } from '../../dsl/values.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const EXAMPLES_DIR = join(ROOT, 'examples');
export const CONFORMANCE_DIR = resolve(ROOT, '../shared/conformance');

export interface ProgramFile {
  /** Short name for test titles, e.g. `examples/grocer.loyalty`. */
  name: string;
  path: string;
  source: string;
}

export function examplePrograms(): ProgramFile[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.loyalty'))
    .sort()
    .map((f) => {
      const path = join(EXAMPLES_DIR, f);
      return { name: `examples/${f}`, path, source: readFileSync(path, 'utf8') };
    });
}

export function conformancePrograms(): ProgramFile[] {
  return readdirSync(CONFORMANCE_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((dir) => {
      const path = join(CONFORMANCE_DIR, dir, 'program.loyalty');
      return { name: `conformance/${dir}`, path, source: readFileSync(path, 'utf8') };
    });
}

export function allPrograms(): ProgramFile[] {
  return [...examplePrograms(), ...conformancePrograms()];
}

export function shortName(path: string): string {
  return `${basename(dirname(path))}/${basename(path)}`;
}

// ---------------------------------------------------------------------------
// PRNG

/** mulberry32: small, fast, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---------------------------------------------------------------------------
// Compiling

export function errorsOf(ds: readonly Diagnostic[]): Diagnostic[] {
  return ds.filter((d) => d.severity === 'error');
}

/** Compiles and insists on a program (warnings allowed). */
export function mustCompile(source: string, file = 'test.loyalty'): Program {
  const r = compile(source, file);
  expect(errorsOf(r.diagnostics), `unexpected errors in\n${source}`).toEqual([]);
  expect(r.program).toBeDefined();
  return r.program!;
}

// ---------------------------------------------------------------------------
// Probe inputs, read off the literals of a source text

export interface Probes {
  /** Categories and skus to ask every `matches` about. */
  names: string[];
  facts: OrderFacts[];
}

const DAY_MS = 86_400_000;

/** Probe inputs for a program: every string, amount, number, date and time
 * written in `source`, each with its neighbours, plus random values. The
 * same probes are used for both programs of a comparison. */
export function probesFor(source: string, program: Program, count = 300, seed = 1): Probes {
  const strings = new Set<string>(['', 'zz-none', 'ZZ-NONE']);
  for (const m of source.matchAll(/"(?:[^"\\\r\n]|\\.)*"/g)) strings.add(unescapeString(m[0]));
  for (const s of program.excludeCategories) strings.add(s);
  for (const s of program.excludeSkus) strings.add(s);

  const totals = new Set<number>([0, 1, 99, 100, 101, 1_000_000]);
  for (const m of source.matchAll(/(\d+(?:\.\d+)?)[ \t]?([A-Z]{3})\b/g)) {
    const r = toMinorUnits(m[1]!, program.currencyExponent);
    if (r.ok) for (const d of [-1, 0, 1]) if (r.minor + d >= 0) totals.add(r.minor + d);
  }
  const numbers = new Set<number>([0, 1, 2, 3, 5, 10, 100]);
  for (const m of source.matchAll(/(?<![\d.:-])\d+(?:\.\d+)?(?![\d:-])/g)) {
    const v = Number(m[0]);
    if (Number.isFinite(v) && v < 1e7) for (const d of [-1, -0.5, 0, 0.5, 1]) if (v + d >= 0) numbers.add(v + d);
  }
  const days = new Set<number>([0, 20_000, 20_453]);
  for (const m of source.matchAll(/\d{4}-\d{2}-\d{2}/g)) {
    const d = parseDate(m[0]);
    if (d !== null) for (const x of [-1, 0, 1]) days.add(d + x);
  }
  const times = new Set<number>([0, 1, DAY_MS / 2, DAY_MS - 1]);
  for (const m of source.matchAll(/\b\d{1,2}:\d{2}\b/g)) {
    const t = parseTimeOfDay(m[0]);
    if (t !== null) for (const x of [-1, 0, 1]) {
      const ms = t * 60_000 + x;
      if (ms >= 0 && ms < DAY_MS) times.add(ms);
    }
  }
  const channels: (string | null)[] = [null, ...strings];
  const r = new Rand(seed);
  const T = [...totals];
  const N = [...numbers];
  const D = [...days];
  const M = [...times];
  const facts: OrderFacts[] = [];
  for (let i = 0; i < count; i++) {
    facts.push({
      total: r.chance(0.8) ? r.pick(T) : r.int(0, 1_000_000),
      items: r.chance(0.8) ? r.pick(N) : r.int(0, 50),
      channel: r.pick(channels),
      tier: r.int(-1, program.tiers.length),
      clubs: program.clubs.map(() => r.chance(0.5)),
      firstOrder: r.chance(0.5),
      localDay: r.chance(0.8) ? r.pick(D) : r.int(19_000, 21_000),
      weekday: r.int(0, 6),
      msOfDay: r.chance(0.7) ? r.pick(M) : r.int(0, DAY_MS - 1),
    });
  }
  return { names: [...strings], facts };
}

// ---------------------------------------------------------------------------
// Canonical form

const DROP = new Set(['source', 'hash', 'lines', 'fileName', 'line']);

/** A JSON-able form of a Program without positions, with Sets and Maps as
 * sorted arrays and closures replaced by their answers on `probes`. */
export function canonical(program: Program, probes: Probes): unknown {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'function') {
      if (key === 'matches') {
        const f = v as (c: string, s: string) => boolean;
        return probes.names.map((c) => probes.names.map((s) => (f(c, s) ? '1' : '0')).join('')).join('|');
      }
      if (key === 'condition' || key === 'test') {
        const f = v as (x: OrderFacts) => boolean;
        return probes.facts.map((x) => {
          const b = f(x);
          if (typeof b !== 'boolean') throw new Error(`condition returned ${String(b)}`);
          return b ? '1' : '0';
        }).join('');
      }
      throw new Error(`unexpected closure at ${key}`);
    }
    if (v instanceof Set) return [...v].map((x) => walk(x, key)).sort(cmpJson);
    if (v instanceof Map) return [...v.entries()].map(([k, x]) => [walk(k, key), walk(x, key)]).sort(cmpJson);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        if (DROP.has(k) || /Line$/.test(k)) continue;
        out[k] = walk((v as Record<string, unknown>)[k], k);
      }
      return out;
    }
    return v;
  };
  return walk(program, '');
}

function cmpJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The canonical forms of two programs, probed with inputs read off `probeSource`. */
export function sameMeaning(a: Program, b: Program, probeSource: string): { a: unknown; b: unknown } {
  const probes = probesFor(probeSource, a);
  return { a: canonical(a, probes), b: canonical(b, probes) };
}

// ---------------------------------------------------------------------------
// Marked sources: `⁁` marks where a diagnostic must point.

export const MARK = '⁁';

export function mark(text: string): { src: string; line: number; column: number } {
  const i = text.indexOf(MARK);
  if (i < 0 || text.indexOf(MARK, i + 1) >= 0) throw new Error('mark() needs exactly one ⁁');
  const before = text.slice(0, i);
  const lines = before.split('\n');
  return { src: text.slice(0, i) + text.slice(i + 1), line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

export function splitLines(source: string): string[] {
  return source.split(/\r\n|\r|\n/);
}

export { DAY_MS };
