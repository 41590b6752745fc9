// Embedded PostgreSQL: PGlite on a data directory, served on loopback through
// pglite-socket so that the rest of the server connects with an ordinary
// connection string, exactly as it would to a PostgreSQL server.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDirectory } from './lock.ts';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite. `dataDir` null keeps the database in memory (tests).
 * PGlite is single-user: the socket server queues one connection's queries at a
 * time, so clients must use a pool of one connection (see db/index.ts). A data
 * directory is locked for this process (db/lock.ts): a second process fails
 * at once with DataDirectoryLocked.
 */
export async function startEmbedded(dataDir: string | null, port = 0): Promise<EmbeddedDatabase> {
  let db: PGlite;
  let release = () => {};
  if (dataDir) {
    mkdirSync(resolve(dataDir), { recursive: true });
    release = lockDataDirectory(resolve(dataDir));
    const dir = resolve(dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    try {
      db = await PGlite.create(dir);
    } catch (error) {
      release();
      throw error;
    }
  } else {
    db = await PGlite.create();
  }
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
  await server.start();
  const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      release();
    },
  };
}
