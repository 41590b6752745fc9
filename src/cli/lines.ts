// Reading an events file line by line without holding it in memory: large
// chunks, split on newlines at the byte level, decoded once.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 4 << 20;

/** Calls `fn` for every line (1-based numbers, blank lines included). */
export function forEachLine(path: string, fn: (line: string, n: number) => void, onProgress?: (bytesRead: number, total: number) => void): void {
  const fd = path === '-' ? 0 : openSync(path, 'r');
  try {
    const total = path === '-' ? 0 : fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(CHUNK);
    let carry = 0; // bytes of an unfinished line at the start of buf
    let n = 0;
    let read = 0;
    for (;;) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      let got: number;
      try {
        got = readSync(fd, buf, carry, buf.length - carry, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      read += got;
      const end = carry + got;
      if (got === 0) {
        if (end > 0) fn(trimCr(buf.toString('utf8', 0, end)), ++n);
        break;
      }
      const last = buf.lastIndexOf(10, end - 1);
      if (last < 0) {
        carry = end;
        continue;
      }
      const text = buf.toString('utf8', 0, last);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) {
          fn(trimCr(text.slice(start)), ++n);
          break;
        }
        fn(trimCr(text.slice(start, nl)), ++n);
        start = nl + 1;
      }
      carry = end - last - 1;
      buf.copy(buf, 0, last + 1, end);
      onProgress?.(read, total);
    }
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

function trimCr(s: string): string {
  return s.length && s.charCodeAt(s.length - 1) === 13 ? s.slice(0, -1) : s;
}

/** Writes chunks to a stream, waiting when it asks us to. */
export async function writeChunks(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const c of chunks) {
    if (!c) continue;
    if (!stream.write(c)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  }
}
