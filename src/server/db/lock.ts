// One process per PGlite data directory: PGlite is single-process, and a
// second one on the same files silently loses its writes. The lock is a file
// created exclusively (O_EXCL) holding the owner's pid; a lock whose process
// is gone (a crash) is taken over.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'server.lock';

export class DataDirectoryLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by process ${pid} (a loyalty server). ` +
        'Stop that process first, or use DATABASE_URL for several processes. ' +
        '`npm run merchant:create` and `npm run key` need not stop it: they talk to the running server.',
    );
    this.name = 'DataDirectoryLocked';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid holding the directory's lock, or null when none (or a dead one) does. */
export function lockHolder(dataDir: string): number | null {
  try {
    const pid = Number(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the directory's lock or throws DataDirectoryLocked; returns the release. */
export function lockDataDirectory(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(dataDir);
      if (holder !== null) throw new DataDirectoryLocked(dataDir, holder);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
