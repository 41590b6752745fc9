// Starts the server: database (embedded PGlite, locked for this process, or
// DATABASE_URL), migrations, the demo merchant on a first embedded start, the
// local admin channel, the optional advanceTime schedule, and HTTP. What it
// serves is in yoga.ts. The terminal gets a few plain lines (where to go, and
// the demo key); stdout gets the structured log (JSON lines, pino).
//
// SIGTERM/SIGINT drain: /health turns 503 at once, the listener closes after
// LOYALTY_DRAIN_DELAY_MS, requests in flight finish (up to
// LOYALTY_DRAIN_TIMEOUT_MS), the webhook worker finishes the requests it has
// in flight, then key usage is flushed and the pool closed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { startAdminChannel, type AdminChannel } from './admin/channel.ts';
import { readConfig } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { DataDirectoryLocked } from './db/lock.ts';
import { KeyUsage } from './services/auth.ts';
import { startDeliveryWorker } from './services/delivery.ts';
import { ensureDemoMerchant } from './services/merchants.ts';
import { startAdvanceSchedule } from './services/schedule.ts';
import { createApp } from './yoga.ts';

const config = readConfig();
const logger = pino({ level: config.LOYALTY_LOG_LEVEL, base: { pid: process.pid } });
/** For a person at the terminal: never in the structured log (the demo key is printed only here). */
const tell = (line: string) => console.error(line);

let db: Database;
try {
  db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.LOYALTY_DATA_DIR, poolSize: config.LOYALTY_DB_POOL });
} catch (error) {
  if (error instanceof DataDirectoryLocked) {
    tell(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
tell(db.embedded ? `Database: embedded PGlite in ${config.LOYALTY_DATA_DIR}` : 'Database: DATABASE_URL');

// The demo merchant is for a first try on the embedded database only: a
// PostgreSQL given by DATABASE_URL is a real deployment, where merchants are
// created on purpose (npm run merchant:create).
const demo = db.embedded && config.LOYALTY_DEMO === '1' ? await ensureDemoMerchant(db.prisma) : null;
const channel: AdminChannel | null = db.embedded
  ? await startAdminChannel(resolve(config.LOYALTY_DATA_DIR), db.prisma, (error) => logger.error({ err: error }, 'admin command failed'))
  : null;

let draining = false;
const keyUsage = new KeyUsage(db.prisma, (error) => logger.warn({ err: error }, 'could not record key usage'));
keyUsage.start(config.LOYALTY_KEY_USAGE_FLUSH_MS);
const app = createApp(db, {
  maxBodyBytes: config.LOYALTY_MAX_BODY_BYTES,
  maxFutureMs: config.LOYALTY_MAX_FUTURE_SKEW_MS,
  corsOrigins: config.LOYALTY_CORS_ORIGINS,
  graphiql: config.LOYALTY_GRAPHIQL === '1',
  console: config.LOYALTY_CONSOLE === '1',
  rateLimit: config.LOYALTY_RATE_LIMIT > 0 ? { perSecond: config.LOYALTY_RATE_LIMIT, burst: config.LOYALTY_RATE_BURST } : null,
  keyUsage,
  logger,
  metrics: config.LOYALTY_METRICS === '1',
  isDraining: () => draining,
});
const stopSchedule = config.LOYALTY_ADVANCE_INTERVAL_MS > 0 ? startAdvanceSchedule(db.prisma, config.LOYALTY_ADVANCE_INTERVAL_MS, logger) : null;
const webhooks =
  config.LOYALTY_WEBHOOK_POLL_MS > 0
    ? startDeliveryWorker(db.prisma, {
        pollIntervalMs: config.LOYALTY_WEBHOOK_POLL_MS,
        timeoutMs: config.LOYALTY_WEBHOOK_TIMEOUT_MS,
        baseDelayMs: config.LOYALTY_WEBHOOK_RETRY_BASE_MS,
        maxDelayMs: config.LOYALTY_WEBHOOK_RETRY_MAX_MS,
        logger,
      })
    : null;

// This listener goes before the app's: yoga may answer a request before its
// listener returns (GET /health while draining does), and the header must be
// set by then.
const server = createServer();
// Keep idle connections longer than clients and proxies commonly do (60 s), so
// that the server is never the one closing a socket a client is about to reuse.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
let inFlight = 0;
server.on('request', (_request, response) => {
  inFlight++;
  // While draining, tell keep-alive clients to reconnect (to another process).
  if (draining) response.setHeader('connection', 'close');
  response.once('close', () => inFlight--);
});
server.on('request', app);
server.listen(config.PORT, config.HOST, () => {
  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info({ host: config.HOST, port, embedded: db.embedded }, 'listening');
  if (demo) {
    tell(`Demo merchant "${demo.name}" created with the coffee-chain program.`);
    tell(`API key: ${demo.apiKey}`);
  }
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  tell(`GraphiQL: ${origin}/graphql`);
  if (config.LOYALTY_CONSOLE === '1') tell(`Console: ${origin}/console/`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  draining = true;
  logger.info({ signal, inFlight }, 'draining');
  stopSchedule?.();
  if (config.LOYALTY_DRAIN_DELAY_MS > 0) await sleep(config.LOYALTY_DRAIN_DELAY_MS);
  const closed = new Promise((done) => server.close(done));
  server.closeIdleConnections();
  const deadline = Date.now() + config.LOYALTY_DRAIN_TIMEOUT_MS;
  while (inFlight > 0 && Date.now() < deadline) {
    await sleep(20);
    server.closeIdleConnections();
  }
  if (inFlight > 0) logger.warn({ inFlight }, 'drain timed out: closing connections with requests in flight');
  server.closeAllConnections();
  await closed;
  await webhooks?.stop();
  await channel?.stop();
  await keyUsage.stop().catch((error: unknown) => logger.warn({ err: error }, 'could not record key usage'));
  await db.close();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
