// The audit log of admin actions: who (the API key, by id and label) did
// what (the mutation's name) to what (a member id, a key id, a program
// version), with details that are never personal data. recordAudit writes
// one entry; call it inside the action's transaction when it has one, so
// the entry and the change commit together.
import type { Prisma, PrismaClient } from '@prisma/client';
import type { Credential } from './auth.ts';
import type { Tx } from './transaction.ts';

/** The admin mutations the log records. */
export type AuditAction =
  | 'createApiKey'
  | 'revokeApiKey'
  | 'rotateMemberTokenSecret'
  | 'publishProgram'
  | 'advanceTime'
  | 'updateMember'
  | 'eraseMember'
  | 'adjustPoints';

/** The actions whose target is a member id. */
export const MEMBER_ACTIONS: AuditAction[] = ['updateMember', 'eraseMember', 'adjustPoints'];

/** Who acts: what a request's context carries (the GraphQL Context is one). */
export interface AuditActor {
  credential: Credential | null;
  /** Who acts without a key: the command line (`npm run key`), say. */
  label?: string;
}

/** The admin commands of the command line (`npm run key`), which act without a key. */
export const COMMAND_LINE: AuditActor = { credential: null, label: 'command line' };

/** How an actor is named in the log and on the entries it makes: the key's label, else its prefix. */
export function actorLabel(ctx: AuditActor): string | null {
  const credential = ctx.credential;
  if (credential?.kind === 'key') return credential.label ?? credential.prefix;
  return ctx.label ?? null;
}

/**
 * Writes one audit entry for the credential's merchant (or `merchantId`,
 * which an actor without a credential, such as the command line, needs).
 */
export async function recordAudit(
  tx: Tx | PrismaClient,
  ctx: AuditActor,
  action: AuditAction,
  target: string | null,
  details: Record<string, Prisma.InputJsonValue | null> = {},
  merchantId?: string,
): Promise<void> {
  const credential = ctx.credential;
  const merchant = merchantId ?? credential?.merchant.id;
  if (!merchant) throw new Error(`recordAudit(${action}) without a merchant`);
  const key = credential?.kind === 'key' ? credential : null;
  await tx.auditEntry.create({
    data: {
      merchantId: merchant,
      actorKeyId: key?.keyId ?? null,
      actorLabel: actorLabel(ctx),
      action,
      target,
      details: details as Prisma.InputJsonObject,
    },
  });
}

/** After an erasure: entries that named the member by its old id name it by its pseudonym. */
export async function renameAuditTarget(tx: Tx, merchantId: string, from: string, to: string): Promise<void> {
  await tx.auditEntry.updateMany({ where: { merchantId, target: from, action: { in: MEMBER_ACTIONS } }, data: { target: to } });
}
