// `npm run bench:server`: the write path of the server against a raw baseline
// measured in the same run, on the embedded PGlite and on PostgreSQL.
//
//   npm run bench:server                      # 400 orders per measurement
//   npm run bench:server -- --orders 2000
//   npm run bench:server -- --import-events 100000 --import-members 5000
//   npm run bench:server -- --no-import --database postgres
//   npm run bench:server -- --import-only --import-runs 5   # the 2nd to 5th into a database holding the earlier ones
//   npm run bench:server -- --import-only --no-import-notifications   # as a migration imports (?notifications=false)
//
// For each database:
//   - baseline: the minimum a ledger write needs per order, in plain SQL over
//     a pg pool: BEGIN; lock the member row; insert the event, the order and
//     its ledger rows; update the member; COMMIT;
//   - server: recordOrder over HTTP (the yoga app on node:http, in this
//     process), for members signed up beforehand; the requests are sent
//     from the server's thread (--client inline) or from a worker thread
//     (--client worker);
// sequentially and with 16 in flight (PGlite sequentially only: it
// has one connection), reporting orders/s, p50/p99 latency, the ratio to the
// baseline, and the SQL statements and round trips per order (a statement
// pipelined behind another on its connection is no round trip of its own). Then an import:
// a bench/generate.ts stream (coffee chain, one month) sent to POST
// /events.jsonl, in events/s; the members' balances and tiers it leaves must
// equal `loyalty replay --json` of the same file, or the bench fails.
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Command } from 'commander';
import pg from 'pg';
import { startEmbedded } from '../src/server/db/embedded.ts';
import { openDatabase, type Database } from '../src/server/db/index.ts';
import { migrate } from '../src/server/db/migrate.ts';
import { createMerchant } from '../src/server/services/merchants.ts';
import { createApp } from '../src/server/yoga.ts';
import { startPostgres } from '../test/server/postgres.ts';
import { generateToString } from './generate.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const COFFEE = readFileSync(join(ROOT, 'examples/coffee-chain.loyalty'), 'utf8');

const cli = new Command('bench:server')
  .option('--orders <n>', 'orders per measurement', (v) => Number(v), 400)
  .option('--import-events <n>', 'events in the imported stream', (v) => Number(v), 3000)
  .option('--import-members <n>', 'members in the imported stream', (v) => Number(v), 300)
  .option('--import-months <n>', 'months the imported stream covers (a tick every midnight)', (v) => Number(v), 1)
  .option('--import-runs <n>', 'import the stream this many times into the same database, each into a merchant of its own (an import into a database that already holds history)', (v) => Number(v), 1)
  .option('--import-only', 'measure the import only (not recordOrder)')
  .option('--no-import-notifications', 'import with ?notifications=false: no notifications recorded, as for a history brought from another platform')
  .option('--no-import', 'measure recordOrder only (not the import)')
  .option('--database <which>', 'pglite, postgres or both', 'both')
  .option('--cpu-prof <dir>', "write a CPU profile of the server's thread during each recordOrder measurement and the import to this directory (.cpuprofile)")
  .option('--client <where>', "where recordOrder's HTTP client runs: inline (the server's thread, as in earlier tables) or worker (a thread of its own, as clients elsewhere)", 'inline')
  .parse();
const {
  orders: ORDERS,
  importEvents: IMPORT_EVENTS,
  importMembers: IMPORT_MEMBERS,
  importMonths: IMPORT_MONTHS,
  importRuns: IMPORT_RUNS,
  importOnly: IMPORT_ONLY,
  importNotifications: IMPORT_NOTIFICATIONS,
  import: IMPORT_TOO,
  database: DATABASE,
  client: CLIENT,
  cpuProf: CPU_PROF,
} = cli.opts<{ cpuProf?: string;  orders: number; importEvents: number; importMembers: number; importMonths: number; importRuns: number; importOnly?: boolean; importNotifications: boolean; import: boolean; database: string; client: string }>();
if (!['pglite', 'postgres', 'both'].includes(DATABASE)) throw new Error(`--database: pglite, postgres or both, not ${DATABASE}`);
if (!['worker', 'inline'].includes(CLIENT)) throw new Error(`--client: worker or inline, not ${CLIENT}`);

/** The stream to import and what `loyalty replay` makes of it: by member its balance, tier, ledger length and sum; the lines it refused. */
const IMPORT = (() => {
  if (!IMPORT_TOO) return { text: '', lines: 0, expected: new Map<string, string>(), errors: [] as number[] };
  const dir = mkdtempSync(join(tmpdir(), 'bench-import-'));
  try {
    const text = generateToString({ events: IMPORT_EVENTS, members: IMPORT_MEMBERS, months: IMPORT_MONTHS });
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, text);
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), 'replay', '--json', '--no-progress', join(ROOT, 'examples/coffee-chain.loyalty'), file], {
      maxBuffer: 1 << 30,
    });
    const result = JSON.parse(out.toString()) as { members: Record<string, { balance: number; tier: string | null; ledger: { points: number }[] }>; errors: { line: number }[] };
    const expected = new Map(
      Object.entries(result.members).map(([id, m]) => [id, memberKey(m.balance, m.tier, m.ledger.length, m.ledger.reduce((sum, e) => sum + e.points, 0))]),
    );
    return { text, lines: text.split('\n').filter((l) => l.trim()).length, expected, errors: result.errors.map((e) => e.line) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
const MEMBERS = 64;

function memberKey(balance: number | bigint, tier: string | null, entries: number, points: number | bigint): string {
  return `balance ${balance} tier ${tier ?? '-'} entries ${entries} sum ${points}`;
}

interface Measure {
  perSec: number;
  p50: number;
  p99: number;
}

async function measure(n: number, inFlight: number, one: (i: number) => Promise<void>): Promise<Measure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await one(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return summary(n, seconds, latencies);
}

function summary(n: number, seconds: number, latencies: number[]): Measure {
  latencies.sort((a, b) => a - b);
  return { perSec: n / seconds, p50: latencies[Math.floor(n * 0.5)]!, p99: latencies[Math.min(n - 1, Math.floor(n * 0.99))]! };
}

/**
 * A POST over real HTTP to the server (node:http on a keep-alive agent, one
 * socket per request in flight): the bench's client runs in the server's
 * process (--client inline), so its CPU is the server's too, and fetch
 * (undici) cost ~0.9 ms per request there against node:http's ~0.3 ms.
 * The answer's body as text; a status other than 200 throws.
 */
function post(agent: Agent, url: string, key: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
        else resolve(text);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setNoDelay(true);
    req.end(body);
  });
}

/**
 * The recordOrder requests of a measurement from a thread of their own (a
 * load generator, as clients on other machines would be), so that the
 * server's thread does only the server's work. Same requests as inline.
 */
const CLIENT_WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: w.inFlight });
const post = (body) => new Promise((resolve, reject) => {
  const req = http.request(w.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: 'Bearer ' + w.key, 'content-length': Buffer.byteLength(body) } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error('HTTP ' + res.statusCode))));
    res.on('error', reject);
  });
  req.on('error', reject);
  req.end(body);
});
(async () => {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: w.inFlight }, async () => {
    while (next < w.n) {
      const i = next++;
      const t = performance.now();
      const body = JSON.parse(await post(JSON.stringify({ query: w.query, variables: { i: { memberId: 's' + (i % w.members), orderId: 'S-' + i, lines: w.lines } } })));
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      latencies.push(performance.now() - t);
    }
  }));
  agent.destroy();
  parentPort.postMessage({ seconds: (performance.now() - started) / 1000, latencies });
})().catch((e) => { throw e; });`;

function measureInWorker(n: number, inFlight: number, data: { url: string; key: string; query: string; lines: unknown[] }): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_WORKER, { eval: true, workerData: { ...data, n, inFlight, members: MEMBERS } });
    worker.once('message', (m: { seconds: number; latencies: number[] }) => resolve(summary(n, m.seconds, m.latencies)));
    worker.once('error', reject);
  });
}

/** Starts the inspector's CPU profiler on this thread; the function it returns stops it and writes the profile to a file. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** The raw baseline: one order's minimum of SQL. */
async function baselineOrder(pool: pg.Pool, merchantId: string, memberIds: string[], versionId: string, i: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const member = memberIds[i % memberIds.length]!;
    await client.query('SELECT state FROM members WHERE merchant_id = $1 AND id = $2 FOR UPDATE', [merchantId, member]);
    const at = new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000);
    const line = JSON.stringify({ type: 'order', at: at.toISOString(), member, id: `B-${i}`, lines: [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }] });
    const ev = await client.query<{ seq: string }>(
      `INSERT INTO events (merchant_id, type, member, at, line, key, body_hash, program_version_id, accepted) VALUES ($1, 'order', $2, $3, $4, $5, 'x', $6, true) RETURNING seq`,
      [merchantId, member, at, line, `bench:${i}:${merchantId}`, versionId],
    );
    const order = await client.query<{ id: string }>(
      `INSERT INTO orders (id, merchant_id, member_id, external_id, body_hash, lines, total, at) VALUES (gen_random_uuid(), $1, $2, $3, 'x', '[]', 950, $4) RETURNING id`,
      [merchantId, member, `B-${i}`, at],
    );
    await client.query(
      `INSERT INTO ledger_entries (merchant_id, member_id, at, kind, points, rule, ref, program_version_id, order_id, event_seq)
       VALUES ($1, $2, $3, 'earn', 9, 'base', $4, $5, $6, $7), ($1, $2, $3, 'earn', 10, 'First coffee of the day', $4, $5, $6, $7)`,
      [merchantId, member, at, `B-${i}`, versionId, order.rows[0]!.id, ev.rows[0]!.seq],
    );
    await client.query(`UPDATE members SET balance = balance + 19, version = version + 1, last_event_at = $3 WHERE merchant_id = $1 AND id = $2`, [merchantId, member, at]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function listen(db: Database): Promise<{ url: string; server: Server }> {
  const app = createApp(db, { rateLimit: undefined });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

/** One database: each phase holds only its own connections (PGlite serves one session at a time). */
async function run(label: string, url: string, poolSize: number): Promise<string[]> {
  const open = () => openDatabase({ databaseUrl: url, poolSize });
  const rows: string[] = [];
  // PGlite serves one connection: sequential only.
  for (const inFlight of label === 'PGlite' ? [1] : [1, 16]) {
    // Baseline: its own merchant and members, made through the service.
    let db = await open();
    const base = await createMerchant(db.prisma, `Baseline ${inFlight}`, COFFEE);
    const version = await db.prisma.programVersion.findFirstOrThrow({ where: { merchantId: base.id, active: true } });
    const memberIds: string[] = [];
    for (let m = 0; m < MEMBERS; m++) {
      const row = await db.prisma.member.create({ data: { merchantId: base.id, externalId: `b${m}`, state: {}, signupAt: new Date(), lastEventAt: new Date(0) } });
      memberIds.push(row.id);
    }
    await db.close();
    // The embedded server takes one connection at a time: let it see the last one go.
    await new Promise((r) => setTimeout(r, 500));
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    const baseline = await measure(ORDERS, inFlight, (i) => baselineOrder(pool, base.id, memberIds, version.id, i));
    await pool.end();
    await new Promise((r) => setTimeout(r, 500));

    db = await open();
    const http = await listen(db);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const merchant = await createMerchant(db.prisma, `Server ${inFlight}`, COFFEE);
      const send = async (query: string, variables: Record<string, unknown>) => {
        const body = JSON.parse(await post(agent, http.url, merchant.apiKey, JSON.stringify({ query, variables }))) as { errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
      };
      for (let m = 0; m < MEMBERS; m++) await send('mutation($m: ID!) { signup(input: { memberId: $m, at: "2026-02-01T00:00:00Z" }) { __typename } }', { m: `s${m}` });
      const before = db.statements();
      const tripsBefore = db.roundTrips();
      const query = 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }';
      const lines = [{ sku: 'LATTE-12', category: 'espresso', qty: 2, price: '4.75' }];
      const order = (i: number) => send(query, { i: { memberId: `s${i % MEMBERS}`, orderId: `S-${i}`, lines } });
      const profile = CPU_PROF ? await startProfile() : null;
      const cpuBefore = process.cpuUsage();
      const server = CLIENT === 'worker' ? await measureInWorker(ORDERS, inFlight, { url: http.url, key: merchant.apiKey, query, lines }) : await measure(ORDERS, inFlight, order);
      const cpu = process.cpuUsage(cpuBefore);
      await profile?.(join(CPU_PROF!, `recordOrder-${label}-${inFlight}.cpuprofile`));
      // This process's CPU (every thread: with --client inline it includes the client's requests).
      const cpuPerOrder = `${(cpu.user / 1000 / ORDERS).toFixed(2)}+${(cpu.system / 1000 / ORDERS).toFixed(2)}`;
      // Statements of the whole request: authentication, the program, the write.
      const perOrder = (db.statements() - before) / ORDERS;
      const tripsPerOrder = (db.roundTrips() - tripsBefore) / ORDERS;
      const f = (m: Measure) => `${m.perSec.toFixed(0).padStart(5)}/s p50 ${m.p50.toFixed(1).padStart(5)} ms p99 ${m.p99.toFixed(1).padStart(6)} ms`;
      rows.push(`| ${label} | ${inFlight} | ${f(baseline)} | ${f(server)} | ${(server.perSec / baseline.perSec).toFixed(2)} | ${perOrder.toFixed(1)} | ${tripsPerOrder.toFixed(1)} | ${cpuPerOrder} |`);
      console.log(rows[rows.length - 1]);
    } finally {
      agent.destroy();
      http.server.close();
      await db.close();
    }
  }
  return rows;
}

/**
 * CPU seconds of the PostgreSQL server's processes (user+system, from
 * /proc/<pid>/stat), all of them (backends and background workers) as
 * pg_stat_activity lists them; with `since`, what they spent after it
 * (a process started since counts from zero).
 */
async function serverCpu(url: string, since?: Map<number, number>): Promise<{ seconds: number; byPid: Map<number, number> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity').finally(() => client.end());
  const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const byPid = new Map<number, number>();
  let seconds = 0;
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / tick;
    byPid.set(pid, cpu);
    seconds += cpu - (since?.get(pid) ?? 0);
  }
  return { seconds, byPid };
}

/** Imports IMPORT over HTTP into a new merchant; events/s. Throws when the result is not replay's. */
async function importSpeed(label: string, url: string, poolSize: number, run: number): Promise<number> {
  const db = await openDatabase({ databaseUrl: url, poolSize });
  // The PGlite started above is the server's embedded database (its import statements are shorter: import.ts CHUNK_LINES).
  const http = await listen({ ...db, embedded: label === 'PGlite' });
  try {
    // A sandbox: the generated history may run past the server's clock (a write dated ahead of it is refused).
    const merchant = await createMerchant(db.prisma, `Import ${label} ${run}`, COFFEE, { sandbox: true });
    const serverBefore = label === 'PGlite' ? null : await serverCpu(url);
    const profile = CPU_PROF ? await startProfile() : null;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const res = await fetch(http.url.replace('/graphql', IMPORT_NOTIFICATIONS ? '/events.jsonl' : '/events.jsonl?notifications=false'), {
      method: 'POST',
      headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/x-ndjson' },
      body: IMPORT.text,
    });
    const summary = (await res.json()) as { accepted: number; replayed: number; refused: { line: number }[]; malformed: { line: number }[] };
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    await profile?.(join(CPU_PROF!, `import-${label}${IMPORT_RUNS > 1 ? `-${run}` : ''}.cpuprofile`));
    const serverSeconds = serverBefore ? (await serverCpu(url, serverBefore.byPid)).seconds : null;
    if (!res.ok) throw new Error(`import failed: ${res.status} ${JSON.stringify(summary)}`);
    const members = await db.prisma.$queryRaw<{ externalId: string; balance: bigint; tier: string | null; entries: number; points: bigint | null }[]>`
      SELECT m.external_id AS "externalId", m.balance, m.tier, count(l.id)::int AS entries, sum(l.points) AS points
        FROM members m LEFT JOIN ledger_entries l ON l.member_id = m.id
       WHERE m.merchant_id = ${merchant.id}::uuid GROUP BY m.id`;
    const got = new Map(members.map((m) => [m.externalId, memberKey(m.balance, m.tier, m.entries, m.points ?? 0)]));
    const wrong = [...IMPORT.expected].filter(([id, want]) => got.get(id) !== want);
    if (wrong.length > 0 || got.size !== IMPORT.expected.size) {
      const [id, want] = wrong[0] ?? ['', ''];
      throw new Error(`${label}: the import differs from loyalty replay for ${wrong.length} members (of ${IMPORT.expected.size}; server has ${got.size}), e.g. ${id}: replay ${want}, server ${got.get(id)}`);
    }
    // Every line the server refused or found malformed is one replay reports as an error, line by line (the summary lists at most 1,000 of each).
    const problems = [...summary.refused, ...summary.malformed].map((p) => p.line).sort((a, b) => a - b);
    const errors = summary.refused.length < 1000 && summary.malformed.length < 1000 ? IMPORT.errors : IMPORT.errors.filter((l) => problems.includes(l));
    if (problems.join(',') !== errors.join(',')) {
      const at = problems.findIndex((l, i) => l !== errors[i]);
      throw new Error(`${label}: the import's refused and malformed lines differ from loyalty replay's errors (${problems.length} and ${errors.length}; first difference at ${at}: server line ${problems[at]}, replay line ${errors[at]})`);
    }
    console.log(
      `import ${label}${IMPORT_RUNS > 1 ? ` (run ${run} of ${IMPORT_RUNS})` : ''}: ${IMPORT.lines} lines in ${seconds.toFixed(1)} s (${summary.accepted} accepted, ${summary.replayed} with nothing to do, ${summary.refused.length} refused, ${summary.malformed.length} malformed); balances, tiers, ledger lengths and sums by member and the errors by line equal loyalty replay's; CPU: this process ${(cpu.user / 1e6).toFixed(2)}+${(cpu.system / 1e6).toFixed(2)} s${serverSeconds === null ? '' : `, PostgreSQL's processes ${serverSeconds.toFixed(2)} s`}`,
    );
    return IMPORT.lines / seconds;
  } finally {
    http.server.close();
    await db.close();
  }
}

const results: string[] = [];
const imports: string[] = [];
if (DATABASE !== 'postgres') {
  // A data directory, as `npm start` runs it: in memory, PGlite grows its files by copying them (the import measured 13% slower).
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-pglite-'));
  const embedded = await startEmbedded(dataDir);
  try {
    await migrate(embedded.url);
    if (!IMPORT_ONLY) results.push(...(await run('PGlite', embedded.url, 1)));
    await new Promise((r) => setTimeout(r, 500));
    if (IMPORT_TOO) for (let run = 1; run <= IMPORT_RUNS; run++) imports.push(`| PGlite |${IMPORT_RUNS > 1 ? ` ${run} |` : ''} ${(await importSpeed('PGlite', embedded.url, 1, run)).toFixed(0)}/s |`);
  } finally {
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (DATABASE !== 'pglite') {
  const pgServer = await startPostgres();
  try {
    if (!IMPORT_ONLY) results.push(...(await run('PostgreSQL', pgServer.url, 16)));
    if (IMPORT_TOO) for (let run = 1; run <= IMPORT_RUNS; run++) imports.push(`| PostgreSQL |${IMPORT_RUNS > 1 ? ` ${run} |` : ''} ${(await importSpeed('PostgreSQL', pgServer.url, 16, run)).toFixed(0)}/s |`);
  } finally {
    await pgServer.stop();
  }
}
console.log(`\n${ORDERS} orders per measurement over ${MEMBERS} members; recordOrder's HTTP client ${CLIENT === 'worker' ? 'in a worker thread' : "in the server's thread"}\n`);
console.log('| database | in flight | baseline (plain SQL) | recordOrder over HTTP | ratio | SQL statements per order | round trips per order | process CPU ms/order, user+system |');
console.log('|---|---|---|---|---|---|---|---|');
console.log(results.join('\n'));
if (IMPORT_TOO) {
  console.log(`\nimport of ${IMPORT.lines} events (${IMPORT_MEMBERS} members, ${IMPORT_MONTHS} month(s), bench/generate.ts) through POST /events.jsonl${IMPORT_NOTIFICATIONS ? '' : '?notifications=false'}, checked against loyalty replay\n`);
  console.log(IMPORT_RUNS > 1 ? '| database | run (into the same database) | import events/s |' : '| database | import events/s |');
  console.log(IMPORT_RUNS > 1 ? '|---|---|---|' : '|---|---|');
  console.log(imports.join('\n'));
}
