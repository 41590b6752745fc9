// Webhook endpoints of a merchant (admin): create, list, update, delete; the
// signature every delivery carries; and redelivery of one delivery.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '@prisma/client';
import { z } from 'zod';
import { DomainError } from './errors.ts';
import { NOTIFICATION_TYPES } from './notifications.ts';

export const MAX_ENDPOINTS = 20;

const url = z.url({ protocol: /^https?$/, message: 'an http:// or https:// URL' }).max(2000);
const secret = z.string().min(16, 'at least 16 characters').max(200);
/** Reminder lead time: whole days, up to a quarter. */
export const MAX_REMINDER_DAYS = 90;
const reminderDays = z.int().min(1, 'at least 1 day').max(MAX_REMINDER_DAYS, `at most ${MAX_REMINDER_DAYS} days`);
const types = z.array(z.enum(NOTIFICATION_TYPES)).max(NOTIFICATION_TYPES.length);

function check<T>(schema: z.ZodType<T>, field: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('BAD_USER_INPUT', `${field}: ${parsed.error.issues[0]!.message}`, { field });
  return parsed.data;
}

export interface EndpointInput {
  url?: string | null;
  types?: readonly string[] | null;
  secret?: string | null;
  enabled?: boolean | null;
  reminderDays?: number | null;
}

export async function createEndpoint(prisma: PrismaClient, merchantId: string, input: EndpointInput & { url: string }) {
  const count = await prisma.webhookEndpoint.count({ where: { merchantId } });
  if (count >= MAX_ENDPOINTS) throw new DomainError('BAD_USER_INPUT', `a merchant has at most ${MAX_ENDPOINTS} webhook endpoints`, { limit: MAX_ENDPOINTS });
  return prisma.webhookEndpoint.create({
    data: {
      id: randomUUID(),
      merchantId,
      url: check(url, 'url', input.url),
      types: [...new Set(check(types, 'types', input.types ?? []))],
      secret: input.secret == null ? `whsec_${randomBytes(24).toString('base64url')}` : check(secret, 'secret', input.secret),
      enabled: input.enabled ?? true,
      reminderDays: input.reminderDays == null ? 7 : check(reminderDays, 'reminderDays', input.reminderDays),
    },
  });
}

export async function listEndpoints(prisma: PrismaClient, merchantId: string) {
  return prisma.webhookEndpoint.findMany({ where: { merchantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

async function endpointOf(prisma: PrismaClient, merchantId: string, id: string) {
  const found = z.uuid().safeParse(id).success ? await prisma.webhookEndpoint.findFirst({ where: { id, merchantId } }) : null;
  if (!found) throw new DomainError('NOT_FOUND', `no webhook endpoint "${id}"`);
  return found;
}

export async function updateEndpoint(prisma: PrismaClient, merchantId: string, id: string, input: EndpointInput) {
  await endpointOf(prisma, merchantId, id);
  return prisma.webhookEndpoint.update({
    where: { id },
    data: {
      ...(input.url != null ? { url: check(url, 'url', input.url) } : {}),
      ...(input.types != null ? { types: [...new Set(check(types, 'types', input.types))] } : {}),
      ...(input.secret != null ? { secret: check(secret, 'secret', input.secret) } : {}),
      ...(input.enabled != null ? { enabled: input.enabled } : {}),
      ...(input.reminderDays != null ? { reminderDays: check(reminderDays, 'reminderDays', input.reminderDays) } : {}),
      updatedAt: new Date(),
    },
  });
}

/** Deletes the endpoint and its deliveries (pending ones are never sent). */
export async function deleteEndpoint(prisma: PrismaClient, merchantId: string, id: string): Promise<boolean> {
  await endpointOf(prisma, merchantId, id);
  await prisma.webhookEndpoint.delete({ where: { id } });
  return true;
}

/** Sends a delivery again as soon as the worker polls, whatever became of it (a new round of retries). */
export async function redeliver(prisma: PrismaClient, merchantId: string, deliveryId: string) {
  const id = /^\d{1,19}$/.test(deliveryId) ? BigInt(deliveryId) : null;
  const found = id === null ? null : await prisma.delivery.findFirst({ where: { id, merchantId }, select: { id: true } });
  if (!found) throw new DomainError('NOT_FOUND', `no delivery "${deliveryId}"`);
  return prisma.delivery.update({
    where: { id: found.id },
    data: { status: 'pending', nextAttemptAt: new Date(), attempts: 0, createdAt: new Date(), deliveredAt: null },
  });
}

// ---------------------------------------------------------------- signatures

/** The `Loyalty-Signature` header of `body` sent at `timestamp` (unix seconds): `t=<timestamp>,v1=<hex HMAC-SHA256 of "timestamp.body">`. */
export function signature(secretText: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretText).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Checks a `Loyalty-Signature` header as a receiver should (docs/webhooks.md):
 * some v1 matches, and the timestamp is within `toleranceSeconds` of now.
 */
export function verifySignature(header: string, body: string, secretText: string, toleranceSeconds = 300, now = Date.now()): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secretText).update(`${t}.${body}`).digest('hex'));
  return parts.some(([k, v]) => k === 'v1' && v !== undefined && v.length === expected.length && timingSafeEqual(Buffer.from(v), expected));
}
