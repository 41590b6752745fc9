// Stored states of older versions. A member state and an order record are
// plain JSON values the server keeps in its database; a state of version 4
// (short field names) or 5 (pending points as an object a vesting) reads as
// version 6 through upgradeState, and an order record without the version 5
// names through upgradeOrder.
import type { MemberState, OrderRec, Vesting } from './types.ts';

/** The fields version 4 named otherwise, by their version 5 names. */
const RENAMED_STATE = { metricEntries: 'm', metricSum: 'msum', metricFractional: 'mfrac', limitUses: 'lim' } as const;
const RENAMED_ORDER = { earned: 'e', eligiblePaid: 'p', reversed: 'rev' } as const;

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The state `state` (any version this engine reads) as version 6, without
 * changing `state`: a version 6 state is returned as it is, one of version 4
 * or 5 as a new value (sharing nothing with it): version 4's fields renamed
 * (as version 5), then version 5's vestings flattened. Anything else is
 * returned as it is, for applyEvent to refuse (UNREADABLE_STATE). */
export function upgradeState<T>(state: T): T | MemberState {
  if (!isObject(state) || (state.v !== 4 && state.v !== 5)) return state;
  const v5 = state.v === 4 ? fromV4(state) : structuredClone(state);
  return fromV5(v5) as unknown as MemberState;
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
 * stored before pending points existed: none) as the two flat lists, with
 * when the first and the last of them vest and whether they are in order. */
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
  scanVestings(state as unknown as MemberState);
  state.v = 6;
  return state;
}

/** Sets the state's nextVestAt, lastVestAt and vestingInOrder from its
 * vesting list, read whole (the engine keeps them as it schedules and vests;
 * an upgraded list, or one whose order a vest changed, is read again). */
export function scanVestings(s: MemberState): void {
  const vs = s.vesting;
  let next = -1;
  let last = -1;
  let inOrder = true;
  for (let i = 0; i < vs.length; i += 3 + 2 * vs[i + 2]!) {
    const at = vs[i]!;
    if (next < 0 || at < next) next = at;
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

/** The engine's reading of a state it is handed: a version 4 or 5 state is
 * upgraded in place (the caller's object is the one it writes), so that
 * whoever reads a stored state without upgrading it first still gets the
 * same results. */
export function currentState(s: MemberState): MemberState {
  const v = s.v as number;
  if (v !== 4 && v !== 5) return s;
  const target = s as unknown as Json;
  if (v === 4) {
    const up = fromV4(target);
    for (const old of Object.values(RENAMED_STATE)) delete target[old];
    Object.assign(target, up);
  }
  fromV5(target);
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
