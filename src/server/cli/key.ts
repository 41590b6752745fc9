// npm run key -- create --scope read --label POS [--merchant <id>]
// npm run key -- list [--merchant <id>]
// npm run key -- revoke <key id or prefix> [--merchant <id>]
// --merchant may be left out while there is one merchant. Uses DATABASE_URL,
// or the embedded database: through the running server when one holds it.
import { Command, Option } from 'commander';
import type { KeyView } from '../admin/commands.ts';
import { KEY_SCOPES } from '../services/auth.ts';
import { runCli } from './run.ts';

interface Merchant {
  id: string;
  name: string;
}
type Key = KeyView;

const describe = (k: Key) =>
  [k.id, k.prefix, k.scope.padEnd(5), k.revokedAt ? `revoked ${k.revokedAt}` : `last used ${k.lastUsedAt ?? 'never'}`, k.label ?? ''].join('  ');

const cli = new Command('key').description("Create, list and revoke a merchant's API keys.");
cli
  .command('create')
  .description('create a key and print it (shown only this once)')
  .addOption(new Option('--scope <scope>', 'what the key may do').choices(KEY_SCOPES).makeOptionMandatory())
  .option('--label <label>', 'what the key is for, e.g. "POS"')
  .option('--merchant <id>', 'the merchant (default: the only one)')
  .action((opts: { scope: string; label?: string; merchant?: string }) =>
    runCli('key.create', opts, (r: { merchant: Merchant; key: string; apiKey: Key }) => {
      console.log(`Merchant: ${r.merchant.id} (${r.merchant.name})`);
      console.log(`Key: ${describe(r.apiKey)}`);
      console.log(`API key: ${r.key}`);
    }),
  );
cli
  .command('list')
  .description("list the merchant's keys (never the keys themselves)")
  .option('--merchant <id>', 'the merchant (default: the only one)')
  .action((opts: { merchant?: string }) =>
    runCli('key.list', opts, (r: { merchant: Merchant; keys: Key[] }) => {
      console.log(`Merchant: ${r.merchant.id} (${r.merchant.name})`);
      for (const k of r.keys) console.log(describe(k));
    }),
  );
cli
  .command('revoke <key>')
  .description('revoke a key by its id or prefix (lk_...)')
  .option('--merchant <id>', 'the merchant (default: the only one)')
  .action((key: string, opts: { merchant?: string }) =>
    runCli('key.revoke', { ...opts, key }, (r: { apiKey: Key }) => console.log(`Revoked: ${describe(r.apiKey)}`)),
  );
await cli.parseAsync();
