// The formatter's laws (dsl/format.ts): formatting is idempotent, a
// formatted program means the same as the original, comments are never lost
// and keep their order, and the layout is canonical. Checked on every example
// and conformance program, on random re-layouts of them, and on random valid
// programs (gen.ts). Seeds are fixed so that runs repeat; set FC_SEED to
// explore others.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { compile, type Diagnostic, type Program } from '../../dsl/index.ts';
import { format } from '../../dsl/format.ts';
import { tokenize } from '../../dsl/lexer.ts';
import { laidOutArb, layout, plainLayout, plainSepArb, programArb, sepArb, type Sep } from './gen.ts';
import { allPrograms, canonical, errorsOf, probesFor } from './helpers.ts';

const SEED = process.env['FC_SEED'] ? Number(process.env['FC_SEED']) : 20261125;
const RUNS = Number(process.env['FC_RUNS'] ?? 100);
// Each property runs RUNS programs; on a slow machine that takes seconds.
vi.setConfig({ testTimeout: 60_000 });
const params = (numRuns = RUNS, seed = SEED) => ({ numRuns, seed, endOnFailure: false });

function fmt(src: string): string {
  const r = format(src, 'in.loyalty');
  if (r.text === undefined) throw new Error(`format refused a valid program:\n${src}\n${JSON.stringify(r.diagnostics, null, 1)}`);
  return r.text;
}

function compileOk(src: string): { program: Program; diagnostics: Diagnostic[] } {
  const r = compile(src, 'in.loyalty');
  const errs = errorsOf(r.diagnostics);
  if (errs.length || !r.program) throw new Error(`does not compile:\n${src}\n${errs.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`);
  return { program: r.program, diagnostics: r.diagnostics };
}

/** format(format(x)) === format(x) */
function checkIdempotent(src: string): string {
  const once = fmt(src);
  const twice = fmt(once);
  expect(twice, `not idempotent.\n--- input\n${src}\n--- format once\n${once}`).toBe(once);
  return once;
}

/** The formatted program compiles to the same program, with the same warnings. */
function checkSameProgram(src: string, formatted: string): void {
  const a = compileOk(src);
  const b = compileOk(formatted);
  const probes = probesFor(src, a.program);
  expect(canonical(b.program, probes), `meaning changed.\n--- input\n${src}\n--- formatted\n${formatted}`).toEqual(canonical(a.program, probes));
  const warn = (ds: Diagnostic[]) => ds.map((d) => `${d.code} ${d.message.replace(/line \d+/g, 'line N')}`).sort();
  expect(warn(b.diagnostics), `warnings changed.\n--- formatted\n${formatted}`).toEqual(warn(a.diagnostics));
}

/** Every comment of the input is in the output, in the same order. */
function checkComments(comments: string[], out: string, src: string): void {
  let pos = 0;
  for (const c of comments) {
    const t = c.trimEnd();
    const i = out.indexOf(t, pos);
    expect(i, `comment ${JSON.stringify(t)} lost or out of order.\n--- input\n${src}\n--- formatted\n${out}`).toBeGreaterThanOrEqual(0);
    pos = i + t.length;
  }
}

function commentsOf(src: string): string[] {
  return tokenize(src, 'x').comments.map((c) => c.image);
}

/** The canonical layout: 2-space indent, no tabs or CRs, no trailing spaces, no two blank lines in a row, one final newline. */
function checkLayout(out: string): void {
  expect(out.endsWith('\n') && !out.endsWith('\n\n'), 'ends with exactly one newline').toBe(true);
  expect(out).not.toMatch(/\r/);
  const lines = out.slice(0, -1).split('\n');
  let depth = 0;
  let blank = false;
  for (const line of lines) {
    expect(line, `trailing space in ${JSON.stringify(line)}`).not.toMatch(/[ \t]$/);
    if (line === '') {
      expect(blank, 'two blank lines in a row').toBe(false);
      blank = true;
      continue;
    }
    blank = false;
    const indent = /^ */.exec(line)![0].length;
    expect(line[indent], `tab indentation in ${JSON.stringify(line)}`).not.toBe('\t');
    expect(indent % 2, `odd indentation in ${JSON.stringify(line)}`).toBe(0);
    // Lines that are not comments sit at their block depth.
    const code = line.trimStart();
    if (!code.startsWith('#') && !code.startsWith('//')) {
      const closes = code.startsWith('}') ? 1 : 0;
      expect(indent, `indentation of ${JSON.stringify(line)}`).toBe((depth - closes) * 2);
    }
    // Braces that open or close blocks on this line (strings and comments removed).
    const bare = code.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/(#|\/\/).*$/, '');
    depth += (bare.match(/\{/g) ?? []).length - (bare.match(/\}/g) ?? []).length;
  }
  expect(depth).toBe(0);
}

// ---------------------------------------------------------------------------

describe('every example and conformance program', () => {
  for (const f of allPrograms()) {
    describe(f.name, () => {
      it('formats idempotently', () => {
        checkIdempotent(f.source);
      });
      it('formats to the same program', () => {
        checkSameProgram(f.source, fmt(f.source));
      });
      it('keeps every comment, in order', () => {
        const comments = commentsOf(f.source);
        checkComments(comments, fmt(f.source), f.source);
      });
      it('comes out in the canonical layout', () => {
        checkLayout(fmt(f.source));
      });
    });
  }

  it('the examples are already in the canonical layout (fmt --check clean)', () => {
    for (const f of allPrograms().filter((x) => x.name.startsWith('examples/'))) expect(fmt(f.source), f.name).toBe(f.source);
  });

  it('re-laid out at random (tokens kept, spacing and comments random): the laws hold', () => {
    const files = allPrograms().map((f) => ({ name: f.name, tokens: tokenize(f.source, f.name).tokens.map((t) => t.image) }));
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.array(sepArb, { minLength: 50, maxLength: 400 }), (file, seps) => {
        const { text, comments } = layout(file.tokens, seps);
        const once = checkIdempotent(text);
        checkSameProgram(text, once);
        checkComments(comments, once, text);
        checkLayout(once);
      }),
      params(Math.max(40, Math.floor(RUNS / 2))),
    );
  });

  it('without comments, the formatted text does not depend on the original layout', () => {
    const files = allPrograms().map((f) => ({ name: f.name, tokens: tokenize(f.source, f.name).tokens.map((t) => t.image) }));
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.array(plainSepArb, { minLength: 50, maxLength: 400 }), (file, seps) => {
        const a = fmt(layout(file.tokens, seps).text);
        const b = fmt(plainLayout(file.tokens));
        expect(a, `layout leaked into the output of ${file.name}`).toBe(b);
      }),
      params(Math.max(40, Math.floor(RUNS / 2))),
    );
  });
});

// ---------------------------------------------------------------------------

describe('random valid programs (gen.ts)', () => {
  it('the generator makes valid programs (self-check)', () => {
    fc.assert(
      fc.property(laidOutArb(), ({ laid }) => {
        compileOk(laid.text);
      }),
      params(RUNS * 2),
    );
  });

  it('the generator covers the language (self-check)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(laidOutArb(), ({ program }) => {
        for (const t of program.tokens) seen.add(t);
      }),
      params(RUNS * 2),
    );
    for (const kw of ['rule', 'on', 'signup', 'birthday', 'event', 'tiers', 'tier', 'qualify', 'keep', 'club', 'fee', 'discount', 'everything', 'referral', 'redeem', 'expire', 'inactivity', 'when', 'and', 'or', 'not', '(', 'first', 'during', 'days', 'hours', 'once', 'limit', 'multiplier', 'extra', 'bonus', 'item', 'exclude', 'timezone', 'unit', 'base', 'point', 'points', 'day', 'days', 'calendar', 'lifetime', 'reward', 'cost', 'value', 'challenge', 'orders', 'spend'])
      expect(seen, kw).toContain(kw);
  });

  it('formatting is idempotent', () => {
    fc.assert(
      fc.property(laidOutArb(), ({ laid }) => {
        checkIdempotent(laid.text);
      }),
      params(),
    );
  });

  it('formatting is idempotent on programs without comments', () => {
    fc.assert(
      fc.property(laidOutArb(plainSepArb), ({ laid }) => {
        checkIdempotent(laid.text);
      }),
      params(),
    );
  });

  it('the formatted program compiles to the same program', () => {
    fc.assert(
      fc.property(laidOutArb(), ({ laid }) => {
        checkSameProgram(laid.text, fmt(laid.text));
      }),
      params(),
    );
  });

  it('comments are never lost and keep their order', () => {
    fc.assert(
      fc.property(laidOutArb(), ({ laid }) => {
        checkComments(laid.comments, fmt(laid.text), laid.text);
      }),
      params(),
    );
  });

  it('without comments, the formatted text does not depend on the original layout', () => {
    fc.assert(
      fc.property(programArb, fc.array(plainSepArb, { minLength: 20, maxLength: 200 }), (program, seps: Sep[]) => {
        const a = fmt(layout(program.tokens, seps).text);
        const b = fmt(plainLayout(program.tokens));
        expect(a, `layout leaked into the output`).toBe(b);
      }),
      params(),
    );
  });

  it('the output is in the canonical layout', () => {
    fc.assert(
      fc.property(laidOutArb(), ({ laid }) => {
        checkLayout(fmt(laid.text));
      }),
      params(),
    );
  });
});

// ---------------------------------------------------------------------------

describe('programs that do not parse', () => {
  const bad: [string, string, string][] = [
    ['a missing brace', 'program "T" {\n  currency USD\n  rule "A" { bonus 1 point\n}\n', 'E001'],
    ['a misspelt keyword', 'program "T" {\n  currency USD\n  rule "A" {\n    multipler 2x\n  }\n}\n', 'E004'],
    ['a misspelt setting', 'program "T" {\n  currncy USD\n}\n', 'E004'],
    ['a misspelt keyword followed by values', 'program "T" {\n  currency USD\n  rule "A" { bonsu 1 point }\n}\n', 'E001'],
    ['an unexpected character', 'program "T" {\n  currency USD ~\n}\n', 'E002'],
    ['an unterminated string', 'program "T" {\n  currency USD\n  unit "Beans\n}\n', 'E003'],
    ['trailing garbage', 'program "T" {\n  currency USD\n}\n}\n', 'E001'],
    ['an empty file', '', 'E001'],
  ];
  it.each(bad)('are not formatted: %s', (_, src, code) => {
    const r = format(src, 'bad.loyalty');
    expect(r.text).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics.map((d) => d.code)).toContain(code);
    expect(r.diagnostics.every((d) => d.file === 'bad.loyalty')).toBe(true);
  });

  it.each(bad)('format reports the syntax errors compile reports, hints included: %s', (_, src) => {
    const key = (ds: Diagnostic[]) => ds.filter((d) => /^E00[1-4]$/.test(d.code)).map((d) => `${d.line}:${d.column} ${d.code} ${d.message} ${d.hint ?? ''}`);
    expect(key(format(src, 'bad.loyalty').diagnostics)).toEqual(key(compile(src, 'bad.loyalty').diagnostics));
  });

  it('a program that parses but does not check is still formatted', () => {
    const r = format('program "T" {\n  rule "A" { multiplier 0.5x }\n}\n', 'x.loyalty');
    expect(r.diagnostics).toEqual([]);
    expect(r.text).toBe('program "T" {\n  rule "A" {\n    multiplier 0.5x\n  }\n}\n');
  });
});

// ---------------------------------------------------------------------------

describe('expected output', () => {
  it('settings together, one blank line between sections, one-line on/expire/tier blocks', () => {
    const src = [
      '# header comment',
      'program   "Bean"{currency USD',
      'timezone "America/New_York" base 1 points per 1USD',
      '  rule "A"{category "pastry","beans" multiplier 2x',
      '  once per day}',
      'on signup{bonus 100 point}',
      'on birthday { bonus 1 points }',
      'expire{after 12 month}',
      'tiers{ qualify spend over 1 years tier Green at 0 tier Silver at 300 USD{multiplier 1.25x perk "x"} keep 30 day}',
      '    club "C" {fee 9.99USD per month discount 10% on category "beans" bonus 1 points on join}',
      'redeem{rate 100 points=1 USD max 50% of order}',
      '}',
    ].join('\n');
    const expected = [
      '# header comment',
      'program "Bean" {',
      '  currency USD',
      '  timezone "America/New_York"',
      '  base 1 point per 1 USD',
      '',
      '  rule "A" {',
      '    category "pastry", "beans"',
      '    multiplier 2x',
      '    limit once per day',
      '  }',
      '',
      '  on signup { bonus 100 points }',
      '  on birthday { bonus 1 point }',
      '',
      '  expire { after 12 months }',
      '',
      '  tiers {',
      '    qualify spend over 1 year',
      '    tier Green at 0',
      '    tier Silver at 300 USD { multiplier 1.25x  perk "x" }',
      '    keep 30 days',
      '  }',
      '',
      '  club "C" {',
      '    fee 9.99 USD per month',
      '    discount 10% on category "beans"',
      '    bonus 1 point on join',
      '  }',
      '',
      '  redeem {',
      '    rate 100 points = 1 USD',
      '    max 50% of order',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
  });

  it('tier and club discounts, on category and on everything', () => {
    const src = [
      'program "D" { currency USD',
      'tiers { tier Bronze at 0 {discount 5%   on everything} tier Gold at 300 USD { discount 15% on category "coffee","tea" multiplier 2x } }',
      'club "C" { discount 12% on everything discount 8% on category "coffee" }',
      '}',
    ].join('\n');
    const expected = [
      'program "D" {',
      '  currency USD',
      '',
      '  tiers {',
      '    tier Bronze at 0 { discount 5% on everything }',
      '    tier Gold at 300 USD { discount 15% on category "coffee", "tea"  multiplier 2x }',
      '  }',
      '',
      '  club "C" {',
      '    discount 12% on everything',
      '    discount 8% on category "coffee"',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
  });

  it('rewards: one statement a line, limits in their canonical form', () => {
    const src = [
      'program "R" { currency USD tiers { tier Member at 0 tier Silver at 50 USD } club "Plus" { fee 5 USD per month }',
      'reward "Free latte" { cost 450 points when member.tier>=Silver limit 1 times per month value 4.50USD }',
      'reward "Mug" {cost 1 points   when member.club "Plus" and not member.tier == Member  once per member}',
      '}',
    ].join('\n');
    const expected = [
      'program "R" {',
      '  currency USD',
      '',
      '  tiers {',
      '    tier Member at 0',
      '    tier Silver at 50 USD',
      '  }',
      '',
      '  club "Plus" {',
      '    fee 5 USD per month',
      '  }',
      '',
      '  reward "Free latte" {',
      '    cost 450 points',
      '    when member.tier >= Silver',
      '    limit once per month',
      '    value 4.50 USD',
      '  }',
      '',
      '  reward "Mug" {',
      '    cost 1 point',
      '    when member.club "Plus" and not member.tier == Member',
      '    limit once per member',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
  });

  it('challenges: one statement a line in the order written, money and points in their canonical form', () => {
    const src = [
      'program "C" { currency USD',
      'challenge "Three visits a week" { orders 3 per week category "coffee","tea" bonus 100 points }',
      'challenge "Big month" {spend 50USD per month   bonus 1 points}',
      'challenge "First pastry" { exclude sku "SCONE-X"   orders 1 per member category "pastry" bonus 50 point }',
      '}',
    ].join('\n');
    const expected = [
      'program "C" {',
      '  currency USD',
      '',
      '  challenge "Three visits a week" {',
      '    orders 3 per week',
      '    category "coffee", "tea"',
      '    bonus 100 points',
      '  }',
      '',
      '  challenge "Big month" {',
      '    spend 50 USD per month',
      '    bonus 1 point',
      '  }',
      '',
      '  challenge "First pastry" {',
      '    exclude sku "SCONE-X"',
      '    orders 1 per member',
      '    category "pastry"',
      '    bonus 50 points',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
  });

  it('trailing comments of neighbouring lines are aligned', () => {
    const src = [
      'program "X" {',
      '  currency USD # the money',
      '  timezone "UTC" # zone',
      '  rule "R" {',
      '    bonus 5 points # flat',
      '    limit 10 points per day # cap',
      '    # about the next one',
      '    when first order # welcome',
      '  }',
      '}',
    ].join('\n');
    const expected = [
      'program "X" {',
      '  currency USD    # the money',
      '  timezone "UTC"  # zone',
      '',
      '  rule "R" {',
      '    bonus 5 points           # flat',
      '    limit 10 points per day  # cap',
      '    # about the next one',
      '    when first order  # welcome',
      '  }',
      '}',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
  });

  it('comments before, after the braces, inside blocks and after the program', () => {
    const src = [
      '// top',
      'program "X" { # about X',
      '  currency EUR',
      '  club "C" {',
      '    # leading',
      '    fee 5 EUR per month',
      '    perk "p" // perk',
      '    # dangling',
      '  } # after club',
      '  referral { referrer 10 points within 1 days limit 3 per year min order 5EUR }',
      '}',
      '// the end',
    ].join('\n');
    const expected = [
      '// top',
      'program "X" {  # about X',
      '  currency EUR',
      '',
      '  club "C" {',
      '    # leading',
      '    fee 5 EUR per month',
      '    perk "p"  // perk',
      '    # dangling',
      '  }  # after club',
      '',
      '  referral {',
      '    referrer 10 points',
      '    within 1 day',
      '    limit 3 per year',
      '    min order 5 EUR',
      '  }',
      '}',
      '',
      '// the end',
      '',
    ].join('\n');
    expect(fmt(src)).toBe(expected);
  });

  it('when expressions are printed with single spaces and their parentheses', () => {
    const src = 'program "X" {\n  currency USD\n  tiers { tier A at 0  tier B at 5 USD }\n  rule "R" {\n    when not(order.total>=20USD)and(member.tier==B or order.channel!="app")\n    bonus 1 point\n  }\n}\n';
    expect(fmt(src)).toContain('    when not (order.total >= 20 USD) and (member.tier == B or order.channel != "app")\n');
  });

  it('a trailing comment stays with the statement it follows', () => {
    const src = 'program "X" {\n  currency USD\n  rule "A" {\n    category "pastry" multiplier 2x # double\n  }\n}\n';
    const out = fmt(src);
    expect(out).toContain('    multiplier 2x  # double\n');
    expect(out).toContain('    category "pastry"\n');
  });

  it('on sections written over several lines come out like one-line ones (no blank line between them)', () => {
    const multi = 'program "X" {\n  currency USD\n  on signup {\n    bonus 1 point\n  }\n  on birthday {\n    bonus 2 points\n  }\n}\n';
    const single = 'program "X" {\n  currency USD\n  on signup { bonus 1 point }\n  on birthday { bonus 2 points }\n}\n';
    expect(fmt(multi)).toBe(fmt(single));
    expect(fmt(fmt(multi))).toBe(fmt(multi));
  });

  it('a comment after the closing brace of a one-line block stays after it, and formatting it again changes nothing', () => {
    const src = 'program "X" {\n  currency USD\n  on signup {\n    bonus 1 point\n  }  # c\n  expire { after 1 day }  # d\n}\n';
    const once = fmt(src);
    expect(fmt(once)).toBe(once);
    expect(once).toContain('  on signup { bonus 1 point }  # c\n');
    expect(once).toContain('  expire { after 1 day }  # d\n');
  });
});
