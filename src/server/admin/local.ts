// How a CLI runs an admin command: with DATABASE_URL, on that database
// (PostgreSQL takes any number of processes); on the embedded database, through
// the running server's admin channel when a server holds the data directory,
// otherwise by opening the directory itself.
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { lockHolder } from '../db/lock.ts';
import { callAdminChannel } from './channel.ts';
import { runCommand, type CommandName } from './commands.ts';

export async function runAdminCommand(config: Config, name: CommandName, args: unknown): Promise<{ result: unknown; via: string }> {
  if (!config.DATABASE_URL) {
    const dataDir = resolve(config.LOYALTY_DATA_DIR);
    const holder = lockHolder(dataDir);
    if (holder !== null) return { result: await callAdminChannel(dataDir, name, args), via: `the running server (pid ${holder})` };
  }
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.LOYALTY_DATA_DIR, poolSize: 2 });
  try {
    return { result: await runCommand(db.prisma, name, args), via: db.embedded ? 'the embedded database' : 'DATABASE_URL' };
  } finally {
    await db.close();
  }
}
