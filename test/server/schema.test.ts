// The committed schema and the generated typed operations must match the code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, test } from 'vitest';
import codegenConfig from '../../codegen.ts';
import { printedSchema, SCHEMA_FILE } from '../../src/server/graphql/print.ts';

describe('GraphQL artifacts', () => {
  test('schema/schema.graphql is current (run `npm run schema:print`)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
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
