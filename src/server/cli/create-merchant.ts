// npm run merchant:create -- --name "Bean & Leaf" [--program examples/coffee-chain.loyalty] [--sandbox]
// npm run merchant:create -- --merchant <id> [--scope write] [--label POS]   (another key for an existing merchant)
// Uses DATABASE_URL, or the embedded database: through the running server when one holds it.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { KEY_SCOPES } from '../services/auth.ts';
import { runCli } from './run.ts';

const cli = new Command('merchant:create')
  .description('Create a merchant (or a new API key for one) and print the API key. Uses DATABASE_URL or the embedded database.')
  .option('--name <name>', 'name of the new merchant')
  .option('--program <file>', 'publish this .loyalty program as its first version')
  .option('--sandbox', 'a merchant for QA: its writes and advanceTime may be dated any time, future included')
  .option('--merchant <id>', 'create another API key for this existing merchant')
  .addOption(new Option('--scope <scope>', 'scope of that key').choices(KEY_SCOPES).default('admin'))
  .option('--label <label>', 'label of the API key')
  .parse();

const opts = cli.opts<{ name?: string; program?: string; sandbox?: boolean; merchant?: string; scope: string; label?: string }>();
if (!opts.name === !opts.merchant) cli.error('give either --name (new merchant) or --merchant (new key)');

interface Merchant {
  id: string;
  name: string;
}

if (opts.merchant) {
  await runCli('key.create', { merchant: opts.merchant, scope: opts.scope, label: opts.label }, (r: { merchant: Merchant; key: string }) => {
    console.log(`Merchant: ${r.merchant.id} (${r.merchant.name})`);
    console.log(`API key: ${r.key}`);
  });
} else {
  let program: string | undefined;
  try {
    program = opts.program ? readFileSync(opts.program, 'utf8') : undefined;
  } catch (error) {
    cli.error(`cannot read ${opts.program}: ${(error as Error).message}`);
  }
  await runCli('merchant.create', { name: opts.name, program, sandbox: opts.sandbox === true }, (r: { merchant: Merchant & { sandbox?: boolean }; key: string }) => {
    console.log(`Merchant: ${r.merchant.id} (${r.merchant.name})${r.merchant.sandbox ? ', a sandbox: its clock moves freely' : ''}`);
    console.log(`API key: ${r.key}`);
  });
}
