// `loyalty replay --notifications`: what a merchant's customers would be told,
// one JSON object a line, before going live. The server's outbox records the
// same (test/api/webhooks.test.ts compares the two on this fixture).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support.ts';

const DIR = join(ROOT, 'test/cli/fixtures/notifications');
const PROGRAM = join(DIR, 'program.loyalty');
const EVENTS = join(DIR, 'events.jsonl');

function loyalty(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const parse = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; version: number; member: string; at: string; data: Record<string, unknown> });

describe('loyalty replay --notifications', () => {
  it('prints each notification the stream produces, in order, with the documented payloads', () => {
    const r = loyalty(['replay', PROGRAM, EVENTS, '--notifications', '--reminder-days', '3']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = parse(r.stdout);
    expect(out.map((n) => n.type)).toEqual([
      'member.signed_up',
      'points.earned',
      'points.earned',
      'tier.changed',
      'club.joined',
      'reward.redeemed',
      'points.redeemed',
      'tier.grace_started',
      'club.ending',
      'club.ended',
      'tier.changed',
      'points.expiring',
      'points.expired',
    ]);
    expect(out.every((n) => n.version === 1 && n.member === 'ann')).toBe(true);
    const of = (type: string) => out.filter((n) => n.type === type);
    // 250 USD at 1 point per USD, as the order earns it (Gold's 2x applies from the next order).
    expect(of('points.earned')[1]).toMatchObject({ at: '2026-01-02T10:00:00Z', data: { points: 250, balance: 350, order: 'O-1', rules: ['base'] } });
    expect(of('reward.redeemed')[0]!.data).toEqual({ points: 150, balance: 200, reward: 'Mug', line: 23 });
    // The month of Plus ends 2026-02-03T10:00Z: the first tick within 3 days is 02-02.
    expect(of('club.ending')[0]).toMatchObject({ at: '2026-02-02T10:00:00Z', data: { club: 'Plus', until: '2026-02-03T10:00:00Z', daysBefore: 3 } });
    // The order's lot (250, less the 100 the redemptions took after the signup lot) expires 60 days on.
    expect(of('points.expiring')[0]).toMatchObject({ at: '2026-03-01T10:00:00Z', data: { points: 150, expiresAt: '2026-03-03T10:00:00Z', daysBefore: 3 } });
    expect(of('points.expired')[0]).toMatchObject({ at: '2026-03-03T10:00:00Z', data: { points: 150, balance: 0 } });
  });

  it('a longer lead time reminds at an earlier tick', () => {
    const out = parse(loyalty(['replay', PROGRAM, EVENTS, '--notifications', '--reminder-days', '10']).stdout);
    expect(out.filter((n) => n.type === 'club.ending').map((n) => [n.at, n.data.daysBefore])).toEqual([['2026-01-28T10:00:00Z', 10]]);
  });

  it('skips lines that are not events, saying so on stderr; refuses a bad lead time', () => {
    const events = readFileSync(EVENTS, 'utf8').split('\n').slice(0, 2);
    const r = loyalty(['replay', PROGRAM, '-', '--notifications'], [events[0], '{"type": "order"', '{"type": "nap", "at": "2026-01-01T11:00:00Z"}', events[1]].join('\n'));
    expect(r.status).toBe(0);
    expect(parse(r.stdout).map((n) => n.type)).toEqual(['member.signed_up', 'points.earned', 'points.earned', 'tier.changed']);
    expect(r.stderr).toMatch(/skipped line 2: not valid JSON/);
    expect(r.stderr).toMatch(/skipped line 3: /);
    const bad = loyalty(['replay', PROGRAM, EVENTS, '--notifications', '--reminder-days', 'soon']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--reminder-days: a whole number of days from 1 to 90/);
  });
});
