import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// graphql 16 ships CommonJS (`main`) and ESM (`module`) builds. Dependencies
// loaded by Node (graphql-yoga, Pothos) get the CommonJS one, while Vite would
// resolve our own imports to the ESM one: two GraphQLError classes and two
// schema realms. Resolve `graphql` to the file Node uses so there is one.
const graphql = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: graphql }],
  },
});
