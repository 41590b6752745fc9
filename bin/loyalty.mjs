#!/usr/bin/env node
// The `loyalty` command. The TypeScript CLI and its dependencies are bundled
// with esbuild into node_modules/.cache (rebuilt when a source file is newer,
// in well under a second), so it starts fast and replays of large files run
// plain JavaScript with no loader in between. What a command imports
// lazily (the language server of `loyalty lsp`) is split into chunks of its
// own, so the other commands neither load nor parse it.
import { buildSync } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'src/cli/main.ts');
// `loyalty diff`'s worker thread (src/cli/diff-side.ts), built beside the CLI.
const sideEntry = join(root, 'src/cli/diff-side.ts');
const dir = join(root, 'node_modules/.cache/loyalty');
const out = join(dir, 'cli.mjs');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const stale = !existsSync(out) || !existsSync(join(dir, 'diff-side.mjs')) || statSync(out).mtimeMs < Math.max(newest(join(root, 'src')), newest(join(root, 'dsl')));
if (stale) {
  mkdirSync(dir, { recursive: true });
  // Build beside and rename: concurrent runs never see half a file. Chunks
  // are named by their content, so moving them in first cannot break a run
  // that is starting; the entry goes in last.
  const tmp = join(dir, `build-${process.pid}`);
  buildSync({
    entryPoints: { cli: entry, 'diff-side': sideEntry },
    outdir: tmp,
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: false,
    // CommonJS dependencies (commander, cli-progress) require Node built-ins.
    banner: { js: "import { createRequire as __loyaltyRequire } from 'node:module'; const require = __loyaltyRequire(import.meta.url);" },
    logLevel: 'error',
  });
  const built = readdirSync(tmp);
  for (const f of built) if (f !== 'cli.mjs') renameSync(join(tmp, f), join(dir, f));
  renameSync(join(tmp, 'cli.mjs'), out);
  rmSync(tmp, { recursive: true, force: true });
  // Chunks of earlier builds are no longer imported by anything.
  for (const f of readdirSync(dir)) if (f.startsWith('chunk-') && !built.includes(f)) rmSync(join(dir, f), { force: true });
}
await import(pathToFileURL(out).href);
