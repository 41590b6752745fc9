#!/usr/bin/env node
// The `loyalty` command. The TypeScript CLI and its dependencies are bundled
// with esbuild into node_modules/.cache (rebuilt when a source file is newer,
// in well under a second), so it starts fast and replays of large files run
// plain JavaScript with no loader in between.
import { buildSync } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src/cli/main.ts');
const out = join(root, 'node_modules/.cache/loyalty/cli.mjs');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const stale = !existsSync(out) || statSync(out).mtimeMs < Math.max(newest(join(root, 'src')), newest(join(root, 'dsl')));
if (stale) {
  mkdirSync(dirname(out), { recursive: true });
  // Build beside and rename: concurrent runs never see half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  buildSync({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: false,
    // CommonJS dependencies (commander, cli-progress) require Node built-ins.
    banner: { js: "import { createRequire as __loyaltyRequire } from 'node:module'; const require = __loyaltyRequire(import.meta.url);" },
    logLevel: 'error',
  });
  renameSync(tmp, out);
}
await import(pathToFileURL(out).href);
