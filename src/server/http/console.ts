// GET /console: the merchant console, a static single-page app built by Vite
// into console/dist (`npm run console:build`, run by `npm install` through
// `npm run generate`). Only the files of that build are served, each with its
// content type; hashed assets are cached for good, the page itself never.
// The page holds no key: the merchant types it in (it stays in the tab's
// sessionStorage), and every API call goes to /graphql with it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';

export const CONSOLE_PATH = '/console';
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// Scripts and styles from this server only; CodeMirror adds its styles as
// <style> elements, hence 'unsafe-inline' for styles (never for scripts).
// 'unsafe-eval': the console runs the compiler in the page for live
// diagnostics, and the compiler turns rule filters and conditions into
// functions with `new Function` (dsl/compile.ts). A compile option that
// stops before code generation would let this go.
const CSP = "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

/** The files of a build, by URL path under /console/. */
function readBuild(dir: string): Map<string, Asset> | null {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    return null;
  }
  const files = new Map<string, Asset>();
  for (const name of names) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const type = TYPES[extname(name).toLowerCase()];
    if (!type) continue;
    files.set(relative(dir, path).split(sep).join('/'), { body: new Uint8Array(readFileSync(path)), type });
  }
  return files.has('index.html') ? files : null;
}

export interface ConsoleOptions {
  /** The build to serve (default console/dist). */
  dir?: string;
}

export function merchantConsole(options: ConsoleOptions = {}): Plugin {
  const dir = options.dir ?? CONSOLE_DIST;
  // Read on first use, and again while there is no build yet (a build made after start is picked up).
  let build: Map<string, Asset> | null = null;
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const path = url.pathname;
      if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response('Method Not Allowed', { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      if (path === CONSOLE_PATH) {
        endResponse(new fetchAPI.Response(null, { status: 308, headers: { location: `${CONSOLE_PATH}/${url.search}` } }));
        return;
      }
      build ??= readBuild(dir);
      if (!build) {
        endResponse(
          new fetchAPI.Response('The console is not built: run `npm run console:build` (npm install does it).\n', {
            status: 503,
            headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' },
          }),
        );
        return;
      }
      const name = path.slice(CONSOLE_PATH.length + 1) || 'index.html';
      const asset = build.get(name);
      if (!asset) {
        endResponse(new fetchAPI.Response('Not Found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
        return;
      }
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'content-length': String(asset.body.byteLength),
        'x-content-type-options': 'nosniff',
        'cache-control': name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (name === 'index.html') {
        headers['content-security-policy'] = CSP;
        headers['referrer-policy'] = 'no-referrer';
      }
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : asset.body, { status: 200, headers }));
    },
  };
}
