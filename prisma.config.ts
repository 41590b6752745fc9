// Prisma CLI configuration. Prisma 6.19 runs fully offline only with the
// JavaScript engines: `engine: "js"` plus a driver adapter here, and
// `engineType = "client"` in the generator. Without a readable config the CLI
// falls back to downloading a native engine, which this environment forbids.
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The CLI only needs a syntactically valid URL for `generate` and
// `migrate diff --script`; the server never reads this default.
process.env.DATABASE_URL ??= 'postgresql://loyalty@127.0.0.1:5432/loyalty';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  engine: 'js',
  experimental: { adapter: true },
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
