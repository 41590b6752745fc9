// Thousands of broken programs: random edits of every example and
// conformance program (characters, tokens, lines, keywords, braces, quotes,
// unicode, truncation). `compile` must never throw nor report an internal
// error, every diagnostic must point inside the text and render; `format`
// must never throw and what it returns must be a fixed point. Each sample is
// reproducible from its seed (printed on failure): FUZZ_SEED shifts them all.
import { describe, expect, it, vi } from 'vitest';
import { CODES, compile, renderDiagnostic, type Diagnostic } from '../../dsl/index.ts';
import { format } from '../../dsl/format.ts';
import { keywords, tokenize } from '../../dsl/lexer.ts';
import { allPrograms, canonical, errorsOf, probesFor, Rand, splitLines } from './helpers.ts';

const BASE_SEED = Number(process.env['FUZZ_SEED'] ?? 7001);
const COMPILE_SAMPLES = Number(process.env['FUZZ_COMPILE'] ?? 150); // per program (24 programs)
const FORMAT_SAMPLES = Number(process.env['FUZZ_FORMAT'] ?? 80);
vi.setConfig({ testTimeout: 30_000 });

const KEYWORDS = [...keywords.keys()];
const LITERALS = [
  '0', '1', '-1', '2.5', '99999999999999999999', '1.0000000001', '0.5x', '2x', '-3x', '150%', '-5%', '20 USD', '20USD', '9.999 USD', '1.5 JPY', '0 USD', '5 XYZ',
  '2026-02-30', '2026-13-01', '2026-12-24', '24:00', '25:61', '9:00', '"str"', '""', '"unterminated', '"a\\"b"', '"\\\\"', 'Silver', 'Gold', 'x', '==', '!=', '<=', '>', '=',
  '.', ',', '(', ')', '{', '}', '#', '//', 'order.total', 'member.tier', 'member.club', 'first order',
];
const CHARS = ['{', '}', '(', ')', '"', '\\', '#', '/', ',', '.', '=', '<', '>', '!', '%', '-', '_', ':', ' ', '\n', '\t', '\r', '0', '9', 'x', 'A', 'z', '@', '~', '$', ';', '`', "'"];
const UNICODE = ['é', 'ß', 'Ω', '中', '𝄞', '💥', '\u0301', '\u00a0', '\u2028', '\u2029', '\uFEFF', '\u200b', '\0', '\v', '\f', '\x1b', '\ud800'];

type Mutation = (s: string, r: Rand) => string;

function tokenSpans(s: string): { start: number; end: number; image: string }[] {
  const t = tokenize(s, 'x');
  return [...t.tokens, ...t.comments]
    .filter((x) => Number.isFinite(x.startOffset) && Number.isFinite(x.endOffset))
    .map((x) => ({ start: x.startOffset, end: x.endOffset! + 1, image: s.slice(x.startOffset, x.endOffset! + 1) }))
    .sort((a, b) => a.start - b.start);
}
const at = (s: string, r: Rand) => r.int(0, s.length);
const insert = (s: string, i: number, x: string) => s.slice(0, i) + x + s.slice(i);

const MUTATIONS: [string, Mutation][] = [
  ['delete a character', (s, r) => {
    const i = at(s, r);
    return s.slice(0, i) + s.slice(i + 1);
  }],
  ['insert a character', (s, r) => insert(s, at(s, r), r.pick(CHARS))],
  ['insert unicode', (s, r) => insert(s, at(s, r), r.pick(UNICODE))],
  ['duplicate a character', (s, r) => {
    const i = r.int(0, Math.max(0, s.length - 1));
    return insert(s, i, s[i] ?? '');
  }],
  ['swap two characters', (s, r) => {
    const i = r.int(0, Math.max(0, s.length - 2));
    return s.slice(0, i) + (s[i + 1] ?? '') + (s[i] ?? '') + s.slice(i + 2);
  }],
  ['delete a token', (s, r) => {
    const ts = tokenSpans(s);
    if (!ts.length) return s;
    const t = r.pick(ts);
    return s.slice(0, t.start) + s.slice(t.end);
  }],
  ['duplicate a token', (s, r) => {
    const ts = tokenSpans(s);
    if (!ts.length) return s;
    const t = r.pick(ts);
    return insert(s, t.end, ' ' + t.image);
  }],
  ['swap two tokens', (s, r) => {
    const ts = tokenSpans(s);
    if (ts.length < 2) return s;
    let a = r.pick(ts);
    let b = r.pick(ts);
    if (a.start === b.start) return s;
    if (a.start > b.start) [a, b] = [b, a];
    if (a.end > b.start) return s;
    return s.slice(0, a.start) + b.image + s.slice(a.end, b.start) + a.image + s.slice(b.end);
  }],
  ['replace a token', (s, r) => {
    const ts = tokenSpans(s);
    if (!ts.length) return s;
    const t = r.pick(ts);
    return s.slice(0, t.start) + (r.chance(0.5) ? r.pick(KEYWORDS) : r.pick(LITERALS)) + s.slice(t.end);
  }],
  ['replace a number by an extreme one', (s, r) => {
    const ns = [...s.matchAll(/\d+(?:\.\d+)?/g)];
    if (!ns.length) return s;
    const m = r.pick(ns);
    const x = r.pick(['0', '00', '-0', '1.0000000001', '123456789012345678901234567890', '9007199254740993', '0.000000000001', '1e5', '10.50', '-7']);
    return s.slice(0, m.index!) + x + s.slice(m.index! + m[0].length);
  }],
  ['insert a keyword', (s, r) => insert(s, at(s, r), (r.chance(0.5) ? ' ' : '') + r.pick(KEYWORDS) + (r.chance(0.5) ? ' ' : ''))],
  ['insert a literal', (s, r) => insert(s, at(s, r), ' ' + r.pick(LITERALS) + ' ')],
  ['delete a line', (s, r) => {
    const ls = s.split('\n');
    ls.splice(r.int(0, ls.length - 1), 1);
    return ls.join('\n');
  }],
  ['duplicate a line', (s, r) => {
    const ls = s.split('\n');
    const i = r.int(0, ls.length - 1);
    ls.splice(i, 0, ls[i]!);
    return ls.join('\n');
  }],
  ['swap two lines', (s, r) => {
    const ls = s.split('\n');
    const i = r.int(0, ls.length - 1);
    const j = r.int(0, ls.length - 1);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return ls.join('\n');
  }],
  ['join two lines', (s, r) => {
    const nl = [...s.matchAll(/\n/g)].map((m) => m.index!);
    if (!nl.length) return s;
    const i = r.pick(nl);
    return s.slice(0, i) + ' ' + s.slice(i + 1);
  }],
  ['unbalance a bracket or quote', (s, r) => {
    const c = r.pick(['{', '}', '(', ')', '"']);
    if (r.chance(0.5)) return insert(s, at(s, r), c);
    const idx = s.split("").map((ch, i) => (ch === c ? i : -1)).filter((i) => i >= 0);
    if (!idx.length) return insert(s, at(s, r), c);
    const i = r.pick(idx);
    return s.slice(0, i) + s.slice(i + 1);
  }],
  ['comment out the rest of a line', (s, r) => insert(s, at(s, r), r.pick(['#', '//', ' # ', '/']))],
  ['truncate', (s, r) => s.slice(0, at(s, r))],
  ['drop the start', (s, r) => s.slice(at(s, r))],
  ['CRLF line ends', (s) => s.replace(/\n/g, '\r\n')],
  ['CR line ends', (s) => s.replace(/\n/g, '\r')],
  ['tabs for spaces', (s) => s.replace(/ {2}/g, '\t')],
];

function mutate(source: string, seed: number): { text: string; applied: string[] } {
  const r = new Rand(seed);
  let text = source;
  const applied: string[] = [];
  const n = r.int(1, 4);
  for (let k = 0; k < n; k++) {
    const [name, m] = r.pick(MUTATIONS);
    applied.push(name);
    text = m(text, r);
  }
  return { text, applied };
}

/** What is wrong with a diagnostic for `src`, or null. */
function problemWith(d: Diagnostic, src: string, file: string): string | null {
  const lines = splitLines(src);
  const eof = /end of the file/.test(d.message);
  if (d.code === 'E999') return `internal error: ${d.message}`;
  if (!(d.code in CODES)) return `unknown code ${d.code}`;
  if (d.severity !== (d.code.startsWith('W') ? 'warning' : 'error')) return `severity ${d.severity} for ${d.code}`;
  if (d.file !== file) return `file ${d.file}`;
  if (!Number.isInteger(d.line) || !Number.isInteger(d.column) || !Number.isInteger(d.endLine) || !Number.isInteger(d.endColumn)) return 'non-integer position';
  if (d.line < 1 || d.line > lines.length + (eof ? 1 : 0)) return `line ${d.line} outside 1..${lines.length}`;
  const text = lines[d.line - 1] ?? '';
  if (d.column < 1 || d.column > text.length + 1) return `column ${d.column} outside 1..${text.length + 1} of line ${d.line}`;
  if (d.endLine < d.line || (d.endLine === d.line && d.endColumn < d.column)) return `end ${d.endLine}:${d.endColumn} before start ${d.line}:${d.column}`;
  if (typeof d.message !== 'string' || d.message.length === 0) return 'empty message';
  let out: string;
  try {
    out = renderDiagnostic(d, src);
  } catch (e) {
    return `renderDiagnostic threw ${String(e)}`;
  }
  const rendered = out.split('\n');
  if (rendered[0] !== `${file}:${d.line}:${d.column}: ${d.severity} ${d.code} ${d.message}`) return `rendered head ${JSON.stringify(rendered[0])}`;
  if (d.line <= lines.length) {
    const gutter = String(d.line);
    if (rendered[1] !== `${gutter} | ${text}`) return `rendered source line ${JSON.stringify(rendered[1])}`;
    const caret = rendered[2] ?? '';
    if (caret.indexOf('^') !== gutter.length + 3 + d.column - 1) return `caret at ${caret.indexOf('^')} in ${JSON.stringify(caret)}`;
  }
  return null;
}

function report(kind: string, failures: { seed: number; applied: string[]; text: string; problem: string }[]): string {
  return failures
    .slice(0, 3)
    .map((f) => `${kind} seed ${f.seed} (${f.applied.join(', ')}): ${f.problem}\n--- source\n${f.text}\n---`)
    .join('\n\n') + (failures.length > 3 ? `\n... and ${failures.length - 3} more` : '');
}

const programs = allPrograms();

describe('compile on mutated programs', () => {
  programs.forEach((p, pi) => {
    it(`${p.name}: ${COMPILE_SAMPLES} mutations never throw, never E999, every diagnostic points inside the text and renders`, () => {
      const failures: { seed: number; applied: string[]; text: string; problem: string }[] = [];
      let sawErrors = 0;
      for (let k = 0; k < COMPILE_SAMPLES; k++) {
        const seed = BASE_SEED + pi * 100_000 + k;
        const { text, applied } = mutate(p.source, seed);
        const file = 'fuzz.loyalty';
        let ds: Diagnostic[];
        try {
          const r = compile(text, file, k % 2 ? { asOf: '2026-11-25' } : {});
          ds = r.diagnostics;
          if (!r.program && errorsOf(ds).length === 0) failures.push({ seed, applied, text, problem: 'no program and no error' });
          if (r.program && errorsOf(ds).length) failures.push({ seed, applied, text, problem: 'a program despite errors' });
        } catch (e) {
          failures.push({ seed, applied, text, problem: `threw ${e instanceof Error ? e.stack : String(e)}` });
          continue;
        }
        if (errorsOf(ds).length) sawErrors++;
        for (const d of ds) {
          const problem = problemWith(d, text, file);
          if (problem) {
            failures.push({ seed, applied, text, problem: `${d.code} ${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.message}: ${problem}` });
            break;
          }
        }
      }
      expect(failures, report('compile', failures)).toEqual([]);
      // The mutations do break programs (the fuzzer is not a no-op).
      expect(sawErrors).toBeGreaterThan(COMPILE_SAMPLES / 4);
    });
  });
});

describe('format on mutated programs', () => {
  programs.forEach((p, pi) => {
    it(`${p.name}: ${FORMAT_SAMPLES} mutations never throw; formatted text is a fixed point, parses, and means the same`, () => {
      const failures: { seed: number; applied: string[]; text: string; problem: string }[] = [];
      for (let k = 0; k < FORMAT_SAMPLES; k++) {
        const seed = BASE_SEED + 50_000 + pi * 100_000 + k;
        const { text, applied } = mutate(p.source, seed);
        try {
          const r = format(text, 'fuzz.loyalty');
          if (r.text === undefined) {
            if (r.diagnostics.length === 0) failures.push({ seed, applied, text, problem: 'no text and no diagnostics' });
            continue;
          }
          if (r.diagnostics.length) failures.push({ seed, applied, text, problem: 'text and diagnostics' });
          const again = format(r.text, 'fuzz.loyalty');
          if (again.text !== r.text) {
            failures.push({ seed, applied, text, problem: `not a fixed point:\n--- format once\n${r.text}\n--- format twice\n${again.text ?? JSON.stringify(again.diagnostics)}` });
            continue;
          }
          const before = compile(text, 'fuzz.loyalty');
          const after = compile(r.text, 'fuzz.loyalty');
          const syntax = after.diagnostics.filter((d) => /^E00[1-4]$/.test(d.code));
          if (syntax.length) failures.push({ seed, applied, text, problem: `formatted text has syntax errors: ${syntax.map((d) => d.message).join('; ')}\n${r.text}` });
          else if (!!before.program !== !!after.program) failures.push({ seed, applied, text, problem: `compiles before: ${!!before.program}, after: ${!!after.program}\n${r.text}` });
          else if (before.program && after.program) {
            const probes = probesFor(text, before.program, 100, seed);
            const a = JSON.stringify(canonical(before.program, probes));
            const b = JSON.stringify(canonical(after.program, probes));
            if (a !== b) failures.push({ seed, applied, text, problem: `meaning changed:\n${r.text}` });
          }
        } catch (e) {
          failures.push({ seed, applied, text, problem: `threw ${e instanceof Error ? e.stack : String(e)}` });
        }
      }
      expect(failures, report('format', failures)).toEqual([]);
    });
  });
});

describe('the fuzzer itself', () => {
  it('is deterministic: one seed, one mutant', () => {
    const src = programs[0]!.source;
    for (let s = 0; s < 20; s++) expect(mutate(src, s)).toEqual(mutate(src, s));
  });
  it('every mutation runs on an empty text and on a one-line text', () => {
    for (const [name, m] of MUTATIONS) {
      expect(() => m('', new Rand(1)), name).not.toThrow();
      expect(() => m('program "x" { currency USD }', new Rand(2)), name).not.toThrow();
    }
  });
});

describe('edge inputs', () => {
  const edge: [string, string][] = [
    ['empty', ''],
    ['only spaces', '   \n\n\t '],
    ['only a comment', '# nothing here'],
    ['a lone quote', '"'],
    ['a lone brace', '}'],
    ['the header only', 'program'],
    ['unclosed program', 'program "x" {'],
    ['deep parentheses', `program "x" { currency USD rule "r" { when ${'('.repeat(200)}first order${')'.repeat(200)} bonus 1 point } }`],
    ['unbalanced parentheses', `program "x" { currency USD rule "r" { when ${'('.repeat(50)}first order bonus 1 point } }`],
    ['a very long line', `program "x" { currency USD ${'rule "r" { bonus 1 point } '.repeat(300)}}`],
    ['NUL bytes', 'program "x\0" {\0 currency USD }'],
    ['a lone surrogate', 'program "x" { currency USD unit "\ud800" }'],
    ['CR only', 'program "x" {\r  currency USD\r  unit "a\r}\r'],
    ['a BOM', '\uFEFFprogram "x" { currency USD }'],
  ];
  it.each(edge)('%s', (_, src) => {
    const r = compile(src, 'edge.loyalty');
    for (const d of r.diagnostics) expect(problemWith(d, src, 'edge.loyalty'), JSON.stringify(d)).toBeNull();
    const f = format(src, 'edge.loyalty');
    if (f.text !== undefined) expect(format(f.text, 'edge.loyalty').text).toBe(f.text);
  });
});
