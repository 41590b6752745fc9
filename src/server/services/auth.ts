// API keys: random, shown once, stored as SHA-256. Keys have ~190 bits of
// entropy, so a fast hash with a unique index is the right lookup (a slow
// password hash protects guessable secrets, which these are not).
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '@prisma/client';

const KEY_PREFIX = 'lk_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey(
  prisma: PrismaClient,
  merchantId: string,
  label: string | null = null,
): Promise<string> {
  const key = KEY_PREFIX + randomBytes(24).toString('base64url');
  await prisma.apiKey.create({
    data: { merchantId, prefix: key.slice(0, 10), hash: hashApiKey(key), label },
  });
  return key;
}

export interface AuthenticatedMerchant {
  id: string;
  name: string;
}

/** The merchant of `Authorization: Bearer <key>`, or null. */
export async function authenticate(
  prisma: PrismaClient,
  authorization: string | null,
): Promise<AuthenticatedMerchant | null> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]?.startsWith(KEY_PREFIX) || match[1].length > 200) return null;
  const key = await prisma.apiKey.findUnique({
    where: { hash: hashApiKey(match[1]) },
    select: { revokedAt: true, merchant: { select: { id: true, name: true } } },
  });
  if (!key || key.revokedAt) return null;
  return key.merchant;
}
