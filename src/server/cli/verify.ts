// npm run db:verify [-- --merchant <id>]: replays every merchant's event log
// and compares member by member with the stored states, balances and
// ledgers; prints each difference; exits 1 when there is any.
// Uses DATABASE_URL, or the embedded database: through the running server when one holds it.
import { Command } from 'commander';
import type { VerifyReport } from '../services/verify.ts';
import { runCli } from './run.ts';

const cli = new Command('db:verify')
  .description("Replay each merchant's event log and compare it with the stored members (exit 1 on any difference).")
  .option('--merchant <id>', 'only this merchant')
  .parse();
const opts = cli.opts<{ merchant?: string }>();

await runCli('db.verify', { merchant: opts.merchant }, (r: { reports: VerifyReport[] }) => {
  let differences = 0;
  for (const report of r.reports) {
    differences += report.differences.length;
    const skipped = report.skipped ? `, ${report.skipped} erased (not compared)` : '';
    console.log(`${report.merchantId}: ${report.events} events, ${report.members} members${skipped}: ${report.differences.length ? `${report.differences.length} differences` : 'ok'}`);
    for (const d of report.differences) console.log(`  ${d.member} ${d.what}: ${d.message}`);
  }
  if (differences) process.exitCode = 1;
});
