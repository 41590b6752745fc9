// The member cache: the rows of members whose last order this process wrote,
// so that the next order for the same member can be written in one round
// trip (members.ts recordOrder) instead of a lock statement and then the
// write. Nothing here is trusted: the write checks the row's version in the
// same statement (write.ts, loyalty_check_updated and loyalty_check_cached),
// and when another process or another kind of write changed the member
// since (every write that stores a state bumps the version), the statement
// fails and the order is written again the usual way.
//
// A row is taken out while a write uses it: the engine advances the state in
// place, so a row in use is never handed to a second request; that one reads
// the member from the database (and a write that fails drops the row).
import type { MemberRow } from './members.ts';

/** Rows kept per process; states are a few kilobytes, so this bounds the cache to tens of megabytes. */
export const MEMBER_CACHE_SIZE = 4096;

export class MemberCache {
  private readonly rows = new Map<string, MemberRow>();

  constructor(private readonly size = MEMBER_CACHE_SIZE) {}

  /** The row of `member`, taken out of the cache (undefined when not there). */
  take(merchantId: string, member: string): MemberRow | undefined {
    const key = `${merchantId}\n${member}`;
    const row = this.rows.get(key);
    if (row) this.rows.delete(key);
    return row;
  }

  /** The row as a write just stored it; a row already there with a later version (another request's) stays. */
  put(merchantId: string, row: MemberRow): void {
    const key = `${merchantId}\n${row.externalId}`;
    const there = this.rows.get(key);
    if (there && there.version >= row.version) return;
    this.rows.delete(key);
    this.rows.set(key, row);
    if (this.rows.size > this.size) this.rows.delete(this.rows.keys().next().value!);
  }
}
