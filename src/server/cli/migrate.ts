// npm run db:migrate — applies prisma/migrations to DATABASE_URL, or to the embedded database.
import { readConfig } from '../config.ts';
import { startEmbedded } from '../db/embedded.ts';
import { migrate } from '../db/migrate.ts';

const config = readConfig();
const embedded = config.DATABASE_URL ? null : await startEmbedded(config.LOYALTY_DATA_DIR);
try {
  const { applied } = await migrate(config.DATABASE_URL ?? embedded!.url);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await embedded?.stop();
}
