// Stored states of older versions. A member state and an order record are
// plain JSON values the server keeps in its database; a state of version 4
// (short field names) reads as version 5 through upgradeState, and an order
// record without the version 5 names through upgradeOrder.
import type { MemberState, OrderRec } from './types.ts';

/** The fields version 4 named otherwise, by their version 5 names. */
const RENAMED_STATE = { metricEntries: 'm', metricSum: 'msum', metricFractional: 'mfrac', limitUses: 'lim' } as const;
const RENAMED_ORDER = { earned: 'e', eligiblePaid: 'p', reversed: 'rev' } as const;

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The state `state` (any version this engine reads) as version 5, without
 * changing `state`: a version 5 state is returned as it is, one of version 4
 * as a new value (sharing nothing with it) with the fields renamed. Anything else is returned as it
 * is, for applyEvent to refuse (UNREADABLE_STATE). */
export function upgradeState<T>(state: T): T | MemberState {
  if (!isObject(state) || state.v !== 4) return state;
  const out: Json = {};
  for (const [k, v] of Object.entries(structuredClone(state))) if (!Object.values(RENAMED_STATE).includes(k as never)) out[k] = v;
  for (const [name, old] of Object.entries(RENAMED_STATE)) out[name] = structuredClone(state[old]);
  out.v = 5;
  return out as unknown as MemberState;
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

/** The engine's reading of a state it is handed: a version 4 state is
 * upgraded in place (the caller's object is the one it writes), so that
 * whoever reads a stored state without upgrading it first still gets the
 * same results. */
export function currentState(s: MemberState): MemberState {
  if ((s.v as number) !== 4) return s;
  const up = upgradeState(s) as unknown as Json;
  const target = s as unknown as Json;
  for (const old of Object.values(RENAMED_STATE)) delete target[old];
  Object.assign(target, up);
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
