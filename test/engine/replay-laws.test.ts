// Laws of replay over every example and conformance case: the member state
// is a plain value (replaying with every state round-tripped through JSON
// after each event gives the same result), replay is deterministic, and
// every member's ledger sums to its balance.
import { describe, expect, it } from 'vitest';
import { compileFile, conformanceCases, exampleCases, replayFile } from '../support.ts';

const cases = [...exampleCases(), ...conformanceCases()];

describe.each(cases)('$name', (c) => {
  const program = compileFile(c.program);
  const inMemory = replayFile(program, c.events);

  it('gives the same result when states are serialized after every event', () => {
    expect(replayFile(program, c.events, { serializeStates: true })).toEqual(inMemory);
  });

  it('gives the same result when replayed again', () => {
    expect(replayFile(program, c.events)).toEqual(inMemory);
  });

  it('keeps every balance equal to the sum of the ledger', () => {
    for (const [id, m] of Object.entries(inMemory.members)) {
      expect(m.ledger.reduce((a, e) => a + e.points, 0), id).toBe(m.balance);
    }
  });

  it('writes ledger entries in time order per member, each with a rule where the kind needs one', () => {
    for (const m of Object.values(inMemory.members)) {
      for (let i = 1; i < m.ledger.length; i++) expect(m.ledger[i]!.at >= m.ledger[i - 1]!.at).toBe(true);
      for (const e of m.ledger) {
        // replay.md: a redeem_reward's `redeem` entry names its reward (`reward:NAME`); other non-earn entries have no rule.
        const ruleOk = e.kind === 'redeem' ? e.rule === null || e.rule.startsWith('reward:') : e.rule === null;
        expect(e.kind === 'earn' ? e.rule !== null && e.points > 0 : ruleOk && e.points < 0).toBe(true);
      }
    }
  });
});
