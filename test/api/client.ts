// Test access to the API: a migrated database (PGlite or a real PostgreSQL),
// the yoga app on it, typed operations over `app.fetch`, and fresh merchants.
import { readFileSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { openDatabase, type Database } from '../../src/server/db/index.ts';
import { createMerchant } from '../../src/server/services/merchants.ts';
import { verifyAll, type VerifyDifference } from '../../src/server/services/verify.ts';
import { createApp, type App } from '../../src/server/yoga.ts';
import { startPostgres } from '../server/postgres.ts';

export type Backend = 'pglite' | 'postgres';

export interface TestServer {
  backend: Backend;
  db: Database;
  app: App;
  /** Unexpected errors the server masked (a test fails if any appear). */
  masked: unknown[];
  stop(): Promise<void>;
}

export async function startTestServer(backend: Backend): Promise<TestServer> {
  const pgServer = backend === 'postgres' ? await startPostgres() : null;
  const db = await openDatabase({ databaseUrl: pgServer?.url, dataDir: null, poolSize: 10 });
  const masked: unknown[] = [];
  const app = createApp(db, { maxBodyBytes: 200_000, logError: (e) => masked.push(e) });
  return {
    backend,
    db,
    app,
    masked,
    async stop() {
      await db.close();
      await pgServer?.stop();
    },
  };
}

export interface Response<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLFormattedError[];
}

export async function rawRequest(
  app: App,
  body: unknown,
  key: string | null,
  init: { headers?: Record<string, string> } = {},
): Promise<Response<unknown>> {
  const res = await app.fetch('http://loyalty.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...init.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { errors: [{ message: text }] };
  }
  return { status: res.status, ...json } as Response<unknown>;
}

/** Runs a typed operation; returns data and errors. */
export async function request<R, V>(
  app: App,
  key: string | null,
  doc: TypedDocumentNode<R, V>,
  variables: V,
): Promise<Response<R>> {
  return (await rawRequest(app, { query: print(doc), variables }, key)) as Response<R>;
}

/** Runs a typed operation and fails on any GraphQL error. */
export async function ok<R, V>(app: App, key: string | null, doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const res = await request(app, key, doc, variables);
  if (res.errors?.length || !res.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(res.errors, null, 2)}`);
  }
  return res.data;
}

export function example(name: string): string {
  return readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
}

let merchants = 0;
/** A new merchant (a tenant of its own), optionally with a published program; returns its id and API key. A sandbox one may date events in the future (fixtures run into 2028). */
export async function newMerchant(server: TestServer, program?: string, options: { sandbox?: boolean } = {}): Promise<{ id: string; key: string }> {
  const m = await createMerchant(server.db.prisma, `Test merchant ${++merchants}`, program, options);
  return { id: m.id, key: m.apiKey };
}

/**
 * Stops the server after replaying every merchant's event log against what
 * is stored (the law of the log); returns the differences (must be none).
 */
export async function stopVerified(server: TestServer | undefined): Promise<VerifyDifference[]> {
  if (!server) return [];
  const differences = (await verifyAll(server.db.prisma)).flatMap((r) => r.differences);
  await server.stop();
  return differences;
}

/** Members whose cached balance differs from the sum of their ledger (must always be none). */
export async function balanceMismatches(db: Database): Promise<unknown[]> {
  return db.prisma.$queryRaw<unknown[]>`
    SELECT m.external_id, m.balance, COALESCE(l.total, 0)::bigint AS ledger
      FROM members m
      LEFT JOIN (SELECT member_id, SUM(points) AS total FROM ledger_entries GROUP BY member_id) l ON l.member_id = m.id
     WHERE m.balance <> COALESCE(l.total, 0)`;
}

/**
 * A test server for the tests of the describe block it is called in: started
 * before them (`use` receives it), and at the end stopped after the law of the
 * log is checked (replaying every merchant's log gives what is stored). With
 * `eachTest`, after every test each member's balance must equal its ledger and
 * no error may have been masked.
 */
export function verifiedServer(backend: Backend, use: (server: TestServer) => void, options: { eachTest?: boolean } = {}): void {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(backend);
    use(server);
  }, 120_000);
  afterAll(async () => {
    expect(await stopVerified(server)).toEqual([]);
  });
  if (options.eachTest) {
    afterEach(async () => {
      expect(await balanceMismatches(server!.db)).toEqual([]);
      expect(server!.masked).toEqual([]);
    });
  }
}
