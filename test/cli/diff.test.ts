// `loyalty diff` as a user runs it: the JSON is diffPrograms's result, the
// report has its sections, bad input exits 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type Program } from '../../dsl/index.ts';
import { diffPrograms, ProgramDiff } from '../../src/engine/index.ts';
import { compileFile, exampleCases, ROOT } from '../support.ts';

function loyalty(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function temp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'loyalty-diff-')), name);
  writeFileSync(file, text);
  return file;
}

function compileText(text: string, file: string): Program {
  const r = compile(text, file);
  if (!r.program) throw new Error(`${file} does not compile`);
  return r.program;
}

const OLD = join(ROOT, 'examples/coffee-chain.loyalty');
const EVENTS = join(ROOT, 'examples/coffee-chain.events.jsonl');
const DRAFT_TEXT = readFileSync(OLD, 'utf8')
  .replace('tier Silver at 250 USD', 'tier Silver at 60 USD')
  .replace('limit 200 points per week', 'limit 50 points per week');
const DRAFT = temp('draft.loyalty', DRAFT_TEXT);
const events = readFileSync(EVENTS, 'utf8').split(/\r?\n/);

const slow = { timeout: 60_000 };

describe('loyalty diff', slow, () => {
  it('prints diffPrograms\'s result with --json', () => {
    const r = loyalty('diff', OLD, DRAFT, EVENTS, '--json');
    expect(r.status).toBe(0);
    const expected = diffPrograms(compileFile(OLD), compileText(DRAFT_TEXT, DRAFT), events);
    expect(expected.members.length).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('passes --from as 00:00 in the new program\'s timezone, or as an instant', () => {
    const from = Date.parse('2026-03-15T04:00:00Z'); // midnight in New York (EDT)
    const expected = diffPrograms(compileFile(OLD), compileText(DRAFT_TEXT, DRAFT), events, { from });
    expect(JSON.parse(loyalty('diff', OLD, DRAFT, EVENTS, '--from', '2026-03-15', '--json').stdout)).toEqual(expected);
    expect(JSON.parse(loyalty('diff', OLD, DRAFT, EVENTS, '--from', '2026-03-15T00:00:00-04:00', '--json').stdout)).toEqual(expected);
  });

  it('reads the same events as replay, malformed lines included', () => {
    const file = temp('e.jsonl', '{"type":"signup","at":"2026-01-01T00:00:00Z","member":"a"}\n\n{oops\n{"type":"order","at":"2026-01-03T15:00:00Z","member":"a","id":"o1","lines":[{"sku":"s","category":"pastry","qty":1,"price":"4.5"}]}\n');
    const r = JSON.parse(loyalty('diff', OLD, DRAFT, file, '--json').stdout);
    expect(r).toEqual(diffPrograms(compileFile(OLD), compileText(DRAFT_TEXT, DRAFT), readFileSync(file, 'utf8').split('\n')));
    expect(r.errors.before).toEqual([{ line: 3, message: expect.stringContaining('not valid JSON') }]);
  });

  it('gives the same from a file (a worker thread a side) as from standard input (one thread)', () => {
    const stdin = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', input: readFileSync(EVENTS, 'utf8') });
    for (const extra of [[], ['--from', '2026-03-15']]) {
      const file = loyalty('diff', OLD, DRAFT, EVENTS, '--json', ...extra);
      const piped = stdin(['diff', OLD, DRAFT, '-', '--json', ...extra]);
      expect(file.status).toBe(0);
      expect(piped.status).toBe(0);
      expect(JSON.parse(file.stdout).members.length).toBeGreaterThan(0);
      expect(file.stdout).toBe(piped.stdout);
    }
  });

  it('ProgramDiff.pushTexts (batches through the byte decoder) gives what pushLine gives', () => {
    const lines = [...events.filter((l) => l.trim() !== ''), '{oops', '{"type":"order","at":"2027-01-03T15:00:00Z","member":"nobody","id":"z","lines":[{"sku":"s","category":"pastry","qty":1,"price":"4.5"}],"extra":{"é":[1]}}'];
    const before = compileFile(OLD);
    const after = compileText(DRAFT_TEXT, DRAFT);
    const batched = new ProgramDiff(before, after);
    for (let i = 0; i < lines.length; i += 7) batched.pushTexts(lines.slice(i, i + 7), i + 1);
    const one = new ProgramDiff(before, after);
    lines.forEach((l, i) => one.pushLine(l, i + 1));
    const r = batched.result();
    expect(r.errors.before.map((e) => e.line)).toContain(lines.length - 1);
    expect(r).toEqual(one.result());
  });

  it('reports totals, tier movements, rules and the members that change most', () => {
    const r = loyalty('diff', OLD, DRAFT, EVENTS);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const head of ['totals', 'tier before \\ after', 'earned by rule (Beans)', 'members that change most']) expect(r.stdout).toContain(head);
    expect(r.stdout).toMatch(/^earned \(Beans\) +12637 +\d+ +[+-]?\d+$/m);
    expect(r.stdout).toMatch(/^outstanding value +35\.01 USD/m);
  });

  it('says so when nothing changes', () => {
    const c = exampleCases()[0]!;
    const r = loyalty('diff', c.program, c.program, c.events);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no member ends differently');
  });

  it('exits 2 with diagnostics for a bad program, and for unreadable or mismatched inputs', () => {
    const bad = temp('bad.loyalty', 'program "Bad" {\n  currency USD\n  timezone "America/New_Yrok"\n}\n');
    const r = loyalty('diff', OLD, bad, EVENTS);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:3:12: error E019 unknown timezone "America/New_Yrok"`);
    expect(r.stderr).toContain(`${bad} does not compile`);
    expect(loyalty('diff', OLD, DRAFT, join(ROOT, 'missing.jsonl')).status).toBe(2);
    expect(loyalty('diff', OLD, join(ROOT, 'examples/grocer.loyalty'), EVENTS).status).toBe(2);
    expect(loyalty('diff', OLD, DRAFT, EVENTS, '--from', '2026-02-30').status).toBe(2);
  });

  it('is in the help', () => {
    expect(loyalty('--help').stdout).toContain('diff [options] <old> <new> <events>');
  });
});
