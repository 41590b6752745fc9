// The committed schema and the generated typed operations must match the code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, test } from 'vitest';
import codegenConfig from '../../codegen.ts';
import { printedSchema, SCHEMA_FILE } from '../../src/server/graphql/print.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** schema/schema.graphql as the last commit has it: what a clean checkout
 * gets (no install step writes this file, so the working copy could hide a
 * schema change nobody committed). */
function committedSchema(): string {
  const path = relative(ROOT, SCHEMA_FILE);
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', path], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    throw new Error(`${path} is not tracked in git: run \`npm run schema:print\` and commit it`);
  }
  return execFileSync('git', ['show', `HEAD:${path}`], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
}

describe('GraphQL artifacts', () => {
  test('the committed schema/schema.graphql is current (run `npm run schema:print` and commit it)', () => {
    expect(committedSchema()).toBe(printedSchema());
  });

  test('the working copy of schema/schema.graphql is the printed schema too (the linter below reads it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
  });

  test('graphql-schema-linter\'s default rules find nothing: every type, field, argument and enum value explains itself', () => {
    const cli = fileURLToPath(new URL('../../node_modules/graphql-schema-linter/lib/cli.js', import.meta.url));
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, '--format', 'json', SCHEMA_FILE], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e); // exit 1 when it finds something
    }
    const { errors } = JSON.parse(out) as { errors: { message: string; location: { line: number } }[] };
    expect(errors.map((x) => `${x.location.line}: ${x.message}`)).toEqual([]);
  });

  test('test/api/generated/operations.ts is current (run `npm run codegen`)', async () => {
    const root = new URL('../../', import.meta.url);
    const cwd = process.cwd();
    process.chdir(fileURLToPath(root));
    try {
      const outputs = (await generate({ ...codegenConfig, silent: true }, false)) as { filename: string; content: string }[];
      expect(outputs.length).toBeGreaterThan(0);
      for (const { filename, content } of outputs) {
        expect(readFileSync(new URL(filename, root), 'utf8'), filename).toBe(content);
      }
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);
});
