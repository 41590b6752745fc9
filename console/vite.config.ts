// The merchant console: a single-page app in console/src, built by Vite into
// console/dist (generated, not committed) and served by the GraphQL server at
// /console (src/server/http/console.ts). Every asset is bundled: the page
// loads nothing from outside the server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./'),
  base: '/console/',
  // No public/ folder: everything the page uses is imported and hashed.
  publicDir: false,
  resolve: {
    // The compiler (dsl/compile.ts) hashes the source with node:crypto.
    alias: [{ find: /^node:crypto$/, replacement: here('./src/node-crypto.ts') }],
  },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The language services (chevrotain, the compiler) are most of the bundle; one chunk is fine on loopback.
    chunkSizeWarningLimit: 1500,
    assetsInlineLimit: 0,
  },
  // `npm run console:dev`: the page with reloading, the API from `npm start`.
  server: { proxy: { '/graphql': process.env.LOYALTY_API ?? 'http://127.0.0.1:4000' } },
  logLevel: 'warn',
});
