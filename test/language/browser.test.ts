// The language services run in the browser (the console bundles them with
// Vite): bundled for the browser, they reach no Node built-in and nothing of
// vscode-languageserver. The one exception is dsl/compile.ts's node:crypto
// (the program hash), which the engine-v2 track is replacing with a pure-JS
// SHA-256; once it has, this test holds with no exception at all.
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { expect, it } from 'vitest';
import { ROOT } from '../support.ts';

const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const ALLOWED = new Set(['dsl/compile.ts → node:crypto']);

it('bundles for the browser with no Node built-in and no language-server library', { timeout: 60_000 }, async () => {
  const reached: string[] = [];
  const result = await build({
    entryPoints: [join(ROOT, 'src/language/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'node-built-ins',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (!NODE.has(args.path)) return undefined;
            reached.push(`${relative(ROOT, args.importer)} → ${args.path}`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  expect(result.errors).toEqual([]);
  expect(reached.filter((r) => !ALLOWED.has(r))).toEqual([]);
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((i) => /vscode-/.test(i))).toEqual([]);
  expect(inputs).toContain('src/language/completion.ts');
});
