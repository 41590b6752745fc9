// dsl.md 3, settings (2.1): keywords the parser did not know, each setting
// at most once and before the sections, a known currency and timezone, a
// named points unit, a currency at all, and a `pending` of at least 1 unit.
import type * as A from '../ast.ts';
import { COMMON_CURRENCIES, CURRENCIES } from '../currencies.ts';
import { closest } from '../diagnostics.ts';
import { BLOCKS } from '../parser.ts';
import { isTimeZone, timeZoneNames } from '../values.ts';
import type { CheckContext } from './context.ts';
import { duration } from './literals.ts';

export function checkSettings(ctx: CheckContext, ast: A.ProgramAst): void {
  const seen = new Map<string, A.Loc>();
  let sawSection: A.Loc | null = null;
  for (const u of ast.unknown) {
    const block = BLOCKS[u.block];
    const hint = block ? closest(u.word.text, block.words) : undefined;
    ctx.report('E004', u.word.loc, `unknown keyword "${u.word.text}"`, hint ? `did you mean "${hint}"?` : block ? `expected ${block.what}` : undefined);
  }
  for (const item of ast.items) {
    const key = settingKey(item);
    if (key === null) {
      sawSection ??= item.loc;
      continue;
    }
    if (sawSection) ctx.report('E017', item.loc, `setting "${key}" comes after a section`, 'move every setting above the first rule or section');
    const prev = seen.get(key);
    if (prev) ctx.report('E013', item.loc, `setting "${key}" is given twice (first on line ${prev.line})`, 'keep one of them');
    else seen.set(key, item.loc);
    if (item.kind === 'currency' && !prev) {
      const currency = item.code.text;
      ctx.currency = currency;
      if (!CURRENCIES.has(currency)) {
        const hint = closest(currency, CURRENCIES, COMMON_CURRENCIES);
        ctx.report('E012', item.code.loc, `unknown currency code "${currency}"`, hint ? `did you mean "${hint}"?` : 'use an ISO 4217 code such as USD, EUR or JPY');
      } else ctx.currencyOk = true;
    }
    if (item.kind === 'timezone' && !isTimeZone(item.value.text)) {
      const hint = closest(item.value.text, timeZoneNames());
      ctx.report('E019', item.value.loc, `unknown timezone "${item.value.text}"`, hint ? `did you mean "${hint}"?` : 'use an IANA zone name such as "America/New_York"');
    }
    if (item.kind === 'unit' && item.value.text.trim() === '') ctx.report('E060', item.value.loc, 'the points unit needs a name', 'for example unit "Beans"');
  }
  if (!seen.has('currency')) {
    const loc = ast.name?.loc ?? ast.loc;
    ctx.report('E010', loc, 'the program has no currency', 'add a setting such as `currency USD` at the top of the program');
  }
  // 2.1: points vest at least one unit after the order; without the setting they are written at once.
  for (const item of ast.items)
    if (item.kind === 'pending') duration(ctx, item.duration, 'pending', 'give at least 1 day (e.g. `pending 14 days`), or remove the setting to write points at the order');
}

function settingKey(item: A.Item): string | null {
  switch (item.kind) {
    case 'currency':
    case 'timezone':
    case 'unit':
    case 'base':
    case 'pending':
      return item.kind;
    case 'exclude':
      return `exclude ${item.target}`;
    default:
      return null;
  }
}
