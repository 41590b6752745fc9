// `npm run bench:preview`: previewProgram on the server against one
// `loyalty replay` of the same history, in the same run.
//
//   npm run bench:preview                          # 100,000 events, 2,000 members
//   npm run bench:preview -- --events 20000 --repeat 5
//   npm run bench:preview -- --postgres                 # on a temporary PostgreSQL 15
//
// A fresh embedded server (PGlite) gets a generated coffee-chain stream
// through POST /events.jsonl (the import) for a sandbox merchant, so events
// later than today are logged too (the stream runs into next year); its log
// is exported with
// GET /events.jsonl to a file; then, alternately so both see the same load:
//   - `node bin/loyalty.mjs replay examples/coffee-chain.loyalty EXPORT --json > /dev/null`,
//   - previewProgram over GraphQL (HTTP, this process) with the draft of
//     `npm run bench` (a higher base rate, a lower Silver threshold).
// Goal: the preview answers within 2.5 × the replay's time. The preview's
// `before` side is checked against what the server stored: members, tiers,
// outstanding points (the sum of the stored balances) and the ledger's sums
// by kind.
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { PrismaClient } from '@prisma/client';
import { Command } from 'commander';
import { compile } from '../dsl/index.ts';
import { openDatabase } from '../src/server/db/index.ts';
import { createMerchant } from '../src/server/services/merchants.ts';
import { createApp } from '../src/server/yoga.ts';
import { startPostgres } from '../test/server/postgres.ts';
import { DEFAULT_OPTIONS, GENERATOR_VERSION, generateToFile } from './generate.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const DATA = join(ROOT, 'bench', '.data');
const PROGRAM = join(ROOT, 'examples', 'coffee-chain.loyalty');
const CLI = join(ROOT, 'bin', 'loyalty.mjs');
const GOAL = 2.5;
/** The same draft as `npm run bench`'s diff (bench/run.ts DRAFT_CHANGES). */
const DRAFT_CHANGES: [string, string][] = [
  ['base 10 points per 1 USD', 'base 12 points per 1 USD'],
  ['tier Silver at 250 USD', 'tier Silver at 200 USD'],
];

const cli = new Command('bench:preview')
  .option('--events <n>', 'events in the generated stream', (v) => parseInt(v.replace(/_/g, ''), 10), 100_000)
  .option('--repeat <n>', 'runs of each measurement (best and median are reported)', (v) => parseInt(v, 10), 3)
  .option('--fresh', 'import again even if bench/.data holds a loaded database for this stream')
  .option('--postgres', 'a temporary PostgreSQL 15 (test/server/postgres.ts) instead of the embedded PGlite, loaded afresh')
  .parse();
const o = cli.opts<{ events: number; repeat: number; fresh?: boolean; postgres?: boolean }>();

/** What the import did, kept beside the loaded database. */
interface Load {
  apiKey: string;
  merchantId: string;
  accepted: number;
  replayed: number;
  refused: number;
  malformed: number;
  importMs: number;
  date: string;
}
const members = Math.max(50, Math.round((20_000 * o.events) / 1_000_000));

const progress = (s: string) => process.stderr.write(s + '\n');
const sec = (ms: number) => (ms / 1000).toFixed(2) + ' s';
const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function draftSource(): string {
  let text = readFileSync(PROGRAM, 'utf8');
  for (const [from, to] of DRAFT_CHANGES) {
    if (!text.includes(from)) throw new Error(`examples/coffee-chain.loyalty no longer has ${JSON.stringify(from)}: update DRAFT_CHANGES in bench/preview.ts`);
    text = text.replace(from, to);
  }
  return text;
}

/** The totals of a preview side, in the order the query asks for them. */
interface Totals {
  members: number;
  earned: number;
  redeemed: number;
  expired: number;
  reversed: number;
  adjusted: number;
  outstanding: number;
  tiers: { tier: string | null; members: number }[];
}

/** What the server stored for the merchant, as a preview side's totals:
 * members and their balances and tiers, the ledger's sums by kind. */
async function storedTotals(prisma: PrismaClient, merchantId: string): Promise<Totals> {
  const where = { merchantId };
  const [members, balances, tiers, ledger] = await Promise.all([
    prisma.member.count({ where }),
    prisma.member.aggregate({ where, _sum: { balance: true } }),
    prisma.member.groupBy({ by: ['tier'], where, _count: { _all: true } }),
    prisma.ledgerEntry.groupBy({ by: ['kind'], where, _sum: { points: true } }),
  ]);
  const sum = (kind: string) => Number(ledger.find((l) => l.kind === kind)?._sum.points ?? 0);
  const count = new Map(tiers.map((t) => [t.tier, t._count._all]));
  const order = compile(readFileSync(PROGRAM, 'utf8'), PROGRAM).program!.tiers.map((t) => t.name);
  return {
    members,
    earned: sum('earn'),
    redeemed: -sum('redeem'),
    expired: -sum('expire'),
    reversed: -sum('reverse'),
    adjusted: sum('adjust'),
    outstanding: Number(balances._sum.balance ?? 0),
    tiers: order.length ? order.map((tier) => ({ tier, members: count.get(tier) ?? 0 })) : [{ tier: null, members }],
  };
}

mkdirSync(DATA, { recursive: true });
const stream = join(DATA, `coffee-e${o.events}-m${members}-s${DEFAULT_OPTIONS.seed}-g${GENERATOR_VERSION}.jsonl`);
if (!existsSync(stream)) {
  progress(`generating ${relative(ROOT, stream)} ...`);
  generateToFile(stream + '.tmp', { events: o.events, members, seed: DEFAULT_OPTIONS.seed });
  renameSync(stream + '.tmp', stream);
}
const exported = join(DATA, `preview-export-e${o.events}.jsonl`);

const rows: string[] = [];
let ratioNote = '';
// The loaded database is kept (PGlite's files) under bench/.data, so the
// import, slow at this size, is done once per stream; --fresh redoes it.
// LOAD: what the kept database holds changed (2: a sandbox merchant, the whole stream logged).
const LOAD = 2;
const dataDir = join(DATA, `preview-db-e${o.events}-g${GENERATOR_VERSION}-l${LOAD}`);
const loadedMark = `${dataDir}.json`;
// With --postgres or DATABASE_URL the server uses that database, and the
// stream is imported for a new merchant on every run.
const pg = o.postgres ? await startPostgres() : null;
const databaseUrl = pg?.url ?? process.env.DATABASE_URL;
const database = pg ? 'a temporary PostgreSQL 15' : databaseUrl ? 'DATABASE_URL' : 'embedded PGlite';
const kept = databaseUrl === undefined;
if (kept && (o.fresh || !existsSync(loadedMark))) {
  rmSync(loadedMark, { force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
{
  const db = await openDatabase(kept ? { dataDir } : { databaseUrl });
  const server = createServer(createApp(db, { rateLimit: undefined }));
  // The replays (spawnSync) hold this process's event loop for seconds: a
  // keep-alive socket the server timed out meanwhile would be closed under
  // the next request (ECONNRESET). Idle sockets stay open; close() ends them.
  server.keepAliveTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    let load: Load;
    if (kept && existsSync(loadedMark)) {
      load = JSON.parse(readFileSync(loadedMark, 'utf8')) as Load;
      progress(`reusing ${relative(ROOT, dataDir)} (imported ${load.accepted.toLocaleString('en-US')} events in ${sec(load.importMs)} on ${load.date})`);
    } else {
      const merchant = await createMerchant(db.prisma, 'Preview bench', readFileSync(PROGRAM, 'utf8'), { sandbox: true });
      progress(`importing ${relative(ROOT, stream)} (${o.events.toLocaleString('en-US')} events) through POST /events.jsonl into ${kept ? relative(ROOT, dataDir) : database} ...`);
      const t = performance.now();
      // node:http, not fetch: an import this size answers after longer than fetch's header timeout.
      const imported = await new Promise<{ ok: boolean; status: number; text: string }>((done, fail) => {
        const req = request(`${base}/events.jsonl`, { method: 'POST', headers: { authorization: `Bearer ${merchant.apiKey}`, 'content-type': 'application/x-ndjson' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => done({ ok: (res.statusCode ?? 0) < 300, status: res.statusCode ?? 0, text }));
        });
        req.on('error', fail);
        createReadStream(stream).pipe(req);
      });
      const summary = JSON.parse(imported.text) as { accepted: number; replayed: number; refused: unknown[]; malformed: unknown[] };
      if (!imported.ok) throw new Error(`import refused (${imported.status}): ${JSON.stringify(summary).slice(0, 500)}`);
      load = { apiKey: merchant.apiKey, merchantId: merchant.id, accepted: summary.accepted, replayed: summary.replayed, refused: summary.refused.length, malformed: summary.malformed.length, importMs: performance.now() - t, date: new Date().toISOString().slice(0, 16) + 'Z' };
      if (kept) writeFileSync(loadedMark, JSON.stringify(load));
    }
    progress(`  ${load.accepted} accepted, ${load.replayed} already there (ticks with nothing due), ${load.refused} refused, ${load.malformed} malformed; import ${sec(load.importMs)}`);
    const auth = { authorization: `Bearer ${load.apiKey}` };

    let t0 = performance.now();
    const res = await fetch(`${base}/events.jsonl`, { headers: auth });
    if (!res.ok || !res.body) throw new Error(`GET /events.jsonl: ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(exported));
    const exportMs = performance.now() - t0;
    const lines = readFileSync(exported, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
    progress(`  exported ${lines} lines (${(statSync(exported).size / 1e6).toFixed(1)} MB) in ${sec(exportMs)}`);

    const query = `query($source: String!) { previewProgram(source: $source) {
      __typename
      ... on ProgramPreview { events changed { members balance tier } before { ...side } after { outstanding } members(first: 20) { edges { node { id } } } }
      ... on ProgramInvalid { diagnostics { message } } } }
      fragment side on PreviewTotals { members earned redeemed expired reversed adjusted outstanding tiers { tier members } }`;
    const source = draftSource();
    const stored = await storedTotals(db.prisma, load.merchantId);
    const preview = async (): Promise<number> => {
      const t = performance.now();
      const r = await fetch(`${base}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { source } }) });
      const body = (await r.json()) as { data?: { previewProgram: { __typename: string; events?: number; before?: Totals } }; errors?: unknown[] };
      const ms = performance.now() - t;
      if (body.errors || body.data?.previewProgram.__typename !== 'ProgramPreview') throw new Error(`previewProgram failed: ${JSON.stringify(body).slice(0, 500)}`);
      if (body.data.previewProgram.events !== lines) throw new Error(`previewProgram replayed ${body.data.previewProgram.events} events, the export has ${lines}`);
      // The active program over the log gives what the server stored (one version, as written).
      const before = JSON.stringify(body.data.previewProgram.before);
      if (before !== JSON.stringify(stored)) throw new Error(`the preview's before side is not what the server stored:\n  preview ${before}\n  stored  ${JSON.stringify(stored)}`);
      return ms;
    };
    const replay = (): number => {
      const devnull = openSync('/dev/null', 'w');
      const t = performance.now();
      const r = spawnSync(process.execPath, [CLI, 'replay', PROGRAM, exported, '--json'], { cwd: ROOT, stdio: ['ignore', devnull, 'pipe'] });
      const ms = performance.now() - t;
      closeSync(devnull);
      if (r.status !== 0) throw new Error(`loyalty replay failed (exit ${r.status}): ${r.stderr.toString().slice(0, 500)}`);
      return ms;
    };
    replay(); // builds the CLI bundle if a source changed, outside the timings
    const load1 = loadavg()[0]!;
    const replays: number[] = [];
    const previews: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      replays.push(replay());
      previews.push(await preview());
      progress(`  run ${i + 1}/${o.repeat}: replay ${sec(replays[i]!)}, previewProgram ${sec(previews[i]!)}`);
    }
    const ratio = best(previews) / best(replays);
    rows.push(`| import (POST /events.jsonl) | ${sec(load.importMs)} | | ${Math.round(((load.accepted + load.replayed) / load.importMs) * 1000).toLocaleString('en-US')} lines/s, once (${load.date}) |`);
    rows.push(`| export (GET /events.jsonl) | ${sec(exportMs)} | | once |`);
    rows.push(`| \`loyalty replay --json\` of the export | ${sec(best(replays))} | ${sec(median(replays))} | |`);
    rows.push(`| previewProgram over GraphQL | ${sec(best(previews))} | ${sec(median(previews))} | ${ratio.toFixed(2)} × replay, best to best (goal ≤ ${GOAL}) ${ratio <= GOAL ? 'MET' : 'NOT MET'}; run by run ${previews.map((p, i) => (p / replays[i]!).toFixed(2)).join(', ')} |`);
    progress(`  before = stored: ${stored.members} members, ${stored.outstanding.toLocaleString('en-US')} points outstanding, ${stored.earned.toLocaleString('en-US')} earned`);
    ratioNote = `${lines.toLocaleString('en-US')} logged events, ${members.toLocaleString('en-US')} members, ${database}; Node ${process.version}, ${availableParallelism()} CPUs, load average ${load1.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} (1 min, at the first run and after the last); ${o.repeat} runs each`;
  } finally {
    server.close();
    await db.close();
    await pg?.stop();
  }
}
console.log(`\n${ratioNote}\n`);
console.log('| measurement | best | median | notes |');
console.log('|---|---|---|---|');
console.log(rows.join('\n'));
