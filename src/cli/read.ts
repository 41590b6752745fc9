import { readFileSync } from 'node:fs';

/** Reads a text file, or says why it cannot (for exit status 2). */
export function readText(path: string): { text: string } | { error: string } {
  try {
    return { text: readFileSync(path === '-' ? 0 : path, 'utf8') };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    return { error: `cannot read ${path}: ${why}` };
  }
}
