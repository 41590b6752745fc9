// The commands of the local admin CLIs (merchant:create, key). Each runs
// with a Prisma client: in the CLI's own process when it may open the
// database, or in the running server's process through the admin channel
// (channel.ts) when the server holds the embedded database. Arguments and
// results are JSON, so both paths run exactly this code.
import type { PrismaClient } from '@prisma/client';
import { z } from 'zod';
import { renderDiagnostic } from '../engine.ts';
import { COMMAND_LINE } from '../services/audit.ts';
import { KEY_SCOPES, listApiKeys, newApiKey, revokeApiKey } from '../services/auth.ts';
import { ProgramInvalidError } from '../services/errors.ts';
import { createMerchant } from '../services/merchants.ts';
import { verifyAll, verifyMerchant } from '../services/verify.ts';

/** A failure a CLI prints as it is: a message and, for a broken program, its rendered diagnostics. */
export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly lines: string[] = [],
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}

/** A key as the CLIs print it (never the key itself). */
export interface KeyView {
  id: string;
  prefix: string;
  scope: string;
  label: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const view = (k: Awaited<ReturnType<typeof listApiKeys>>[number]): KeyView => ({
  id: k.id,
  prefix: k.prefix,
  scope: k.scope,
  label: k.label,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** The merchant given, or the only one there is. */
async function merchantOf(prisma: PrismaClient, id: string | undefined): Promise<{ id: string; name: string }> {
  if (id) {
    const merchant = z.uuid().safeParse(id).success ? await prisma.merchant.findUnique({ where: { id } }) : null;
    if (!merchant) throw new CommandFailed(`no merchant ${id}`);
    return merchant;
  }
  const merchants = await prisma.merchant.findMany({ take: 2, select: { id: true, name: true } });
  if (merchants.length === 1) return merchants[0]!;
  throw new CommandFailed(merchants.length ? 'there are several merchants: give --merchant <id>' : 'there is no merchant yet: npm run merchant:create -- --name ...');
}

const scope = z.enum(KEY_SCOPES as [string, ...string[]]).transform((s) => s as (typeof KEY_SCOPES)[number]);

const definitions = {
  'merchant.create': {
    args: z.object({ name: z.string().trim().min(1).max(200), program: z.string().optional(), sandbox: z.boolean().optional() }),
    async run(prisma: PrismaClient, args: { name: string; program?: string | undefined; sandbox?: boolean | undefined }) {
      try {
        const created = await createMerchant(prisma, args.name, args.program, { sandbox: args.sandbox ?? false });
        return { merchant: { id: created.id, name: created.name, sandbox: args.sandbox ?? false }, key: created.apiKey };
      } catch (error) {
        if (error instanceof ProgramInvalidError) {
          throw new CommandFailed(error.message, error.diagnostics.map((d) => renderDiagnostic(d, error.source, { color: false })));
        }
        throw error;
      }
    },
  },
  'key.create': {
    args: z.object({ merchant: z.string().optional(), scope, label: z.string().max(100).optional() }),
    async run(prisma: PrismaClient, args: { merchant?: string | undefined; scope: (typeof KEY_SCOPES)[number]; label?: string | undefined }) {
      const merchant = await merchantOf(prisma, args.merchant);
      const { key, record } = await newApiKey(prisma, merchant.id, { scope: args.scope, label: args.label ?? null }, COMMAND_LINE);
      return { merchant, key, apiKey: view(record) };
    },
  },
  'key.list': {
    args: z.object({ merchant: z.string().optional() }),
    async run(prisma: PrismaClient, args: { merchant?: string | undefined }) {
      const merchant = await merchantOf(prisma, args.merchant);
      return { merchant, keys: (await listApiKeys(prisma, merchant.id)).map(view) };
    },
  },
  'key.revoke': {
    args: z.object({ merchant: z.string().optional(), key: z.string().min(1) }),
    async run(prisma: PrismaClient, args: { merchant?: string | undefined; key: string }) {
      const merchant = await merchantOf(prisma, args.merchant);
      return { merchant, apiKey: view(await revokeApiKey(prisma, merchant.id, args.key, COMMAND_LINE)) };
    },
  },
  'db.verify': {
    args: z.object({ merchant: z.string().optional() }),
    async run(prisma: PrismaClient, args: { merchant?: string | undefined }) {
      if (args.merchant) return { reports: [await verifyMerchant(prisma, (await merchantOf(prisma, args.merchant)).id)] };
      return { reports: await verifyAll(prisma) };
    },
  },
} as const;

export type CommandName = keyof typeof definitions;
export const COMMAND_NAMES = Object.keys(definitions) as CommandName[];

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(definitions, name);
}

/** Runs a command; bad arguments and expected failures are CommandFailed. */
export async function runCommand(prisma: PrismaClient, name: CommandName, args: unknown): Promise<unknown> {
  const definition = definitions[name];
  const parsed = definition.args.safeParse(args);
  if (!parsed.success) throw new CommandFailed(parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; '));
  try {
    // Each definition's run takes its own args' shape.
    return await (definition.run as (prisma: PrismaClient, args: unknown) => Promise<unknown>)(prisma, parsed.data);
  } catch (error) {
    if (error instanceof CommandFailed) throw error;
    const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
    if (typeof code === 'string') throw new CommandFailed((error as Error).message);
    throw error;
  }
}
