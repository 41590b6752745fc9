// Merchants: creation (with a first API key and optionally a program) and the demo merchant.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PrismaClient } from '@prisma/client';
import { createApiKey } from './auth.ts';
import { ProgramInvalidError } from './errors.ts';
import { compileSource, publishProgram } from './programs.ts';

export const DEMO_MERCHANT_NAME = 'Demo: Bean & Leaf';
export const DEMO_PROGRAM = fileURLToPath(new URL('../../../examples/coffee-chain.loyalty', import.meta.url));

export interface CreatedMerchant {
  id: string;
  name: string;
  apiKey: string;
}

export async function createMerchant(
  prisma: PrismaClient,
  name: string,
  programSource?: string,
  options: { sandbox?: boolean } = {},
): Promise<CreatedMerchant> {
  if (programSource !== undefined) {
    // Refuse a broken program before anything is created.
    const { program, diagnostics } = compileSource(programSource);
    if (!program) throw new ProgramInvalidError(diagnostics, programSource);
  }
  const merchant = await prisma.merchant.create({ data: { name, sandbox: options.sandbox ?? false } });
  if (programSource !== undefined) await publishProgram(prisma, merchant.id, programSource);
  const apiKey = await createApiKey(prisma, merchant.id, 'created with the merchant');
  return { id: merchant.id, name: merchant.name, apiKey };
}

/** On an empty database, creates the demo merchant with the coffee example; null otherwise. */
export async function ensureDemoMerchant(prisma: PrismaClient): Promise<CreatedMerchant | null> {
  if ((await prisma.merchant.count()) > 0) return null;
  return createMerchant(prisma, DEMO_MERCHANT_NAME, readFileSync(DEMO_PROGRAM, 'utf8'));
}
