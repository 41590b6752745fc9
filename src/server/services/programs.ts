// Program versions: compile, check, publish, and the active program of a merchant.
import type { Prisma, PrismaClient, ProgramVersion } from '@prisma/client';
import { carryOver, compile, memberView, nextDue, type CompileResult, type MemberState, type Program } from '../engine.ts';
import { recordAudit, type AuditActor } from './audit.ts';
import { DomainError, ProgramInvalidError } from './errors.ts';
import type { Sql } from './transaction.ts';

export const MAX_SOURCE_CHARS = 200_000;
export const PROGRAM_FILE = 'program.loyalty';

export interface ActiveProgram {
  version: ProgramVersion;
  program: Program;
  /** The merchant is a sandbox (for QA): its writes may be dated any time, future included. */
  sandbox: boolean;
}

/** Compiled programs by version id. Versions never change, so entries never go stale. */
const compiled = new Map<string, Program>();
const COMPILED_MAX = 256;

export function compileSource(source: string): CompileResult {
  if (source.length > MAX_SOURCE_CHARS) {
    throw new DomainError('BAD_USER_INPUT', `a program may have at most ${MAX_SOURCE_CHARS} characters`);
  }
  return compile(source, PROGRAM_FILE);
}

export function programOf(version: ProgramVersion): Program {
  let program = compiled.get(version.id);
  if (!program) {
    const result = compile(version.source, PROGRAM_FILE);
    if (!result.program) {
      // A stored version compiled when it was published; failing now means the
      // language changed incompatibly, which is a bug to report, not to hide.
      throw new Error(`stored program version ${version.id} no longer compiles`);
    }
    program = result.program;
    if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value as string);
    compiled.set(version.id, program);
  }
  return program;
}

export async function findActiveProgram(prisma: PrismaClient, merchantId: string): Promise<ActiveProgram | null> {
  const found = await prisma.programVersion.findFirst({
    where: { merchantId, active: true },
    include: { merchant: { select: { sandbox: true } } },
  });
  if (!found) return null;
  const { merchant, ...version } = found;
  return { version, program: programOf(version), sandbox: merchant.sandbox };
}

export async function requireActiveProgram(prisma: PrismaClient, merchantId: string): Promise<ActiveProgram> {
  const active = await findActiveProgram(prisma, merchantId);
  if (!active) {
    throw new DomainError('NO_ACTIVE_PROGRAM', 'publish a program before recording member activity');
  }
  return active;
}

/**
 * The active program of each merchant as this process last saw it. Only a
 * guess to parse a write's input with before its transaction: the write's
 * lock statement reads the active version id, and when it differs (a publish
 * by any process) the write takes the new one (activeProgramOf).
 */
const lastActive = new Map<string, ActiveProgram>();
const LAST_ACTIVE_MAX = 1024;

function remember(merchantId: string, active: ActiveProgram): ActiveProgram {
  lastActive.delete(merchantId);
  if (lastActive.size >= LAST_ACTIVE_MAX) lastActive.delete(lastActive.keys().next().value as string);
  lastActive.set(merchantId, active);
  return active;
}

export async function lastActiveProgram(prisma: PrismaClient, merchantId: string): Promise<ActiveProgram> {
  return lastActive.get(merchantId) ?? remember(merchantId, await requireActiveProgram(prisma, merchantId));
}

/**
 * The merchant's active program given its version id, as read under a write's
 * lock. `db` reads the version row when this process has not seen it: a
 * Prisma client or transaction, or plain SQL in the write's transaction (it
 * may hold the pool's only connection, with PGlite).
 */
export async function activeProgramOf(db: PrismaClient | Prisma.TransactionClient | Sql, merchantId: string, versionId: string, sandbox: boolean): Promise<ActiveProgram> {
  const known = lastActive.get(merchantId);
  if (known && known.version.id === versionId && known.sandbox === sandbox) return known;
  const version = known?.version.id === versionId ? known.version : await readVersion(db, versionId);
  return remember(merchantId, { version, program: programOf(version), sandbox });
}

async function readVersion(db: PrismaClient | Prisma.TransactionClient | Sql, id: string): Promise<ProgramVersion> {
  if (!('query' in db)) return db.programVersion.findUniqueOrThrow({ where: { id } });
  const [row] = await db.query<Omit<ProgramVersion, 'fromSeq'> & { fromSeq: string }>(
    `SELECT id::text AS "id", merchant_id::text AS "merchantId", version, name, source, hash, currency, active, created_at AS "createdAt", from_seq::text AS "fromSeq"
       FROM program_versions WHERE id = $1::uuid`,
    [id],
  );
  if (!row) throw new Error(`program version ${id} not found`);
  return { ...row, fromSeq: BigInt(row.fromSeq) };
}

export interface PublishResult {
  version: ProgramVersion;
  /** false when the source was identical to the active version (nothing changed). */
  created: boolean;
  /** Warnings from the compiler (there are no errors). */
  diagnostics: CompileResult['diagnostics'];
  /** Members whose tier the new version changed (re-derived when it was published). */
  retiered: number;
}

/**
 * Compiles `source`; on errors throws ProgramInvalidError and changes nothing;
 * otherwise stores it as the next version and makes it the active one.
 */
export async function publishProgram(prisma: PrismaClient, merchantId: string, source: string, actor?: AuditActor): Promise<PublishResult> {
  const result = compileSource(source);
  const program = result.program;
  if (!program) throw new ProgramInvalidError(result.diagnostics, source);
  const { diagnostics } = result;
  const published = await prisma.$transaction(async (tx) => {
    // Serialise publications of one merchant: version numbers and the single
    // active flag are decided under this lock.
    await tx.$executeRaw`SELECT 1 FROM merchants WHERE id = ${merchantId}::uuid FOR UPDATE`;
    const active = await tx.programVersion.findFirst({ where: { merchantId, active: true } });
    if (active?.hash === program.hash) {
      if (actor) await recordAudit(tx, actor, 'publishProgram', String(active.version), { created: false, hash: active.hash, name: active.name }, merchantId);
      return { version: active, created: false, diagnostics, retiered: 0 };
    }
    if (active && active.currency !== program.currency) {
      throw new DomainError(
        'CURRENCY_CHANGE',
        `the active program counts in ${active.currency}; a new version cannot switch to ${program.currency}`,
      );
    }
    const last = await tx.programVersion.findFirst({
      where: { merchantId },
      orderBy: { version: 'desc' },
      select: { version: true },
    });
    await tx.programVersion.updateMany({ where: { merchantId, active: true }, data: { active: false } });
    // The version applies to the events logged after this one (db:verify switches there).
    const logged = await tx.event.aggregate({ where: { merchantId }, _max: { seq: true } });
    const version = await tx.programVersion.create({
      data: {
        merchantId,
        fromSeq: logged._max.seq ?? 0n,
        version: (last?.version ?? 0) + 1,
        name: program.name,
        source,
        hash: program.hash,
        currency: program.currency,
        active: true,
      },
    });
    compiled.set(version.id, program);
    if (actor) await recordAudit(tx, actor, 'publishProgram', String(version.version), { created: true, hash: version.hash, name: version.name }, merchantId);
    return { version, created: true, diagnostics, retiered: 0 };
  });
  if (!published.created) return published;
  return { ...published, retiered: await rederiveTiers(prisma, merchantId, program) };
}

/**
 * After a publish, every member's tier under the new version (carryOver), so
 * that `tier` and the `members(tier:)` filter never show the old program's.
 * Runs after the version is active, page by page; a member written in the
 * meantime was evaluated under the new version by its write, and the
 * version check leaves it alone. Returns how many members changed tier.
 */
export async function rederiveTiers(prisma: PrismaClient, merchantId: string, program: Program): Promise<number> {
  if (program.tiers.length === 0) return 0;
  let changed = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await prisma.$queryRaw<{ id: string; state: MemberState; version: number }[]>`
      SELECT id::text AS "id", state, version FROM members
       WHERE merchant_id = ${merchantId}::uuid AND id > ${after}::uuid
       ORDER BY id LIMIT 1000`;
    if (page.length === 0) return changed;
    after = page[page.length - 1]!.id;
    for (const row of page) {
      try {
        // A state this engine cannot read is reported by the member's next write or advanceTime run.
        if (!carryOver(program, row.state)) continue;
      } catch {
        continue;
      }
      const due = nextDue(program, row.state);
      const { count } = await prisma.member.updateMany({
        where: { id: row.id, merchantId, version: row.version },
        data: {
          state: row.state as unknown as Prisma.InputJsonValue,
          tier: memberView(program, row.state, row.state.at).tier?.name ?? null,
          nextDueAt: due === null ? null : new Date(due),
          version: { increment: 1 },
        },
      });
      changed += count;
    }
  }
}
