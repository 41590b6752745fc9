// The `loyalty` command as a user runs it: exit statuses, output on stdout
// and stderr, no colour when piped.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateToString } from '../../bench/generate.ts';
import { compileFile, conformanceNextCases, exampleCases, replayFile, ROOT } from '../support.ts';

function loyalty(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function temp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loyalty-cli-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const BAD = `program "Bad" {
  currency USD
  timezone "America/New_Yrok"
  rule "Double" {
    category "pastry"
    multipler 2x
  }
  rule "Regulars" {
    when member.tier >= Silvr
    bonus 10 points
  }
  tiers {
    tier Green at 0
    tier Silver at 300 EUR
  }
}
`;

// Each test starts the command (several times): allow for a busy machine.
const slow = { timeout: 60_000 };

describe('loyalty check', slow, () => {
  it('prints nothing and exits 0 on every example', () => {
    const r = loyalty('check', ...exampleCases().map((c) => c.program));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('reports every mistake with its position, the source line, a caret and a hint', () => {
    const file = temp('bad.loyalty', BAD);
    const r = loyalty('check', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3:12: error E019 unknown timezone "America/New_Yrok"`);
    expect(r.stderr).toContain(`${file}:6:5: error E004 unknown keyword "multipler"`);
    expect(r.stderr).toContain('hint: did you mean "multiplier"?');
    expect(r.stderr).toContain(`${file}:9:25: error E050 unknown tier "Silvr"`);
    expect(r.stderr).toContain('hint: did you mean "Silver"?');
    expect(r.stderr).toContain(`${file}:14:20: error E011`);
    // The caret sits under the misspelt keyword.
    expect(r.stderr).toContain('6 |     multipler 2x\n  |     ^^^^^^^^^');
    expect(r.stderr).not.toContain('\x1b[');
    expect(r.stderr).toMatch(/\d+ errors, \d+ warnings?\n$/);
  });

  it('prints diagnostics as JSON with --json', () => {
    const r = loyalty('check', '--json', temp('bad.loyalty', BAD));
    expect(r.status).toBe(1);
    const ds = JSON.parse(r.stdout) as { code: string; line: number; column: number; severity: string }[];
    expect(ds.map((d) => d.code)).toEqual(expect.arrayContaining(['E019', 'E004', 'E050', 'E011']));
    expect(ds.every((d) => d.line > 0 && d.column > 0)).toBe(true);
  });

  it('warns about a rule that ended before --as-of, exit 0', () => {
    const file = temp('w.loyalty', 'program "W" {\n  currency USD\n  base 1 point per 1 USD\n  rule "Xmas" { during 2025-12-01 to 2025-12-24  bonus 5 points }\n}\n');
    const r = loyalty('check', '--as-of', '2026-01-01', file);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('warning W001');
    expect(loyalty('check', '--as-of', '2025-06-01', file).stderr).toBe('');
  });

  it('exits 2 on a file it cannot read', () => {
    const r = loyalty('check', join(ROOT, 'no-such.loyalty'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no such file');
  });
});

describe('loyalty fmt', slow, () => {
  const messy = 'program "M" {\n currency USD\n  base 1 points per 1USD\n\n\n  rule "R"{category "a","b" bonus 5 point limit 1 times per day}   # keep me\n}\n';
  it('prints the canonical layout, keeping comments', () => {
    const r = loyalty('fmt', temp('m.loyalty', messy));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('program "M" {\n  currency USD\n  base 1 point per 1 USD\n\n  rule "R" {\n    category "a", "b"\n    bonus 5 points\n    limit once per day\n  }  # keep me\n}\n');
  });
  it('--check exits 1 on an unformatted file and 0 on a formatted one; --write rewrites', () => {
    const file = temp('m.loyalty', messy);
    expect(loyalty('fmt', '--check', file).status).toBe(1);
    expect(loyalty('fmt', '--write', file).status).toBe(0);
    expect(loyalty('fmt', '--check', file).status).toBe(0);
    expect(loyalty('fmt', '--check', ...exampleCases().map((c) => c.program)).status).toBe(0);
  });
  it('refuses a program with a syntax error (exit 2)', () => {
    const r = loyalty('fmt', temp('s.loyalty', 'program "S" {\n  currency USD\n  rule "x" {\n'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error E001');
  });
});

describe('loyalty replay', slow, () => {
  for (const c of [...exampleCases(), ...conformanceNextCases()]) {
    it(`${c.name}: --expect exits 0`, () => {
      const r = loyalty('replay', c.program, c.events, '--expect', c.expected);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('matches');
    });
  }

  it('--json prints exactly the replay result', () => {
    const c = exampleCases().find((x) => x.name === 'coffee-chain')!;
    const r = loyalty('replay', c.program, c.events, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(replayFile(compileFile(c.program), c.events));
  });

  it('--expect prints a readable difference and exits 1', () => {
    const c = exampleCases().find((x) => x.name === 'grocer')!;
    const expected = JSON.parse(readFileSync(c.expected, 'utf8'));
    const id = Object.keys(expected.members)[0]!;
    expected.members[id].balance += 7;
    expected.members[id].ledger[0].points += 7;
    expected.errors.push({ line: 1, message: 'x' });
    const r = loyalty('replay', c.program, c.events, '--expect', temp('e.json', JSON.stringify(expected)));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`members["${id}"].balance`);
    expect(r.stdout).toContain(`members["${id}"].ledger[0]`);
    expect(r.stdout).toContain('errors[line 1]');
    expect(r.stdout).toMatch(/expected .*\n\s+actual/);
  });

  it('--expect compares pending and shows it; the summary has a pending column only with pending', () => {
    const c = exampleCases().find((x) => x.name === 'fashion-retailer')!;
    const expected = JSON.parse(readFileSync(c.expected, 'utf8'));
    expected.members.tom.pending = 5;
    const r = loyalty('replay', c.program, c.events, '--expect', temp('e.json', JSON.stringify(expected)));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('members["tom"].pending');
    expect(loyalty('replay', c.program, c.events).stdout).toMatch(/member\s+balance \(points\)\s+pending\s+tier/);
    const other = exampleCases().find((x) => x.name === 'coffee-chain')!;
    expect(loyalty('replay', other.program, other.events).stdout).not.toContain('pending');
  });

  it('--explain prints the program line under each entry', () => {
    const c = exampleCases().find((x) => x.name === 'coffee-chain')!;
    const r = loyalty('replay', c.program, c.events, '--explain');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/earn\s+\+\d+\s+base.*\n\s+.*coffee-chain\.loyalty:\d+\s+base 10 points per 1 USD/);
    expect(r.stdout).toContain('on signup { bonus 100 points }');
  });

  it('exits 2 when the program does not compile or an input cannot be read', () => {
    const c = exampleCases()[0]!;
    expect(loyalty('replay', temp('bad.loyalty', BAD), c.events).status).toBe(2);
    expect(loyalty('replay', c.program, join(ROOT, 'missing.jsonl')).status).toBe(2);
    expect(loyalty('replay', c.program, c.events, '--expect', temp('x.json', '{ not json')).status).toBe(2);
  });

  it('reports a malformed line by its number and goes on', () => {
    const file = temp('e.jsonl', '{"type":"signup","at":"2026-01-01T00:00:00Z","member":"a"}\n\n{oops\n{"type":"event","at":"2026-01-02T00:00:00Z","member":"a","name":"x"}\n');
    const r = loyalty('replay', join(ROOT, 'examples/coffee-chain.loyalty'), file, '--json');
    const result = JSON.parse(r.stdout);
    expect(result.errors).toEqual([{ line: 3, message: expect.stringContaining('not valid JSON') }]);
    expect(result.members.a.balance).toBe(100);
  });

  it('is reachable as npm run loyalty', () => {
    const r = spawnSync('npm', ['run', '-s', 'loyalty', '--', 'check', 'examples/grocer.loyalty'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
  });
});

describe('output to a pipe closed early', slow, () => {
  it('`loyalty replay --explain | head` stops quietly, without an EPIPE trace', () => {
    // Far more than a pipe's buffer, so the writes go on after head exits.
    const events = temp('big.jsonl', generateToString({ events: 3_000, members: 60, seed: 3 }));
    const program = join(ROOT, 'examples/coffee-chain.loyalty');
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" bin/loyalty.mjs replay "${program}" "${events}" --explain | head -c 100 >/dev/null`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
