// Stored states of older versions. A member state and an order record are
// plain JSON values the server keeps in its database; a state of version 4
// (short field names), 5 (pending points as an object a vesting) or 6 (-1
// for "none" among instants) reads as version 7 through upgradeState, and an
// order record without the version 5 names through upgradeOrder.
import type { MemberState, OrderRec, Vesting } from './types.ts';

/** "Never" among a state's instants (due, nextVestAt, tierDue): later than
 * any instant an event can have (years 0000–9999), the last a Date holds.
 * A number, not Infinity or null: a state is stored as JSON (where Infinity
 * becomes null), and a number field read on every event stays unboxed. */
export const NEVER = 8_640_000_000_000_000;
/** Earlier than any instant: "none" for lastVestAt, "to be worked out
 * again" for tierDue and due. (Version 6 used -1, which is an instant:
 * 1969-12-31T23:59:59.999Z; anything due before 1970 was taken for none.) */
export const EARLIER = -NEVER;

/** The fields version 4 named otherwise, by their version 5 names. */
const RENAMED_STATE = { metricEntries: 'm', metricSum: 'msum', metricFractional: 'mfrac', limitUses: 'lim' } as const;
const RENAMED_ORDER = { earned: 'e', eligiblePaid: 'p', reversed: 'rev' } as const;

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The state `state` (any version this engine reads) as version 7, without
 * changing `state`: a version 7 state is returned as it is, one of version
 * 4, 5 or 6 as a new value (sharing nothing with it): version 4's fields
 * renamed (as version 5), version 5's vestings flattened (as version 6),
 * then version 6's markers replaced. Anything else is returned as it is,
 * for applyEvent to refuse (UNREADABLE_STATE). */
export function upgradeState<T>(state: T): T | MemberState {
  if (!isObject(state) || (state.v !== 4 && state.v !== 5 && state.v !== 6)) return state;
  const copy = state.v === 4 ? fromV4(state) : structuredClone(state);
  if (copy.v === 5) fromV5(copy);
  return fromV6(copy) as unknown as MemberState;
}

/** A version 4 state as version 5 (a new value): the fields renamed. */
function fromV4(state: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(structuredClone(state))) if (!Object.values(RENAMED_STATE).includes(k as never)) out[k] = v;
  for (const [name, old] of Object.entries(RENAMED_STATE)) out[name] = structuredClone(state[old]);
  out.v = 5;
  return out;
}

/** A version 5 state as version 6, in place: its vestings (absent in states
 * stored before pending points existed: none) as the two flat lists (when
 * they vest is read by fromV6). */
function fromV5(state: Json): Json {
  const vesting: number[] = [];
  const vestingNames: string[] = [];
  for (const x of (state.vesting as Vesting[] | undefined) ?? []) {
    vesting.push(x.at, x.seq, x.contributions.length);
    vestingNames.push(x.order);
    for (const c of x.contributions) {
      vesting.push(c.points, c.line ?? 0);
      vestingNames.push(c.rule);
    }
  }
  state.vesting = vesting;
  state.vestingNames = vestingNames;
  state.v = 6;
  return state;
}

/** A version 6 state as version 7, in place: when its vestings fall due
 * is read again from their list, and its -1 markers become NEVER (due) and
 * EARLIER (tierDue: to be worked out again). A version 6 state that holds
 * an instant before 1970 may have left what fell due then undone (its -1
 * also stood for none there): its due times are to be worked out again
 * (EARLIER: the next event or tick, or nextDue, does). */
function fromV6(state: Json): Json {
  const s = state as unknown as MemberState;
  scanVestings(s);
  if (before1970(s)) {
    s.tierDue = EARLIER;
    s.due = EARLIER;
  } else {
    if (s.tierDue === -1) s.tierDue = EARLIER;
    if (s.due === -1) s.due = NEVER;
  }
  state.v = 7;
  return state;
}

/** Whether the member's clock, or anything it has scheduled, is before 1970. */
function before1970(s: MemberState): boolean {
  if (s.at < 0 || s.nextVestAt < 0 || (s.nextBirthday ?? 0) < 0 || (s.inactiveAt ?? 0) < 0 || (s.graceUntil ?? 0) < 0) return true;
  for (let i = 0; i < s.lots.length; i += 2) if (s.lots[i]! < 0) return true;
  for (let i = 1; i < s.metricEntries.length; i += 5) if (s.metricEntries[i]! < 0) return true;
  return false;
}

/** Sets the state's nextVestAt, lastVestAt and vestingInOrder from its
 * vesting list, read whole (the engine keeps them as it schedules and vests;
 * an upgraded list, or one whose order a vest changed, is read again). */
export function scanVestings(s: MemberState): void {
  const vs = s.vesting;
  let next = NEVER;
  let last = EARLIER;
  let inOrder = true;
  for (let i = 0; i < vs.length; i += 3 + 2 * vs[i + 2]!) {
    const at = vs[i]!;
    if (at < next) next = at;
    if (at < last) inOrder = false;
    last = at;
  }
  s.nextVestAt = next;
  s.lastVestAt = last;
  s.vestingInOrder = inOrder;
}

/** The order record `rec` with the version 5 field names, as a new value
 * (sharing nothing with it); a current record is returned as it is. */
export function upgradeOrder<T>(rec: T): T | OrderRec {
  if (!isObject(rec) || !('e' in rec) || 'earned' in rec) return rec;
  const out: Json = {};
  for (const [k, v] of Object.entries(structuredClone(rec))) if (!Object.values(RENAMED_ORDER).includes(k as never)) out[k] = v;
  for (const [name, old] of Object.entries(RENAMED_ORDER)) out[name] = rec[old];
  return out as unknown as OrderRec;
}

/** The engine's reading of a state it is handed: a version 4, 5 or 6
 * state is upgraded in place (the caller's object is the one it writes),
 * so that whoever reads a stored state without upgrading it first still
 * gets the same results. */
export function currentState(s: MemberState): MemberState {
  const v = s.v as number;
  if (v !== 4 && v !== 5 && v !== 6) return s;
  const target = s as unknown as Json;
  if (v === 4) {
    const up = fromV4(target);
    for (const old of Object.values(RENAMED_STATE)) delete target[old];
    Object.assign(target, up);
  }
  if (target.v === 5) fromV5(target);
  fromV6(target);
  return s;
}

/** The same for an order record the engine is handed. */
export function currentOrder(o: OrderRec): OrderRec {
  if (!('e' in o) || 'earned' in o) return o;
  const up = upgradeOrder(o) as unknown as Json;
  const target = o as unknown as Json;
  for (const old of Object.values(RENAMED_ORDER)) delete target[old];
  Object.assign(target, up);
  return o;
}
