// Notifications: what an engine step did to its members, as the values a
// merchant is told (docs/webhooks.md). Pure: derived from the step's ledger
// entries and each changed member's view before and after. The server writes
// them to its outbox, `loyalty replay --notifications` prints them; both call
// these functions, so what a merchant previews is what their receiver gets.
import type { Program } from '../../dsl/program.ts';
import { advance, applyEvent } from './engine.ts';
import { formatInstant } from './time.ts';
import type { EngineEvent, LedgerEntry, MemberState, OrderRec } from './types.ts';
import { memberView, type MemberView } from './view.ts';

export const NOTIFICATION_TYPES = [
  'member.signed_up',
  'points.earned',
  'points.redeemed',
  'reward.redeemed',
  'points.reversed',
  'points.adjusted',
  'points.expired',
  'points.expiring',
  'points.vested',
  'tier.changed',
  'tier.grace_started',
  'club.joined',
  'club.ending',
  'club.ended',
  'referral.rewarded',
  'challenge.completed',
  'birthday.bonus',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** Reminders: made by a time step N days before what they announce (N per receiver). */
export const REMINDER_TYPES: readonly NotificationType[] = ['points.expiring', 'club.ending'];

/** The payload's shape; a change that is not purely additive gets a new version. */
export const PAYLOAD_VERSION = 1;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface NewNotification {
  type: NotificationType;
  member: string;
  at: number;
  payload: Record<string, Json>;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * Each member's view before the engine runs (the engine changes states in
 * place). null for a state the view cannot read: its changes are not
 * compared (the engine refuses such a member's events anyway).
 */
export function viewsBefore(program: Program, states: Iterable<{ state: MemberState }>): Map<string, MemberView | null> {
  const views = new Map<string, MemberView | null>();
  for (const { state } of states) {
    try {
      views.set(state.id, memberView(program, state));
    } catch {
      views.set(state.id, null);
    }
  }
  return views;
}

/** The rules that are notifications of their own rather than `points.earned`. */
function ownType(rule: string | null): NotificationType | undefined {
  if (rule === null) return undefined;
  if (rule === 'birthday') return 'birthday.bonus';
  if (rule === 'referral:referrer') return 'referral.rewarded';
  if (rule.startsWith('challenge:')) return 'challenge.completed';
  return undefined;
}

/**
 * Earn entries that pending points wrote as they vested: they name an order
 * (their `ref`) but the step that wrote them is not that order (a time step,
 * or the time brought forward before a later event).
 */
function vested(e: LedgerEntry, event: EngineEvent | null): boolean {
  return e.kind === 'earn' && e.ref !== null && !(event?.type === 'order' && event.id === e.ref);
}

/**
 * What one step did, in order: a signup, then what its entries did (in
 * entry order: time-driven expiry and birthdays first, as the engine wrote
 * them), then each member's clubs and tier. `event` is null for a time step.
 */
export function notificationsFor(
  program: Program,
  step: {
    event: EngineEvent | null;
    at: number;
    before: ReadonlyMap<string, MemberView | null>;
    changed: readonly MemberState[];
    entries: readonly LedgerEntry[];
  },
): NewNotification[] {
  const { event, at, before, changed, entries } = step;
  const after = new Map<string, MemberView>();
  for (const s of changed) after.set(s.id, memberView(program, s, at));
  const balance = (member: string) => after.get(member)?.balance ?? null;
  const out: NewNotification[] = [];

  if (event?.type === 'signup' && !before.has(event.member) && after.has(event.member)) {
    const view = after.get(event.member)!;
    out.push({
      type: 'member.signed_up',
      member: event.member,
      at: event.at,
      payload: { referrer: view.referrer, birthday: view.birthday, tier: view.tier?.name ?? null, balance: view.balance },
    });
  }

  const own = (e: LedgerEntry): void => {
    const type = ownType(e.rule);
    const common = { points: e.points, balance: balance(e.member) };
    if (type === 'birthday.bonus') out.push({ type, member: e.member, at: e.at, payload: { ...common, line: e.line } });
    else if (type === 'challenge.completed') {
      out.push({ type, member: e.member, at: e.at, payload: { ...common, challenge: e.rule!.slice('challenge:'.length), order: e.ref, line: e.line } });
    } else if (type === 'referral.rewarded') {
      out.push({
        type,
        member: e.member,
        at: e.at,
        payload: { ...common, referee: event && 'member' in event ? event.member : null, order: e.ref, line: e.line },
      });
    }
  };

  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.kind === 'earn') {
      // One points.earned (or points.vested) for the entries one order (or
      // bonus) gave the member at once; those that are notifications of their
      // own (a challenge bonus, ...) follow it.
      const run = [e];
      while (i + 1 < entries.length) {
        const n = entries[i + 1]!;
        if (n.kind !== 'earn' || n.member !== e.member || n.ref !== e.ref || n.at !== e.at) break;
        run.push(n);
        i++;
      }
      const group = run.filter((g) => ownType(g.rule) === undefined);
      if (group.length > 0) {
        out.push({
          type: vested(e, event) ? 'points.vested' : 'points.earned',
          member: e.member,
          at: e.at,
          payload: {
            points: group.reduce((sum, g) => sum + g.points, 0),
            balance: balance(e.member),
            order: e.ref,
            rules: [...new Set(group.map((g) => g.rule ?? 'unknown'))],
            entries: group.map((g) => ({ points: g.points, rule: g.rule, line: g.line })),
          },
        });
      }
      for (const g of run) if (ownType(g.rule) !== undefined) own(g);
      continue;
    }
    const common = { points: e.points, balance: balance(e.member) };
    if (e.kind === 'redeem' && e.rule?.startsWith('reward:')) {
      out.push({ type: 'reward.redeemed', member: e.member, at: e.at, payload: { ...common, points: -e.points, reward: e.rule.slice('reward:'.length), line: e.line } });
    } else if (e.kind === 'redeem') out.push({ type: 'points.redeemed', member: e.member, at: e.at, payload: { ...common, points: -e.points } });
    else if (e.kind === 'reverse') out.push({ type: 'points.reversed', member: e.member, at: e.at, payload: { ...common, points: -e.points, order: e.ref } });
    else if (e.kind === 'expire') out.push({ type: 'points.expired', member: e.member, at: e.at, payload: { ...common, points: -e.points } });
    else if (e.kind === 'adjust') {
      const reason = event?.type === 'adjust' && event.member === e.member ? (event.reason ?? null) : null;
      out.push({ type: 'points.adjusted', member: e.member, at: e.at, payload: { ...common, reason } });
    }
  }

  for (const [member, now] of after) {
    const was = before.get(member);
    // A new member starts in its tier (member.signed_up says which); an unreadable one is not compared.
    if (!was) continue;
    const clubsBefore = new Set(was.clubs.map((c) => c.name));
    const clubsAfter = new Set(now.clubs.map((c) => c.name));
    for (const c of now.clubs) {
      if (!clubsBefore.has(c.name)) {
        out.push({ type: 'club.joined', member, at, payload: { club: c.name, since: formatInstant(c.since), until: c.until === null ? null : formatInstant(c.until) } });
      }
    }
    for (const c of was.clubs) {
      if (!clubsAfter.has(c.name)) {
        const cancelled = event?.type === 'cancel_club' && event.member === member && event.club === c.name;
        const ended = c.until !== null && c.until <= at ? c.until : at;
        out.push({ type: 'club.ended', member, at: ended, payload: { club: c.name, reason: cancelled ? 'cancelled' : 'expired' } });
      }
    }
    const from = was.tier;
    const to = now.tier;
    if ((from?.name ?? null) !== (to?.name ?? null)) {
      const up = (to?.index ?? -1) > (from?.index ?? -1);
      out.push({ type: 'tier.changed', member, at, payload: { from: from?.name ?? null, to: to?.name ?? null, direction: up ? 'up' : 'down' } });
    }
    const grace = now.progress?.graceUntil ?? null;
    if (grace !== null && grace !== (was.progress?.graceUntil ?? null) && to !== null) {
      out.push({ type: 'tier.grace_started', member, at, payload: { tier: to.name, until: formatInstant(grace) } });
    }
  }
  return out;
}

/** A reminder, and the payload fields that name what it is about (a second one for the same is not made). */
export interface Reminder extends NewNotification {
  identity: Record<string, Json>;
}

/**
 * The reminders a time step at `at` has due for one member (brought to `at`
 * already): for each N in `days`, `points.expiring` for each lot expiry and
 * the inactivity expiry, and `club.ending` for each club membership with an
 * end, that falls due after `at` and no more than N days after it. The
 * caller keeps those it already made out (by `identity`).
 */
export function remindersFor(program: Program, state: MemberState, at: number, days: readonly number[]): Reminder[] {
  const out: Reminder[] = [];
  if (days.length === 0) return out;
  const horizon = at + Math.max(...days) * DAY_MS;
  const expire = program.expire;
  // What expires when (lots of the same instant are one reminder).
  const expiring = new Map<number, { points: number; reason: 'lots' | 'inactivity' }>();
  if (expire?.mode === 'lots') {
    for (let i = 0; i + 1 < state.lots.length; i += 2) {
      const when = state.lots[i]!;
      const points = state.lots[i + 1]!;
      if (points <= 0 || when <= at || when > horizon) continue;
      const had = expiring.get(when);
      expiring.set(when, { points: (had?.points ?? 0) + points, reason: 'lots' });
    }
  }
  if (expire?.mode === 'inactivity' && state.inactiveAt !== null && state.balance > 0 && state.inactiveAt > at && state.inactiveAt <= horizon) {
    expiring.set(state.inactiveAt, { points: state.balance, reason: 'inactivity' });
  }
  const clubs = memberView(program, state, at).clubs;
  for (const n of [...new Set(days)].sort((a, b) => a - b)) {
    const within = (when: number) => when > at && when <= at + n * DAY_MS;
    for (const [when, x] of [...expiring].sort((a, b) => a[0] - b[0])) {
      if (!within(when)) continue;
      const identity = { reason: x.reason, expiresAt: formatInstant(when), daysBefore: n };
      out.push({ type: 'points.expiring', member: state.id, at, identity, payload: { points: Math.min(x.points, state.balance), balance: state.balance, ...identity } });
    }
    for (const c of clubs) {
      if (c.until === null || !within(c.until)) continue;
      const identity = { club: c.name, until: formatInstant(c.until), daysBefore: n };
      out.push({ type: 'club.ending', member: state.id, at, identity, payload: identity });
    }
  }
  return out;
}

/** A notification as `loyalty replay --notifications` prints it: a receiver's body without the server's `id` and `created`. */
export function previewBody(n: NewNotification) {
  return { type: n.type, version: PAYLOAD_VERSION, member: n.member, at: formatInstant(n.at), data: n.payload };
}

/**
 * The notifications an event stream produces, step by step as the server
 * makes them: each member event applied with the members it names (the
 * member and its referrer) viewed before; each tick brings forward the
 * members due by then (as the server's advanceTime does) and then makes the
 * reminders `reminderDays` ahead (once each, as the server's outbox does).
 */
export class NotificationStream {
  private readonly members = new Map<string, MemberState>();
  private readonly orders = new Map<string, OrderRec>();
  private readonly reminded = new Set<string>();
  private readonly world = { get: (id: string) => this.members.get(id), order: (id: string) => this.orders.get(id) };

  constructor(
    private readonly program: Program,
    private readonly reminderDays: readonly number[] = [],
  ) {}

  /** What one event (or tick) produces. */
  push(event: EngineEvent): NewNotification[] {
    if (event.type === 'tick') return this.tick(event.at);
    const named = [this.members.get(event.member)];
    const referrer = named[0]?.referrer ?? (event.type === 'signup' ? event.referrer : null);
    if (referrer) named.push(this.members.get(referrer));
    const before = viewsBefore(this.program, named.filter((s): s is MemberState => s !== undefined).map((state) => ({ state })));
    const outcome = applyEvent(this.program, event, this.world);
    for (const s of outcome.changed) this.members.set(s.id, s);
    if (outcome.order) this.orders.set(outcome.order.id, outcome.order);
    return notificationsFor(this.program, { event, at: event.at, before, changed: outcome.changed, entries: outcome.entries });
  }

  private tick(at: number): NewNotification[] {
    const out: NewNotification[] = [];
    for (const s of this.members.values()) {
      if (s.due > at) continue;
      const before = viewsBefore(this.program, [{ state: s }]);
      const entries = advance(this.program, s, at);
      out.push(...notificationsFor(this.program, { event: null, at, before, changed: [s], entries }));
    }
    for (const s of this.members.values()) {
      for (const r of remindersFor(this.program, s, at, this.reminderDays)) {
        const key = `${r.type} ${r.member} ${JSON.stringify(r.identity)}`;
        if (this.reminded.has(key)) continue;
        this.reminded.add(key);
        const { identity: _identity, ...n } = r;
        out.push(n);
      }
    }
    return out;
  }
}
