// Every conformance case (../shared/conformance, or $LOYALTY_CONFORMANCE_DIR)
// and every example replays to its expected result.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareResults } from '../../src/engine/compare.ts';
import { compileFile, conformanceCases, conformanceDir, conformanceNextCases, conformanceNextDir, exampleCases, NEXT_CASES_BUILT, replayFile, type Case } from '../support.ts';

function check(c: Case) {
  const result = replayFile(compileFile(c.program), c.events);
  const expected = JSON.parse(readFileSync(c.expected, 'utf8'));
  const diffs = compareResults(expected, result);
  expect(diffs, diffs.map((d) => `${d.path}: expected ${JSON.stringify(d.expected)}, actual ${JSON.stringify(d.actual)}`).join('\n')).toEqual([]);
  // Also the error messages' lines, and that every member is in the result.
  expect(Object.keys(result.members).sort()).toEqual(Object.keys(expected.members).sort());
}

describe('conformance', () => {
  const dir = conformanceDir();
  // In CI the directory must be there: a missing checkout must not pass silently.
  it.runIf(process.env.CI)('has a conformance directory in CI', () => expect(dir).toBeDefined());
  const cases = conformanceCases();
  if (dir) it('finds the cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) it(c.name, () => check(c));
});

describe('conformance-next (the cases of what is built)', () => {
  const cases = conformanceNextCases();
  if (conformanceNextDir()) it('finds every built case', () => expect(cases.map((c) => c.name).sort()).toEqual([...NEXT_CASES_BUILT].sort()));
  for (const c of cases) it(c.name, () => check(c));
});

describe('examples', () => {
  const cases = exampleCases();
  it('has at least five examples, each with events and an expected result', () => expect(cases.length).toBeGreaterThanOrEqual(5));
  for (const c of cases) it(c.name, () => check(c));
});
