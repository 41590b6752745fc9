// The byte-level event decoder (jsonl.ts) must give, for every line it
// accepts, exactly the event that JSON.parse + parseEvent give; it may
// decline any line (the general path then reads it).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEvent, Replay } from '../../src/engine/index.ts';
import { FastLineParser } from '../../src/engine/jsonl.ts';
import { compileFile, conformanceCases, exampleCases, replayFile } from '../support.ts';

const cases = [...exampleCases(), ...conformanceCases()];

function general(program: Parameters<typeof parseEvent>[0], line: string) {
  try {
    const r = parseEvent(program, JSON.parse(line));
    return r.event ?? null;
  } catch {
    return null;
  }
}

describe('the byte-level decoder', () => {
  it.each(cases)('$name: agrees with JSON.parse + parseEvent on every line it accepts', (c) => {
    const program = compileFile(c.program);
    const fast = new FastLineParser(program.currencyExponent);
    let accepted = 0;
    for (const line of readFileSync(c.events, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const b = Buffer.from(line);
      const ev = fast.parse(b, 0, b.length);
      if (ev === null) continue;
      accepted++;
      expect(ev, line).toEqual(general(program, line));
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('agrees on random variations of real lines (whitespace, values, keys)', () => {
    const program = compileFile(exampleCases().find((c) => c.name === 'marketplace')!.program);
    const lines = readFileSync(exampleCases().find((c) => c.name === 'coffee-chain')!.events, 'utf8').split('\n').filter((l) => l.trim());
    const fast = new FastLineParser(program.currencyExponent);
    const edit = fc.oneof(
      fc.constant((s: string) => s.replace(/: /g, ':').replace(/,"/g, ', "')),
      fc.constant((s: string) => s.replace(/"price": ?"(\d+)\.(\d+)"/, '"price": "$1.$2000"')),
      fc.constant((s: string) => s.replace(/"price": ?"(\d+)\.(\d+)"/, '"price": "$1.$21"')),
      fc.constant((s: string) => s.replace(/"qty": ?\d+/, '"qty": 0')),
      fc.constant((s: string) => s.replace(/"member": ?"[^"]*"/, '"member": ""')),
      fc.constant((s: string) => s.replace(/Z"/, '+05:30"')),
      fc.constant((s: string) => s.replace(/:00Z"/, 'Z"')),
      fc.constant((s: string) => s.replace(/T(\d\d)/, 'T25')),
      fc.constant((s: string) => s.replace(/"type"/, '"type ')),
      fc.constant((s: string) => s.replace(/}$/, ', "extra": 1}')),
      fc.constant((s: string) => s.replace(/"(sku|member)": ?"/, '"$1": "é')),
      fc.constant((s: string) => s.replace(/"points": ?(\d+)/, '"points": "$1"')),
      fc.constant((s: string) => s.replace(/"lines": ?\[/, '"lines": [{"sku":"X","qty":1},')),
    );
    fc.assert(
      fc.property(fc.constantFrom(...lines), fc.array(edit, { maxLength: 3 }), (line, edits) => {
        const text = edits.reduce((s, f) => f(s), line);
        const b = Buffer.from(text);
        const ev = fast.parse(b, 0, b.length);
        if (ev !== null) expect(ev, text).toEqual(general(program, text));
      }),
      { numRuns: 2000 },
    );
  });

  it.each(cases)('$name: replaying from bytes gives the same result as from text', (c) => {
    const program = compileFile(c.program);
    const r = new Replay(program);
    const buf = readFileSync(c.events);
    let from = 0;
    let n = 0;
    while (from <= buf.length) {
      let to = buf.indexOf(10, from);
      if (to < 0) to = buf.length;
      if (to > from || to < buf.length) r.pushBytes(buf, from, to > from && buf[to - 1] === 13 ? to - 1 : to, ++n);
      from = to + 1;
    }
    expect(r.result()).toEqual(replayFile(program, c.events));
  });
});
