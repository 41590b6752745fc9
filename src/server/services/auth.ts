// Credentials: API keys with a scope, and member tokens.
//
// API keys are random, shown once, stored as SHA-256. Keys have ~190 bits of
// entropy, so a fast hash with a unique index is the right lookup (a slow
// password hash protects guessable secrets, which these are not).
//
// Member tokens are JWTs (HS256, jose) that a `write` key asks for and hands
// to one member's browser or app. The signing secret is per merchant and lives
// in the database (member_token_secrets), so every server process on the same
// PostgreSQL verifies what any other one issued. A token expires (`exp`, at
// most MAX_MEMBER_TOKEN_TTL); revoking a member's tokens moves the member's
// token generation on (member_token_generations), and rotating the merchant's
// secret revokes every token at once.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKey, ApiKeyScope, PrismaClient } from '@prisma/client';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { poolOf } from '../db/index.ts';
import { recordAudit, type AuditActor } from './audit.ts';
import { DomainError } from './errors.ts';
import type { Tx } from './transaction.ts';

const KEY_PREFIX = 'lk_';
const TOKEN_ISSUER = 'loyalty';
export const DEFAULT_MEMBER_TOKEN_TTL = 3600;
export const MIN_MEMBER_TOKEN_TTL = 60;
export const MAX_MEMBER_TOKEN_TTL = 7 * 24 * 3600;

export type KeyScope = ApiKeyScope;
export const KEY_SCOPES: readonly KeyScope[] = ['admin', 'write', 'read'];

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface NewApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  record: ApiKey;
}

export async function newApiKey(
  prisma: PrismaClient,
  merchantId: string,
  options: { scope: KeyScope; label?: string | null },
  /** Who creates it, for the audit log (an admin request); none for the merchant's first key. */
  actor?: AuditActor,
): Promise<NewApiKey> {
  const label = options.label?.trim() || null;
  if (label && label.length > 100) throw new DomainError('BAD_USER_INPUT', 'a key label has at most 100 characters');
  const key = KEY_PREFIX + randomBytes(24).toString('base64url');
  return prisma.$transaction(async (tx) => {
    const record = await tx.apiKey.create({
      data: { merchantId, prefix: key.slice(0, 10), hash: hashApiKey(key), label, scope: options.scope },
    });
    if (actor) await recordAudit(tx, actor, 'createApiKey', record.id, { scope: record.scope, label, prefix: record.prefix }, merchantId);
    return { key, record };
  });
}

/** A new key for the merchant; the merchant's first key (label given by the caller) is an admin key. */
export async function createApiKey(
  prisma: PrismaClient,
  merchantId: string,
  label: string | null = null,
  scope: KeyScope = 'admin',
): Promise<string> {
  return (await newApiKey(prisma, merchantId, { scope, label })).key;
}

export function listApiKeys(prisma: PrismaClient, merchantId: string): Promise<ApiKey[]> {
  return prisma.apiKey.findMany({ where: { merchantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** Revokes one of the merchant's keys, by id or by its prefix (`lk_AbCdEfG`). Revoking twice is harmless. */
export async function revokeApiKey(prisma: PrismaClient, merchantId: string, idOrPrefix: string, actor?: AuditActor): Promise<ApiKey> {
  const where = UUID.test(idOrPrefix) ? { id: idOrPrefix } : { prefix: idOrPrefix };
  const matches = await prisma.apiKey.findMany({ where: { merchantId, ...where } });
  if (matches.length === 0) throw new DomainError('NOT_FOUND', `no API key "${idOrPrefix}"`);
  if (matches.length > 1) throw new DomainError('BAD_USER_INPUT', `several keys start with "${idOrPrefix}": give the key's id`);
  const key = matches[0]!;
  if (key.revokedAt) return key;
  return prisma.$transaction(async (tx) => {
    const revoked = await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    if (actor) await recordAudit(tx, actor, 'revokeApiKey', key.id, { label: key.label, prefix: key.prefix }, merchantId);
    return revoked;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ------------------------------------------------------------------ authentication

export interface AuthenticatedMerchant {
  id: string;
  name: string;
}

/** Who is calling: a merchant's API key, or one member's token. */
export type Credential =
  | { kind: 'key'; keyId: string; prefix: string; label: string | null; scope: KeyScope; merchant: AuthenticatedMerchant }
  | { kind: 'member'; tokenId: string; memberId: string; expiresAt: number; merchant: AuthenticatedMerchant };

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired';

export type AuthResult = { ok: true; credential: Credential } | { ok: false; failure: AuthFailure; message: string };

const FAILURE_MESSAGES: Record<AuthFailure, string> = {
  missing: 'send an API key or a member token as `Authorization: Bearer <credential>`',
  malformed: 'the Authorization header must be `Bearer <credential>`',
  unknown: 'unknown credential',
  revoked: 'this credential was revoked',
  expired: 'this member token has expired',
};

/** The refusal of a credential, with its message. */
export const fail = (failure: AuthFailure): AuthResult => ({ ok: false, failure, message: FAILURE_MESSAGES[failure] });

export type KeyCredential = Extract<Credential, { kind: 'key' }>;

/**
 * API keys this process has found valid, by the header that carried them:
 * what a request with one may do before its key row is read again (the
 * HTTP layer's lazy check, http/authentication.ts). Only found keys are
 * kept, and a key that a later check finds revoked or gone is dropped.
 * Bounded: past `max` keys the oldest goes.
 */
export class KnownKeys {
  private readonly byHeader = new Map<string, KeyCredential>();

  constructor(private readonly max = 10_000) {}

  get(authorization: string | null): KeyCredential | undefined {
    return authorization === null ? undefined : this.byHeader.get(authorization);
  }

  remember(authorization: string, credential: KeyCredential): void {
    if (this.byHeader.size >= this.max) this.byHeader.delete(this.byHeader.keys().next().value!);
    this.byHeader.set(authorization, credential);
  }

  forget(authorization: string | null): void {
    if (authorization !== null) this.byHeader.delete(authorization);
  }
}

/**
 * A key to verify in a write's own first statement instead of a lookup of
 * its own (recordOrder's lock statement reads the key row): the statement
 * reports what it found, and a write whose key is not valid writes nothing.
 */
export interface KeyToVerify {
  keyId: string;
  found(state: 'valid' | 'revoked' | 'unknown'): void;
}

/** Reads `Authorization: Bearer <key or member token>`. Database errors propagate (the caller answers 503). */
export async function authenticate(prisma: PrismaClient, authorization: string | null, now = Date.now()): Promise<AuthResult> {
  if (!authorization) return fail('missing');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const credential = match?.[1];
  if (!credential || credential.length > 2000) return fail('malformed');
  if (credential.startsWith(KEY_PREFIX)) return authenticateKey(prisma, credential);
  if (credential.split('.').length === 3) return authenticateMemberToken(prisma, credential, now);
  return fail('unknown');
}

async function authenticateKey(prisma: PrismaClient, key: string): Promise<AuthResult> {
  if (key.length > 200) return fail('unknown');
  // One statement with its merchant (Prisma's include would be two): it is on every request, so
  // it is plain SQL on the pool (Prisma's raw-query mapping was ~0.4 ms of CPU per request).
  const { rows } = await poolOf(prisma).query<{ id: string; prefix: string; label: string | null; scope: KeyScope; revokedAt: Date | null; merchantId: string; merchantName: string }>({
    // Prepared once per connection.
    name: 'loyalty_api_key',
    text: `SELECT k.id::text AS "id", k.prefix, k.label, k.scope::text AS "scope", k.revoked_at AS "revokedAt", m.id::text AS "merchantId", m.name AS "merchantName"
             FROM api_keys k JOIN merchants m ON m.id = k.merchant_id
            WHERE k.hash = $1`,
    values: [hashApiKey(key)],
  });
  const found = rows[0];
  if (!found) return fail('unknown');
  if (found.revokedAt) return fail('revoked');
  const { id, prefix, label, scope, merchantId, merchantName } = found;
  return { ok: true, credential: { kind: 'key', keyId: id, prefix, label, scope, merchant: { id: merchantId, name: merchantName } } };
}

interface TokenClaims {
  sub: string;
  aud: string;
  gen: number;
  jti: string;
  exp: number;
}

async function authenticateMemberToken(prisma: PrismaClient, token: string, now: number): Promise<AuthResult> {
  let kid: string | undefined;
  let subject: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
    subject = decodeJwt(token).sub;
  } catch {
    return fail('unknown');
  }
  if (!kid || !UUID.test(kid) || !subject) return fail('unknown');
  // One query: the secret named by the token, its merchant, and the member's
  // current token generation (the subject is trusted only after verification).
  const rows = await prisma.$queryRaw<{ secret: string; retired: boolean; merchant_id: string; merchant_name: string; generation: number | null }[]>`
    SELECT s.secret, s.retired_at IS NOT NULL AS retired, m.id AS merchant_id, m.name AS merchant_name, g.generation
      FROM member_token_secrets s
      JOIN merchants m ON m.id = s.merchant_id
      LEFT JOIN member_token_generations g ON g.merchant_id = s.merchant_id AND g.member_id = ${subject}
     WHERE s.id = ${kid}::uuid`;
  const row = rows[0];
  if (!row) return fail('unknown');
  let claims: TokenClaims;
  try {
    const verified = await jwtVerify<TokenClaims>(token, Buffer.from(row.secret, 'base64url'), {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: row.merchant_id,
      requiredClaims: ['sub', 'exp', 'jti', 'gen'],
      currentDate: new Date(now),
    });
    claims = verified.payload as TokenClaims;
  } catch (error) {
    return fail(error instanceof joseErrors.JWTExpired ? 'expired' : 'unknown');
  }
  if (row.retired || claims.gen !== (row.generation ?? 0)) return fail('revoked');
  return {
    ok: true,
    credential: {
      kind: 'member',
      tokenId: claims.jti,
      memberId: claims.sub,
      expiresAt: claims.exp * 1000,
      merchant: { id: row.merchant_id, name: row.merchant_name },
    },
  };
}

// ------------------------------------------------------------------ member tokens

async function signingSecret(prisma: PrismaClient, merchantId: string): Promise<{ id: string; secret: string }> {
  const current = await prisma.memberTokenSecret.findFirst({
    where: { merchantId, retiredAt: null },
    orderBy: { createdAt: 'desc' },
    select: { id: true, secret: true },
  });
  // Two processes creating the first secret at once make two: both verify, the newest signs.
  return current ?? prisma.memberTokenSecret.create({ data: { merchantId, secret: randomBytes(32).toString('base64url') } });
}

export interface MemberToken {
  token: string;
  expiresAt: number;
}

/** A token for one existing member of the merchant, valid for `ttlSeconds`. */
export async function createMemberToken(
  prisma: PrismaClient,
  merchantId: string,
  memberId: string,
  ttlSeconds: number = DEFAULT_MEMBER_TOKEN_TTL,
  now = Date.now(),
): Promise<MemberToken> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_MEMBER_TOKEN_TTL || ttlSeconds > MAX_MEMBER_TOKEN_TTL) {
    throw new DomainError('BAD_USER_INPUT', `ttl is a whole number of seconds from ${MIN_MEMBER_TOKEN_TTL} to ${MAX_MEMBER_TOKEN_TTL}`, {
      min: MIN_MEMBER_TOKEN_TTL,
      max: MAX_MEMBER_TOKEN_TTL,
    });
  }
  const member = await prisma.member.findUnique({ where: { merchantId_externalId: { merchantId, externalId: memberId } }, select: { id: true } });
  if (!member) throw new DomainError('NOT_FOUND', `unknown member "${memberId}"`);
  const [secret, generation] = await Promise.all([
    signingSecret(prisma, merchantId),
    prisma.memberTokenGeneration.findUnique({ where: { merchantId_memberId: { merchantId, memberId } }, select: { generation: true } }),
  ]);
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const token = await new SignJWT({ gen: generation?.generation ?? 0 })
    .setProtectedHeader({ alg: 'HS256', kid: secret.id, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(merchantId)
    .setSubject(memberId)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(Buffer.from(secret.secret, 'base64url'));
  return { token, expiresAt: expiresAt * 1000 };
}

/** Every token issued so far for this member stops working; new ones work. */
export async function revokeMemberTokens(prisma: PrismaClient | Tx, merchantId: string, memberId: string): Promise<void> {
  await prisma.memberTokenGeneration.upsert({
    where: { merchantId_memberId: { merchantId, memberId } },
    create: { merchantId, memberId, generation: 1 },
    update: { generation: { increment: 1 } },
  });
}

/** Retires the merchant's signing secrets (every member token stops working) and starts a new one. */
export async function rotateMemberTokenSecret(prisma: PrismaClient, merchantId: string, actor?: AuditActor): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.memberTokenSecret.updateMany({ where: { merchantId, retiredAt: null }, data: { retiredAt: new Date() } });
    await tx.memberTokenSecret.create({ data: { merchantId, secret: randomBytes(32).toString('base64url') } });
    if (actor) await recordAudit(tx, actor, 'rotateMemberTokenSecret', null, {}, merchantId);
  });
}

// ------------------------------------------------------------------ last use of keys

/**
 * Remembers when each key was last used and writes it in one statement per
 * flush, so authenticating a request never waits for a write. `lastUsedAt`
 * is therefore up to one flush interval behind.
 */
export class KeyUsage {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  touch(keyId: string, at = Date.now()): void {
    this.pending.set(keyId, at);
  }

  /** Flushes every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.flush().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const ids = [...this.pending.keys()];
    const times = ids.map((id) => new Date(this.pending.get(id)!));
    this.pending.clear();
    await this.prisma.$executeRaw`
      UPDATE api_keys k SET last_used_at = u.at
        FROM unnest(${ids}::uuid[], ${times}::timestamptz[]) AS u(id, at)
       WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`;
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
