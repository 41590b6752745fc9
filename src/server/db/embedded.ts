// Embedded PostgreSQL: PGlite on a data directory, served on loopback through
// pglite-socket so that the rest of the server connects with an ordinary
// connection string, exactly as it would to a PostgreSQL server.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lockDataDirectory } from './lock.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/** The thread PGlite runs on (plain JavaScript, see the file). */
const WORKER = new URL('./pglite-worker.mjs', import.meta.url);

type WorkerMessage = { type: 'ready'; conn: string } | { type: 'stopped' } | { type: 'failed'; message: string; stack?: string };

/** The worker's next message; its exit or a crash before one is an error. */
function next(worker: Worker, what: string): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerMessage) => {
      off();
      resolve(message);
    };
    const onError = (error: Error) => {
      off();
      reject(error);
    };
    const onExit = (code: number) => {
      off();
      reject(new Error(`the embedded database's thread exited (code ${code}) ${what}`));
    };
    const off = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

const failure = (m: { message: string; stack?: string }) => Object.assign(new Error(m.message), m.stack ? { stack: m.stack } : {});

/**
 * Starts PGlite, on a thread of its own (pglite-worker.mjs): the database's
 * work then runs beside the server's instead of on its thread (an import of
 * 30,000 lines spent 5.3–5.6 s of CPU in PGlite and 2.2–2.5 s in the
 * server's own code, one after the other until then). `dataDir` null keeps
 * the database in memory (tests). PGlite is single-user: the socket server
 * queues one connection's queries at a time, so clients must use a pool of
 * one connection (see db/index.ts). A data directory is locked for this process (db/lock.ts): a
 * second process fails at once with DataDirectoryLocked.
 */
export async function startEmbedded(dataDir: string | null, port = 0): Promise<EmbeddedDatabase> {
  let release = () => {};
  let dir: string | null = null;
  if (dataDir) {
    mkdirSync(resolve(dataDir), { recursive: true });
    release = lockDataDirectory(resolve(dataDir));
    dir = resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
  }
  const worker = new Worker(WORKER, { workerData: { dir, port } });
  let started: WorkerMessage;
  try {
    started = await next(worker, 'while starting');
    if (started.type !== 'ready') throw started.type === 'failed' ? failure(started) : new Error(`the embedded database answered ${started.type} while starting`);
  } catch (error) {
    await worker.terminate();
    release();
    throw error;
  }
  // Once started, the thread ends only when stopped: if it dies, the server's connections fail with it (and say so).
  let stopped: Promise<void> | null = null;
  worker.on('error', (error) => {
    if (stopped === null) console.error('the embedded database stopped:', error);
  });
  const url = `postgresql://postgres@${started.conn}/postgres?sslmode=disable`;
  const stop = async () => {
    try {
      const answered = next(worker, 'while stopping');
      worker.postMessage('stop');
      const answer = await answered;
      if (answer.type === 'failed') throw failure(answer);
    } finally {
      await worker.terminate();
      release();
    }
  };
  return {
    url,
    stop: () => (stopped ??= stop()),
  };
}
