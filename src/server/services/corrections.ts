// Corrections by an admin (issue 7): a member's birthday and the merchant's
// note on them, the export of everything stored about a member, and the
// erasure of their personal data. Each write is one transaction that locks
// the member, changes the engine state through the engine (a birthday lives
// in it), stores it with the version check, and records itself in the
// audit log.
import { randomBytes } from 'node:crypto';
import { Prisma } from '@prisma/client';
import { changeBirthday, eraseState, parseBirthday, renameReferrer, type MemberState } from '../engine.ts';
import { recordAudit, renameAuditTarget, MEMBER_ACTIONS, type AuditActor } from './audit.ts';
import { revokeMemberTokens } from './auth.ts';
import { DomainError } from './errors.ts';
import { eraseFromNotifications, notificationsFor, recordNotifications, viewsBefore } from './notifications.ts';
import { loadMembers, logBirthdayCorrection, persist, type MemberRow, type Scope, type WriteResult } from './members.ts';
import { requireActiveProgram } from './programs.ts';
import { inTransaction, VersionConflict, type Tx } from './transaction.ts';

/** The longest merchant note on a member. */
export const MAX_NOTE_LENGTH = 2000;

/** A correction: a field left out (undefined) is kept, null clears it. */
export interface MemberCorrection {
  memberId: string;
  birthday?: string | null | undefined;
  note?: string | null | undefined;
}

function checkCorrection(input: MemberCorrection): void {
  if (input.birthday === undefined && input.note === undefined) {
    throw new DomainError('BAD_USER_INPUT', 'give `birthday` or `note` (null clears one)');
  }
  if (input.birthday != null && !parseBirthday(input.birthday)) {
    throw new DomainError('BAD_USER_INPUT', `birthday ${JSON.stringify(input.birthday)} is not a date: write YYYY-MM-DD, e.g. "1990-03-10"`, { field: 'birthday' });
  }
  if (input.note != null && input.note.length > MAX_NOTE_LENGTH) {
    throw new DomainError('BAD_USER_INPUT', `the note has ${input.note.length} characters, over the limit of ${MAX_NOTE_LENGTH}`, {
      field: 'note',
      limit: MAX_NOTE_LENGTH,
    });
  }
}

async function lockMember(tx: Tx, scope: Scope, memberId: string): Promise<{ rows: Map<string, MemberRow>; row: MemberRow }> {
  const rows = await loadMembers(tx, scope.merchantId, [memberId], true);
  const row = rows.get(memberId);
  if (!row) throw new DomainError('NOT_FOUND', `unknown member "${memberId}"`);
  return { rows, row };
}

/**
 * Corrects a member's birthday and the merchant's note. A new birthday goes
 * through the engine (changeBirthday) at the time the lock is held: what
 * fell due by then is written, and the next birthday bonus is the new
 * birthday's first after it.
 */
export async function updateMember(scope: Scope, actor: AuditActor, input: MemberCorrection): Promise<WriteResult> {
  checkCorrection(input);
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  return inTransaction(scope.prisma, async (tx) => {
    const { rows, row } = await lockMember(tx, scope, input.memberId);
    let entryIds: bigint[] = [];
    let points = 0;
    if (input.birthday !== undefined) {
      const at = Math.max(Date.now(), row.lastEventAt.getTime());
      const before = viewsBefore(active.program, [row]);
      const entries = changeBirthday(active.program, row.state, input.birthday, at);
      const seq = await logBirthdayCorrection(tx, scope.merchantId, active, input.memberId, input.birthday, at);
      entryIds = await persist(tx, scope.merchantId, active, at, rows, [row.state], entries, new Map(), seq);
      await recordNotifications(tx, scope.merchantId, seq, notificationsFor(active.program, { event: null, at, before, changed: [row.state], entries }));
      points = entries.reduce((sum, e) => sum + e.points, 0);
    }
    // persist() bumped the version when it stored the state; the columns follow it.
    await tx.member.update({
      where: { id: row.id },
      data: {
        ...(input.birthday !== undefined ? { birthday: input.birthday } : {}),
        ...(input.note !== undefined ? { note: input.note === '' ? null : input.note } : {}),
      },
    });
    const fields = [...(input.birthday !== undefined ? ['birthday'] : []), ...(input.note !== undefined ? ['note'] : [])];
    await recordAudit(tx, actor, 'updateMember', input.memberId, { fields }, scope.merchantId);
    return { memberId: row.id, entryIds, points, replayed: false };
  });
}

const num = (v: bigint | null) => (v === null ? null : Number(v));

/** Everything stored about one member, as JSON (GDPR access). */
export async function exportMember(scope: Scope, memberId: string): Promise<Prisma.JsonObject> {
  const { prisma, merchantId } = scope;
  const member = await prisma.member.findUnique({
    where: { merchantId_externalId: { merchantId, externalId: memberId } },
    include: {
      ledgerEntries: { orderBy: { id: 'asc' }, include: { programVersion: { select: { version: true } } } },
      orders: { orderBy: [{ at: 'asc' }, { id: 'asc' }] },
      clubMemberships: { orderBy: { since: 'asc' } },
      referralsMade: { orderBy: { createdAt: 'asc' }, include: { referee: { select: { externalId: true } } } },
      referredBy: { include: { referrer: { select: { externalId: true } } } },
    },
  });
  if (!member) throw new DomainError('NOT_FOUND', `unknown member "${memberId}"`);
  const [audit, tokens] = await Promise.all([
    prisma.auditEntry.findMany({ where: { merchantId, target: memberId, action: { in: MEMBER_ACTIONS } }, orderBy: { id: 'asc' } }),
    prisma.memberTokenGeneration.findUnique({ where: { merchantId_memberId: { merchantId, memberId } } }),
  ]);
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  const result = {
    exportedAt: new Date().toISOString(),
    member: {
      id: member.externalId,
      birthday: member.birthday,
      note: member.note,
      signupAt: iso(member.signupAt),
      lastEventAt: iso(member.lastEventAt),
      balance: Number(member.balance),
      tier: member.tier,
      erasedAt: iso(member.erasedAt),
      createdAt: iso(member.createdAt),
      updatedAt: iso(member.updatedAt),
    },
    state: member.state,
    ledger: member.ledgerEntries.map((e) => ({
      id: String(e.id),
      at: iso(e.at),
      kind: e.kind,
      points: Number(e.points),
      rule: e.rule,
      ref: e.ref,
      line: e.line,
      programVersion: e.programVersion.version,
    })),
    orders: member.orders.map((o) => ({
      id: o.externalId,
      at: iso(o.at),
      channel: o.channel,
      total: num(o.total),
      lines: o.lines,
      refunds: o.refunds,
    })),
    clubMemberships: member.clubMemberships.map((c) => ({ club: c.club, since: iso(c.since), until: iso(c.until), cancelledAt: iso(c.cancelledAt) })),
    referredBy: member.referredBy
      ? { referrer: member.referredBy.referrer.externalId, at: iso(member.referredBy.createdAt), rewardedAt: iso(member.referredBy.rewardedAt) }
      : null,
    referrals: member.referralsMade.map((r) => ({ referee: r.referee.externalId, at: iso(r.createdAt), rewardedAt: iso(r.rewardedAt) })),
    memberTokenGeneration: tokens?.generation ?? 0,
    audit: audit.map((a) => ({ id: String(a.id), at: iso(a.at), action: a.action, actor: a.actorLabel, details: a.details })),
  };
  return result as unknown as Prisma.JsonObject;
}

/** A pseudonym for an erased member: unguessable, and recognisable as one. */
export function pseudonym(): string {
  return `erased-${randomBytes(9).toString('base64url')}`;
}

/**
 * The one change the append-only event log allows (its trigger checks
 * `loyalty.rewrite_events`): the member's id becomes the pseudonym in their
 * events and as the referrer of others, and birthdays are dropped.
 */
async function eraseFromLog(tx: Tx, merchantId: string, memberId: string, alias: string): Promise<void> {
  await tx.$executeRaw`SELECT set_config('loyalty.rewrite_events', 'on', true)`;
  await tx.$executeRaw`
    UPDATE events SET member = ${alias},
           line = ((line::jsonb - 'birthday') || jsonb_build_object('member', ${alias}::text))::text,
           -- The signup's key names the member; the id is free for a new member.
           key = CASE WHEN key = 'signup:' || ${memberId}::text THEN 'signup:' || ${alias}::text ELSE key END
     WHERE merchant_id = ${merchantId}::uuid AND member = ${memberId}`;
  await tx.$executeRaw`
    UPDATE events SET line = jsonb_set(line::jsonb, '{referrer}', to_jsonb(${alias}::text))::text
     WHERE merchant_id = ${merchantId}::uuid AND type = 'signup' AND line::jsonb ->> 'referrer' = ${memberId}`;
  await tx.$executeRaw`SELECT set_config('loyalty.rewrite_events', 'off', true)`;
}

/**
 * Erases a member's personal data (GDPR erasure), keeping what accounting
 * needs. Gone: the merchant's id for the member (replaced by a pseudonym,
 * in the state, in referees' states and in audit entries about them), the
 * birthday and the note; the member's tokens stop working. Kept: balance,
 * tier, ledger, orders (amounts and lines) and referrals, under the
 * pseudonym. The erasure is recorded (erasedAt, and the audit log).
 */
export async function eraseMember(scope: Scope, actor: AuditActor, memberId: string): Promise<WriteResult & { pseudonym: string }> {
  const active = await requireActiveProgram(scope.prisma, scope.merchantId);
  const alias = pseudonym();
  return inTransaction(scope.prisma, async (tx) => {
    const { row } = await lockMember(tx, scope, memberId);
    eraseState(active.program, row.state, alias);
    const stored = await tx.member.updateMany({
      where: { id: row.id, version: row.version },
      data: {
        externalId: alias,
        birthday: null,
        note: null,
        erasedAt: new Date(),
        state: row.state as unknown as Prisma.InputJsonValue,
        version: { increment: 1 },
      },
    });
    if (stored.count !== 1) throw new VersionConflict(row.id);
    // Referees' states name their referrer by id.
    const referees = await tx.referral.findMany({ where: { merchantId: scope.merchantId, referrerId: row.id }, select: { referee: { select: { externalId: true } } } });
    const locked = await loadMembers(tx, scope.merchantId, referees.map((r) => r.referee.externalId), true);
    for (const referee of locked.values()) {
      if (referee.state.referrer !== memberId) continue;
      renameReferrer(referee.state as MemberState, alias);
      const { count } = await tx.member.updateMany({
        where: { id: referee.id, version: referee.version },
        data: { state: referee.state as unknown as Prisma.InputJsonValue, version: { increment: 1 } },
      });
      if (count !== 1) throw new VersionConflict(referee.id);
    }
    await eraseFromLog(tx, scope.merchantId, memberId, alias);
    await eraseFromNotifications(tx, scope.merchantId, memberId, alias);
    await revokeMemberTokens(tx, scope.merchantId, memberId);
    await renameAuditTarget(tx, scope.merchantId, memberId, alias);
    await recordAudit(tx, actor, 'eraseMember', alias, {}, scope.merchantId);
    return { memberId: row.id, entryIds: [], points: 0, replayed: false, pseudonym: alias };
  });
}
