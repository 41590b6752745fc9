// npm run merchant:create -- --name "Bean & Leaf" [--program examples/coffee-chain.loyalty]
// npm run merchant:create -- --merchant <id>          (another key for an existing merchant)
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { readConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { createApiKey } from '../services/auth.ts';
import { ProgramInvalidError } from '../services/errors.ts';
import { createMerchant } from '../services/merchants.ts';
import { renderDiagnostic } from '../engine.ts';

const cli = new Command('merchant:create')
  .description('Create a merchant (or a new API key for one) and print the API key. Uses DATABASE_URL or the embedded database.')
  .option('--name <name>', 'name of the new merchant')
  .option('--program <file>', 'publish this .loyalty program as its first version')
  .option('--merchant <id>', 'create another API key for this existing merchant')
  .option('--label <label>', 'label of the API key')
  .parse();

const opts = cli.opts<{ name?: string; program?: string; merchant?: string; label?: string }>();
if (!opts.name === !opts.merchant) cli.error('give either --name (new merchant) or --merchant (new key)');

const config = readConfig();
const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.LOYALTY_DATA_DIR });
let exitCode = 0;
try {
  if (opts.merchant) {
    const merchant = await db.prisma.merchant.findUnique({ where: { id: opts.merchant } });
    if (!merchant) throw new Error(`no merchant ${opts.merchant}`);
    console.log(`Merchant: ${merchant.id} (${merchant.name})`);
    console.log(`API key: ${await createApiKey(db.prisma, merchant.id, opts.label ?? null)}`);
  } else {
    const source = opts.program ? readFileSync(opts.program, 'utf8') : undefined;
    const created = await createMerchant(db.prisma, opts.name!, source);
    console.log(`Merchant: ${created.id} (${created.name})`);
    console.log(`API key: ${created.apiKey}`);
  }
} catch (error) {
  exitCode = 1;
  if (error instanceof ProgramInvalidError) {
    for (const d of error.diagnostics) console.error(renderDiagnostic(d, error.source));
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
} finally {
  await db.close();
}
process.exit(exitCode);
