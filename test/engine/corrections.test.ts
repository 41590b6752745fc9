// Corrections of a member state (the server's updateMember and eraseMember):
// a changed birthday moves the next bonus, never pays one already past;
// an erased state keeps its figures without the id or the birthday.
import { describe, expect, it } from 'vitest';
import { advance, applyEvent, changeBirthday, eraseState, parseEvent, type EngineEvent, type MemberState } from '../../src/engine/index.ts';
import { program } from '../support.ts';

const P = program(`program "T" { currency USD  timezone "UTC"  base 1 point per 1 USD  on birthday { bonus 10 points }  expire { after 12 months } }`);
const t = (iso: string) => Date.parse(iso);

function signedUp(birthday: string | null): MemberState {
  const parsed = parseEvent(P, { type: 'signup', at: '2026-01-01T10:00:00Z', member: 'ava', birthday });
  if (parsed.error !== undefined) throw new Error(parsed.error);
  const out = applyEvent(P, parsed.event as EngineEvent, { get: () => undefined, order: () => undefined });
  return out.changed[0]!;
}

describe('changeBirthday', () => {
  it('writes what fell due under the old birthday, then the next bonus is the new one\'s after the correction', () => {
    const s = signedUp('1990-02-01');
    const due = changeBirthday(P, s, '1990-03-10', t('2026-02-15T00:00:00Z'));
    expect(due.map((e) => [e.rule, e.at])).toEqual([['birthday', t('2026-02-01T00:00:00Z')]]);
    expect(s.birthday).toBe('1990-03-10');
    expect(s.nextBirthday).toBe(t('2026-03-10T00:00:00Z'));
    expect(advance(P, s, t('2026-03-31T00:00:00Z')).map((e) => [e.rule, e.at])).toEqual([['birthday', t('2026-03-10T00:00:00Z')]]);
  });

  it('never pays a birthday already past, and null removes the bonus', () => {
    const s = signedUp(null);
    expect(changeBirthday(P, s, '1990-01-05', t('2026-02-01T00:00:00Z'))).toEqual([]);
    expect(s.nextBirthday).toBe(t('2027-01-05T00:00:00Z'));
    changeBirthday(P, s, null, t('2026-02-02T00:00:00Z'));
    expect(s.nextBirthday).toBeNull();
    expect(advance(P, s, t('2027-02-01T00:00:00Z')).filter((e) => e.rule === 'birthday')).toEqual([]);
  });

  it('refuses a date that is not one', () => {
    expect(() => changeBirthday(P, signedUp(null), '1990-02-30', t('2026-02-01T00:00:00Z'))).toThrow();
  });
});

describe('eraseState', () => {
  it('keeps balance and lots under the pseudonym, without the birthday', () => {
    const s = signedUp('1990-02-01');
    advance(P, s, t('2026-02-02T00:00:00Z'));
    const { balance, lots } = s;
    eraseState(P, s, 'erased-x');
    expect(s).toMatchObject({ id: 'erased-x', birthday: null, nextBirthday: null, balance, lots });
    // The lot still expires, now the only thing due.
    expect(advance(P, s, t('2027-03-01T00:00:00Z')).map((e) => [e.kind, e.member])).toEqual([['expire', 'erased-x']]);
  });
});
