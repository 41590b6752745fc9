// The notification derivation (src/engine/notifications.ts), shared by the
// server's outbox and `loyalty replay --notifications`. Entries the engine of
// this branch does not write yet (challenge bonuses, vesting pending points)
// are given by hand: the derivation reads only their kind, rule and ref.
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { notificationsFor, NotificationStream, remindersFor } from '../../src/engine/notifications.ts';
import { parseInstant } from '../../src/engine/time.ts';
import type { EngineEvent, LedgerEntry } from '../../src/engine/types.ts';
import { compileFile } from '../support.ts';

const program = compileFile(fileURLToPath(new URL('../cli/fixtures/notifications/program.loyalty', import.meta.url)));
const at = (s: string): number => {
  const r = parseInstant(s);
  if (!r.ok) throw new Error(`not an instant: ${s}`);
  return r.ms;
};

function entry(e: Partial<LedgerEntry> & Pick<LedgerEntry, 'kind' | 'points'>): LedgerEntry {
  return { member: 'ann', at: at('2026-01-10T10:00:00Z'), rule: null, ref: null, line: 7, version: 'v', ...e };
}

describe('notificationsFor', () => {
  const stream = new NotificationStream(program);
  stream.push({ type: 'signup', at: at('2026-01-01T10:00:00Z'), member: 'ann' });
  const state = () => (stream as unknown as { members: Map<string, import('../../src/engine/types.ts').MemberState> }).members.get('ann')!;

  test('a challenge bonus is challenge.completed, apart from the points.earned of its order', () => {
    const order: EngineEvent = { type: 'order', at: at('2026-01-10T10:00:00Z'), member: 'ann', id: 'O-9', lines: [] };
    const out = notificationsFor(program, {
      event: order,
      at: order.at,
      before: new Map(),
      changed: [state()],
      entries: [
        entry({ kind: 'earn', points: 20, rule: 'base', ref: 'O-9' }),
        entry({ kind: 'earn', points: 100, rule: 'challenge:Three visits a week', ref: 'O-9', line: 30 }),
        entry({ kind: 'earn', points: 5, rule: 'Weekend', ref: 'O-9', line: 12 }),
      ],
    });
    expect(out.map((n) => n.type)).toEqual(['points.earned', 'challenge.completed']);
    expect(out[0]!.payload).toMatchObject({ points: 25, order: 'O-9', rules: ['base', 'Weekend'] });
    expect(out[1]!.payload).toEqual({ points: 100, balance: 100, challenge: 'Three visits a week', order: 'O-9', line: 30 });
  });

  test('earn entries of an earlier order written by a time step (or before another event) are points.vested', () => {
    const vest = [entry({ kind: 'earn', points: 40, rule: 'base', ref: 'O-1' }), entry({ kind: 'earn', points: 10, rule: 'Weekend', ref: 'O-1' })];
    const tick = notificationsFor(program, { event: null, at: at('2026-01-10T10:00:00Z'), before: new Map(), changed: [state()], entries: vest });
    expect(tick.map((n) => n.type)).toEqual(['points.vested']);
    expect(tick[0]!.payload).toMatchObject({ points: 50, order: 'O-1', rules: ['base', 'Weekend'] });
    const later: EngineEvent = { type: 'order', at: at('2026-01-11T10:00:00Z'), member: 'ann', id: 'O-2', lines: [] };
    const own = entry({ kind: 'earn', points: 7, rule: 'base', ref: 'O-2', at: later.at });
    const mixed = notificationsFor(program, { event: later, at: later.at, before: new Map(), changed: [state()], entries: [...vest, own] });
    expect(mixed.map((n) => [n.type, n.payload.order])).toEqual([
      ['points.vested', 'O-1'],
      ['points.earned', 'O-2'],
    ]);
  });

  test('remindersFor: only what falls due after the step and within N days, one per lead time', () => {
    const s = structuredClone(state());
    // The signup bonus is one lot expiring 60 days after signup: 2026-03-02T10:00Z.
    expect(remindersFor(program, s, at('2026-02-20T10:00:00Z'), [7])).toEqual([]);
    const due = remindersFor(program, s, at('2026-02-24T10:00:00Z'), [7, 30]);
    expect(due.map((r) => r.identity)).toEqual([
      { reason: 'lots', expiresAt: '2026-03-02T10:00:00Z', daysBefore: 7 },
      { reason: 'lots', expiresAt: '2026-03-02T10:00:00Z', daysBefore: 30 },
    ]);
    expect(due[0]!.payload).toMatchObject({ points: 100, balance: 100 });
    expect(remindersFor(program, s, at('2026-03-02T10:00:00Z'), [7])).toEqual([]);
  });
});
