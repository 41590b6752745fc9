// Reading an events file line by line without holding it in memory: large
// chunks, split on newlines at the byte level, decoded once.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

const CHUNK = 4 << 20;

/**
 * Calls `fn` for every line with its bytes [a, b) in `buf` (1-based numbers,
 * blank lines included; a trailing CR is not part of the line). `buf` is
 * reused: the bytes are valid only during the call. `chunkBytes`: the size
 * of a read (the buffer grows for a longer line).
 */
export function forEachLineBytes(
  path: string,
  fn: (buf: Buffer, a: number, b: number, n: number) => void,
  onProgress?: (bytesRead: number, total: number) => void,
  chunkBytes = CHUNK,
): void {
  const fd = path === '-' ? 0 : openSync(path, 'r');
  try {
    const total = path === '-' ? 0 : fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(chunkBytes);
    let have = 0; // bytes in buf: an unfinished line, then what was read
    let n = 0;
    let read = 0;
    const one = (a: number, b: number) => fn(buf, a, b > a && buf[b - 1] === 13 ? b - 1 : b, ++n);
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      let got: number;
      try {
        got = readSync(fd, buf, have, buf.length - have, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        waitForPipe();
        continue;
      }
      if (got === 0) break;
      read += got;
      const end = have + got;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(10, from);
        if (nl < 0 || nl >= end) break;
        one(from, nl);
        from = nl + 1;
      }
      buf.copy(buf, 0, from, end);
      have = end - from;
      onProgress?.(read, total);
    }
    if (have > 0) one(0, have);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** Writes chunks to a stream, waiting when it asks us to. */
export async function writeChunks(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const c of chunks) {
    if (!c) continue;
    if (!stream.write(c)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  }
}

/** writeSync that also copes with a non-blocking pipe (EAGAIN). */
export function writeAllSync(fd: number, chunk: Uint8Array): void {
  let b = chunk;
  while (b.length > 0) {
    try {
      const n = writeSync(fd, b);
      b = b.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      waitForPipe();
    }
  }
}

/** A non-blocking pipe (stdin or stdout) is not ready: sleep 2 ms rather than spin. */
function waitForPipe(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
}
