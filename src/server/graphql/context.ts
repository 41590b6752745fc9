// The per-request context: the request's credential (an API key or a member
// token, authenticated before the operation is parsed), the database, and
// per-request loaders (so one request reads the active program once and
// computes each member's view once).
import type { PrismaClient } from '@prisma/client';
import type { Logger } from 'pino';
import DataLoader from 'dataloader';
import { memberView, type MemberState, type MemberView } from '../engine.ts';
import type { AuthenticatedMerchant, Credential, KeyToVerify } from '../services/auth.ts';
import { DomainError } from '../services/errors.ts';
import { DEFAULT_MAX_FUTURE_MS, type Scope } from '../services/members.ts';
import { findActiveProgram, type ActiveProgram } from '../services/programs.ts';

/** What a member view is computed from: a members row (version and clock when selected). */
export interface ViewedMember {
  id: string;
  merchantId: string;
  state: unknown;
  version?: number;
  lastEventAt?: Date;
}

export interface Context {
  prisma: PrismaClient;
  /** Who is calling; null only for a context made outside an authenticated request. */
  credential: Credential | null;
  /** The credential's merchant. */
  merchant: AuthenticatedMerchant | null;
  /** The active program of a merchant (null when none is published), batched per request. */
  programs: DataLoader<string, ActiveProgram | null>;
  /** memberView at `at`, computed once per member and time in a request. */
  view(member: ViewedMember, at?: number): Promise<MemberView | null>;
  /** The request's notion of now, fixed for the whole request. */
  now: number;
  /** How far ahead of now a write may be dated (LOYALTY_MAX_FUTURE_SKEW_MS). */
  maxFutureMs: number;
  /** The server's logger (silent in tests that do not give one). */
  logger: Logger | null;
  /** How often a subscription looks for new notifications (ms). */
  feedPollMs: number;
  /** The API key that recordOrder verifies in its lock statement (http/authentication.ts), once the operation is known; null: checked already. */
  keyToVerify(): KeyToVerify | null;
}

/** The default of Context.feedPollMs. */
export const FEED_POLL_MS = 500;

export function createContext(
  prisma: PrismaClient,
  credential: Credential | null,
  options: { maxFutureMs?: number | undefined; logger?: Logger | undefined; feedPollMs?: number | undefined; keyToVerify?: () => KeyToVerify | null } = {},
): Context {
  const programs = new DataLoader<string, ActiveProgram | null>(
    // One query per distinct merchant; a request only ever has one.
    (merchantIds) => Promise.all(merchantIds.map((id) => findActiveProgram(prisma, id))),
  );
  const views = new Map<string, MemberView | null>();
  const now = Date.now();
  return {
    prisma,
    credential,
    merchant: credential?.merchant ?? null,
    programs,
    now,
    maxFutureMs: options.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS,
    logger: options.logger ?? null,
    feedPollMs: options.feedPollMs ?? FEED_POLL_MS,
    keyToVerify: options.keyToVerify ?? (() => null),
    async view(member, given) {
      // By default "now", and never before the member's own clock: a write
      // in this request is dated when it got the member's lock, after the
      // request started, and its result must show what it did.
      const at = given ?? Math.max(now, member.lastEventAt?.getTime() ?? 0);
      // Keyed by the state's version too: a write in this request changes it.
      const key = `${member.id}:${member.version ?? ''}@${at}`;
      if (!views.has(key)) {
        const active = await programs.load(member.merchantId);
        views.set(key, active ? memberView(active.program, member.state as MemberState, at) : null);
      }
      return views.get(key) ?? null;
    },
  };
}

/** The authenticated merchant's id, or an UNAUTHENTICATED error (the HTTP layer refuses such requests first). */
export function merchantId(ctx: Context): string {
  if (!ctx.merchant) {
    throw new DomainError('UNAUTHENTICATED', 'send a valid API key as `Authorization: Bearer <key>`');
  }
  return ctx.merchant.id;
}

/** What the services need of a request: the database, the merchant, and the limits on writes. */
export function scopeOf(ctx: Context): Scope {
  return { prisma: ctx.prisma, merchantId: merchantId(ctx), maxFutureMs: ctx.maxFutureMs };
}
