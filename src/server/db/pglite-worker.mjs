// The embedded database's thread (db/embedded.ts): PGlite and its socket
// server run here, so that PostgreSQL's work (compiled to WebAssembly, run on
// the thread that calls it) goes on beside the server's, on another core,
// instead of taking turns with the engine and the HTTP and GraphQL work on
// the server's one thread.
//
// Plain JavaScript: a worker thread starts without the TypeScript loader that
// the server (tsx) or the tests (vitest) run under.
//
// workerData: { dir: string | null, port: number }. Messages to the parent:
// { type: 'ready', conn } once the socket server listens, { type: 'failed',
// message, stack } if starting failed, { type: 'stopped' } after a 'stop'.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** @type {{ dir: string | null, port: number }} */
const { dir, port } = workerData;

/** A failure as the parent reads it (embedded.ts rebuilds the error). */
const failed = (error) => ({ type: 'failed', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined });

let db;
let server;
try {
  db = dir === null ? await PGlite.create() : await PGlite.create(dir);
  // Two connections: the server's pool holds one, but replaces a connection
  // as soon as a statement fails (node-postgres ends a client released with
  // an error), and the new one arrives while the old is still closing. With
  // one, it was turned away ("Too many connections"): the request after any
  // database error failed as SERVICE_UNAVAILABLE. The socket server queues
  // both connections' messages on the one session, and a transaction's
  // connection keeps it until the transaction ends.
  server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 2 });
  // PGlite is one session, whichever connection the socket server serves
  // (one at a time): what a connection left in it would be there for the
  // next. Above all its prepared statements: node-postgres prepares a named
  // statement once per connection, so once the pool had replaced a
  // connection (an idle one is closed after 10 s) the first use of each name
  // failed with "prepared statement ... already exists", and with it every
  // write. A new connection starts from a clean session, as on PostgreSQL;
  // this runs before its first message (those wait for the same lock).
  server.addEventListener('connection', () => {
    // (The socket server has rolled back a transaction the last one left open.)
    db.exec('DISCARD ALL').catch((error) => console.error('the embedded database could not reset its session:', error));
  });
  await server.start();
  parentPort.postMessage({ type: 'ready', conn: server.getServerConn() });
} catch (error) {
  await db?.close().catch(() => undefined);
  parentPort.postMessage(failed(error));
  parentPort.close();
}

parentPort.on('message', async (message) => {
  if (message !== 'stop' || !server) return;
  try {
    await server.stop();
    await db.close();
    parentPort.postMessage({ type: 'stopped' });
  } catch (error) {
    parentPort.postMessage(failed(error));
  }
  parentPort.close();
});
