// npm run import -- FILE [--url URL] [--key KEY] [--no-notifications]: sends a JSONL history
// (replay.md lines, e.g. an export of GET /events.jsonl or another
// platform's history) to the running server's POST /events.jsonl, which
// applies it through the engine with the API's idempotency, and prints the
// summary. Talking to the server (never opening the database itself) keeps
// one process on an embedded database. The key is an admin key
// (LOYALTY_KEY or --key); the server is LOYALTY_URL or http://127.0.0.1:$PORT.
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { readConfig } from '../config.ts';
import { MAX_PROBLEMS, type ImportSummary } from '../services/import.ts';

const cli = new Command('import')
  .description('Import a JSONL event history into the running server (POST /events.jsonl).')
  .argument('<file>', 'the events, one replay.md line each')
  .option('--url <url>', 'the server', process.env.LOYALTY_URL ?? `http://127.0.0.1:${readConfig().PORT}`)
  .option('--key <key>', 'an admin API key (default: $LOYALTY_KEY)', process.env.LOYALTY_KEY)
  .option('--no-notifications', 'record no notifications for the imported lines (no webhooks, no reminders), as for a history brought from another platform')
  .parse();
const [file] = cli.args as [string];
const opts = cli.opts<{ url: string; key?: string; notifications: boolean }>();
if (!opts.key) cli.error('give an admin API key: --key lk_... or LOYALTY_KEY');

let size: number;
try {
  size = statSync(file).size;
} catch (error) {
  cli.error(`cannot read ${file}: ${(error as Error).message}`);
}
const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'import [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr }) : null;
bar?.start(size!, 0);
const stream = createReadStream(file);
stream.on('data', (chunk) => bar?.increment(chunk.length));

let response: Response;
try {
  response = await fetch(new URL(opts.notifications ? '/events.jsonl' : '/events.jsonl?notifications=false', opts.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/x-ndjson' },
    body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit & { duplex: 'half' });
} catch (error) {
  bar?.stop();
  console.error(`cannot reach the server at ${opts.url} (is it running? npm start): ${(error as Error).message}`);
  process.exit(1);
}
bar?.stop();
const body = (await response.json()) as ImportSummary & { errors?: { message: string }[] };
if (!response.ok) {
  console.error(`import refused (${response.status}): ${body.errors?.[0]?.message ?? JSON.stringify(body)}`);
  process.exit(1);
}
console.log(`${body.accepted} accepted, ${body.replayed} already there, ${body.refusedCount} refused, ${body.malformedCount} malformed`);
for (const p of [...body.malformed, ...body.refused].sort((a, b) => a.line - b.line)) console.log(`  line ${p.line}: ${p.code} ${p.message}`);
const unlisted = body.refusedCount - body.refused.length + (body.malformedCount - body.malformed.length);
if (unlisted > 0) console.log(`  ... and ${unlisted} more (the first ${MAX_PROBLEMS} refused and the first ${MAX_PROBLEMS} malformed are listed)`);
process.exit(body.malformedCount ? 1 : 0);
