// Starts the server: database (embedded PGlite or DATABASE_URL), migrations,
// the demo merchant on first start, the optional advanceTime schedule, and
// HTTP. Everything it serves is in yoga.ts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readConfig } from './config.ts';
import { openDatabase } from './db/index.ts';
import { ensureDemoMerchant } from './services/merchants.ts';
import { startAdvanceSchedule } from './services/schedule.ts';
import { createApp } from './yoga.ts';

const config = readConfig();
const db = await openDatabase({
  databaseUrl: config.DATABASE_URL,
  dataDir: config.LOYALTY_DATA_DIR,
  poolSize: config.LOYALTY_DB_POOL,
});
console.log(db.embedded ? `Database: embedded PGlite in ${config.LOYALTY_DATA_DIR}` : 'Database: DATABASE_URL');

// The demo merchant is for a first try on the embedded database only: a
// PostgreSQL given by DATABASE_URL is a real deployment, where merchants are
// created on purpose (npm run merchant:create).
const demo = db.embedded && config.LOYALTY_DEMO === '1' ? await ensureDemoMerchant(db.prisma) : null;
const app = createApp(db, {
  maxBodyBytes: config.LOYALTY_MAX_BODY_BYTES,
  corsOrigins: config.LOYALTY_CORS_ORIGINS,
  graphiql: config.LOYALTY_GRAPHIQL === '1',
  rateLimit: config.LOYALTY_RATE_LIMIT > 0 ? { perSecond: config.LOYALTY_RATE_LIMIT, burst: config.LOYALTY_RATE_BURST } : null,
});
const stopSchedule = config.LOYALTY_ADVANCE_INTERVAL_MS > 0 ? startAdvanceSchedule(db.prisma, config.LOYALTY_ADVANCE_INTERVAL_MS) : null;

const server = createServer(app);
// Keep idle connections longer than clients and proxies commonly do (60 s), so
// that the server is never the one closing a socket a client is about to reuse.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(config.PORT, config.HOST, () => {
  const { port } = server.address() as AddressInfo;
  if (demo) {
    console.log(`Demo merchant "${demo.name}" created with the coffee-chain program.`);
    console.log(`API key: ${demo.apiKey}`);
  }
  console.log(`GraphiQL: http://localhost:${port}/graphql`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  stopSchedule?.();
  server.close();
  server.closeAllConnections();
  await db.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
