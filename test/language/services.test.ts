// The language services on their own, as the LSP server and the console
// call them: plain text in, 0-based positions out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLanguageService, indexDocs, type LoyaltyDocument, type Position } from '../../src/language/index.ts';
import { symbolTable, type AstNode } from '../../src/language/symbols.ts';
import type { ProgramAst } from '../../dsl/ast.ts';
import { exampleCases, ROOT } from '../support.ts';

const guide = readFileSync(join(ROOT, 'docs/dsl.md'), 'utf8');
const services = createLanguageService({ docs: guide });

/** A document and the position of `|` in it (the `|` removed). */
function cursor(textWithBar: string): { doc: LoyaltyDocument; p: Position } {
  const offset = textWithBar.indexOf('|');
  const text = textWithBar.slice(0, offset) + textWithBar.slice(offset + 1);
  const doc = services.analyze(text, 't.loyalty');
  return { doc, p: doc.positionAt(offset) };
}
const labels = (textWithBar: string) => {
  const { doc, p } = cursor(textWithBar);
  return services.complete(doc, p).map((i) => i.label);
};

const HEAD = 'program "T" {\n  currency USD\n  base 1 point per 1 USD\n';
const TIERS = '  tiers {\n    tier Green at 0\n    tier Silver at 300 USD { perk "lounge" }\n  }\n';

describe('diagnostics', () => {
  it('are the compiler diagnostics at 0-based ranges, with the hint and its fix', () => {
    const doc = services.analyze('program "T" {\n  currency USD\n  timezone "Europe/Pariss"\n}\n', 't.loyalty');
    const [d] = services.diagnostics(doc);
    expect(d).toMatchObject({ code: 'E019', severity: 'error', range: { start: { line: 2, character: 11 }, end: { line: 2, character: 26 } }, hint: 'did you mean "Europe/Paris"?' });
    // The marked text is a string, so the fix writes a string.
    expect(d!.fixes).toEqual([{ title: 'Change to "Europe/Paris"', edit: { range: d!.range, newText: '"Europe/Paris"' } }]);
  });

  it('warn with the as-of date given', () => {
    const text = HEAD + '  rule "Xmas" { during 2025-12-01 to 2025-12-24  bonus 5 points }\n}\n';
    expect(services.diagnostics(services.analyze(text, 't.loyalty', { asOf: '2026-01-01' })).map((d) => [d.code, d.severity])).toEqual([['W001', 'warning']]);
    expect(services.diagnostics(services.analyze(text, 't.loyalty', { asOf: '2025-06-01' }))).toEqual([]);
  });
});

describe('completion', () => {
  it('offers the keywords the grammar takes at the cursor', () => {
    expect(labels(HEAD + '  |')).toEqual(expect.arrayContaining(['rule', 'tiers', 'club', 'on', 'redeem', 'expire']));
    expect(labels(HEAD + '  rule "R" {\n    |')).toEqual(['category', 'sku', 'exclude', 'during', 'days', 'hours', 'when', 'multiplier', 'extra', 'bonus', 'limit', 'once']);
    expect(labels(HEAD + '  rule "R" {\n    bonus 5 points per |')).toEqual(['item']);
    expect(labels(HEAD + '  rule "R" {\n    days mon, |')).toEqual(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
    expect(labels(HEAD + '  rule "R" {\n    limit 5 times per |')).toEqual(['day', 'week', 'month', 'year', 'order', 'member']);
    expect(labels(HEAD + '  rule "R" {\n    when order.|')).toEqual(['total', 'items', 'channel']);
    expect(labels(HEAD + TIERS.replace('{ perk', '{ |perk'))).toEqual(['multiplier', 'discount', 'perk']);
    expect(labels(HEAD + TIERS.replace('{ perk', '{ discount 5% on |perk'))).toEqual(['category', 'everything']);
    expect(labels(HEAD + '  club "C" {\n    discount 5% on |')).toEqual(['category', 'everything']);
  });

  it('offers reward and its statements, and the member operands in a reward\'s when', () => {
    expect(labels(HEAD + '  |')).toContain('reward');
    expect(labels(HEAD + '  reward "R" {\n    |')).toEqual(['cost', 'when', 'limit', 'once', 'value']);
    expect(labels(HEAD + '  reward "R" {\n    cost 5 |')).toEqual(expect.arrayContaining(['points']));
    expect(labels(HEAD + '  reward "R" {\n    limit 1 times per |')).toEqual(expect.arrayContaining(['month', 'member']));
    expect(labels(HEAD + TIERS + '  reward "R" {\n    when member.tier >= |')).toEqual(expect.arrayContaining(['Green', 'Silver']));
  });

  it('offers challenge, its goals, filters and bonus, and the periods of a goal', () => {
    expect(labels(HEAD + '  |')).toContain('challenge');
    expect(labels(HEAD + '  challenge "C" {\n    |')).toEqual(['orders', 'spend', 'category', 'sku', 'exclude', 'bonus']);
    expect(labels(HEAD + '  challenge "C" {\n    orders 3 per |')).toEqual(['day', 'week', 'month', 'year', 'order', 'member']);
    expect(labels(HEAD + '  challenge "C" {\n    bonus 5 |')).toEqual(expect.arrayContaining(['points']));
    expect(labels(HEAD + '  rule "R" { category "coffee"  bonus 1 point }\n  challenge "C" {\n    category |')).toEqual(['"coffee"']);
  });

  it('offers pending among the settings, and the duration units after its number', () => {
    expect(labels(HEAD + '  |')).toContain('pending');
    expect(labels(HEAD + '  pending 14 |')).toEqual(expect.arrayContaining(['days', 'weeks', 'months', 'years']));
  });

  it('replaces the word being typed', () => {
    const { doc, p } = cursor(HEAD + '  rule "R" {\n    multi|');
    const item = services.complete(doc, p).find((i) => i.label === 'multiplier')!;
    expect(item.edit).toEqual({ range: { start: { line: 4, character: 4 }, end: { line: 4, character: 9 } }, newText: 'multiplier' });
    expect(item.documentation).toContain('the matching lines earn 2 times their base points');
  });

  it('still completes after a mistake earlier in the program', () => {
    expect(labels('program "T" {\n  currency USD\n  base 1 poin per 1 USD\n  rule "R" {\n    when member.|')).toEqual(['tier', 'club']);
    expect(labels(HEAD + '  rule "A" { multipler 2x bonus }\n  rule "B" {\n    bonus 5 points |')).toEqual(expect.arrayContaining(['per', 'limit', 'category']));
  });

  it('lists the tiers where a tier is compared, and the clubs after member.club', () => {
    const program = HEAD + TIERS + '  club "Bean Club" { fee 5 USD per month }\n  club "Tea Club" { multiplier 2x }\n';
    expect(labels(program + '  rule "R" {\n    when member.tier >= |')).toEqual(['Green', 'Silver']);
    expect(labels(program + '  rule "R" {\n    when member.tier |')).toEqual(expect.arrayContaining(['>=', '>= Green', '== Silver']));
    expect(labels(program + '  rule "R" {\n    when member.club |')).toEqual(['"Bean Club"', '"Tea Club"']);
    const { doc, p } = cursor(program + '  rule "R" {\n    when member.club "Te|');
    const [tea] = services.complete(doc, p).filter((i) => i.label === '"Tea Club"');
    expect(tea!.edit.range).toEqual({ start: { line: p.line, character: p.character - 3 }, end: p });
  });

  it('lists the categories and skus the program already names', () => {
    const program = HEAD + '  exclude category "gift-card"\n  rule "A" { category "pastry", "bread"  sku "LATTE"  bonus 1 point }\n';
    expect(labels(program + '  rule "B" {\n    category "bread", |')).toEqual(['"gift-card"', '"pastry"', '"bread"']);
    expect(labels(program + '  rule "B" {\n    exclude sku |')).toEqual(['"LATTE"']);
    // The string being typed is not offered back.
    expect(labels(program + '  rule "B" {\n    category "cro|')).toEqual(['"gift-card"', '"pastry"', '"bread"']);
  });

  it('offers currency codes and time zones for the settings that take them', () => {
    expect(labels('program "T" {\n  currency |').slice(0, 3)).toEqual(['USD', 'EUR', 'JPY']);
    expect(labels('program "T" {\n  currency USD\n  timezone "Europe/Pa|')).toContain('"Europe/Paris"');
  });

  it('offers nothing inside a comment', () => {
    expect(labels(HEAD + '  # a rule for |\n}\n')).toEqual([]);
  });

  it('never throws, wherever the cursor is in a real program', { timeout: 60_000 }, () => {
    for (const c of exampleCases()) {
      const text = readFileSync(c.program, 'utf8');
      for (let offset = 0; offset <= text.length; offset += 29) {
        const doc = services.analyze(text.slice(0, offset), 't.loyalty');
        const p = doc.positionAt(offset);
        expect(() => services.complete(doc, p)).not.toThrow();
        expect(() => services.hover(doc, p)).not.toThrow();
      }
    }
  });
});

describe('hover', () => {
  const hover = (textWithBar: string) => {
    const { doc, p } = cursor(textWithBar);
    return services.hover(doc, p)?.contents;
  };

  it('says what a keyword means, in the guide’s words', () => {
    expect(hover(HEAD + '  rule "R" { da|ys sat, sun  bonus 5 points }\n}\n')).toContain('the order’s local weekday is listed'.replace('’', "'"));
    // A phrase before the word: `order.total`, `on signup`.
    expect(hover(HEAD + '  rule "R" { when order.to|tal >= 5 USD  bonus 5 points }\n}\n')).toContain('**`order.total`**');
    expect(hover(HEAD + '  on sign|up { bonus 5 points }\n}\n')).toContain('awarded when the member signs up');
    // A word the guide does not describe on its own: the statement it is in.
    expect(hover(HEAD + '  rule "R" { bonus 5 points  limit 5 times p|er week }\n}\n')).toContain('**`limit`** — Limits');
  });

  it('explains pending from the guide', () => {
    const h = hover(HEAD + '  pend|ing 30 days\n}\n')!;
    expect(h).toContain('**`pending`**');
    expect(h).toContain('written to the\nledger only 30 days later'.replace('\n', ' '));
  });

  it('explains rewards, cost and value from the guide', () => {
    const h = hover(HEAD + '  rew|ard "Free latte" { cost 450 points }\n}\n')!;
    expect(h).toContain('**`reward`**');
    expect(h).toContain('redeem_reward');
    expect(hover(HEAD + '  reward "R" { co|st 450 points }\n}\n')).toContain('what one redemption takes off the balance');
    expect(hover(HEAD + '  reward "R" { cost 1 point  val|ue 4.50 USD }\n}\n')).toContain('for your app to show');
  });

  it('explains challenges, their goals and a challenge by its name', () => {
    const text = HEAD + '  challenge "Big month" {\n    spend 50 USD per month\n    bonus 200 points\n  }\n}\n';
    expect(hover(text.replace('challenge "Big', 'chal|lenge "Big'))).toContain('one-off bonus');
    expect(hover(text.replace('spend 50', 'sp|end 50'))).toContain('what the member paid on the challenge');
    expect(hover(HEAD + '  challenge "C" { or|ders 3 per week  bonus 5 points }\n}\n')).toContain('counts for the challenge');
    const h = hover(text.replace('"Big month"', '"Big |month"'))!;
    expect(h).toContain('**challenge "Big month"**');
    expect(h).toContain('- `spend 50 USD per month`');
    expect(h).toContain('- `bonus 200 points`');
  });

  it('explains discounts in tiers and clubs, both forms', () => {
    const tiers = '  tiers {\n    tier Green at 0 { discount 5% on every|thing }\n  }\n}\n';
    const h = hover(HEAD + tiers)!;
    expect(h).toContain('**`discount`**');
    expect(h).toContain('on everything');
    expect(h).toContain('on category');
    expect(hover(HEAD + '  club "C" { disc|ount 10% on category "beans" }\n}\n')).toContain('on every line of the order');
  });

  it('describes a tier where it is used, with its threshold, perks and the tiers section’s rules', () => {
    const text = HEAD + '  rule "R" { when member.tier >= Sil|ver  bonus 5 points }\n' + TIERS + '}\n';
    const h = hover(text)!;
    expect(h).toContain('**tier Silver at 300 USD** — 2nd of 2 tiers');
    expect(h).toContain('- `perk "lounge"`');
    expect(h).toContain('Used on line 4.');
    expect(h).toContain('Declared on line 7.');
  });

  it('without the guide, still names the keyword', () => {
    const bare = createLanguageService();
    const doc = bare.analyze(HEAD + '}\n', 't.loyalty');
    expect(bare.hover(doc, { line: 2, character: 3 })?.contents).toBe('**`base`** — keyword');
  });
});

describe('the guide', () => {
  it('is read by heading first: a construct’s `keyword` heading, summary and example', () => {
    const v2 = [
      '## 2. The language',
      '### `reward` — a reward members can buy with points',
      '',
      'A reward is something a member redeems points for.',
      '',
      '```loyalty',
      'reward "Free latte" { cost 450 points }',
      '```',
      '',
      '| statement | meaning |',
      '|---|---|',
      '| `cost 450 points` | what the reward costs |',
    ].join('\n');
    const docs = indexDocs(v2);
    expect(docs.lookup('reward')).toEqual({ keyword: 'reward', title: '`reward` — a reward members can buy with points', summary: 'A reward is something a member redeems points for.', example: 'reward "Free latte" { cost 450 points }' });
    expect(docs.lookup('cost')).toMatchObject({ summary: 'what the reward costs', example: 'cost 450 points' });
    expect(docs.lookup('challenge')).toBeUndefined();
  });

  it('describes most keywords of today’s guide', () => {
    const docs = indexDocs(guide);
    for (const k of ['currency', 'base', 'rule', 'category', 'days', 'when', 'multiplier', 'bonus', 'limit', 'tiers', 'tier', 'qualify', 'club', 'fee', 'discount', 'referral', 'redeem', 'expire', 'pending', 'order.total', 'on signup'])
      expect(docs.lookup(k), k).toBeDefined();
    expect(docs.lookup('discount')?.summary).toContain('on everything');
  });
});

describe('navigation', () => {
  const text = HEAD + '  rule "R" {\n    when member.tier >= Silver or member.club "Bean Club"\n    bonus 5 points\n  }\n' + TIERS + '  club "Bean Club" { multiplier 2x }\n}\n';
  const doc = services.analyze(text, 't.loyalty');
  const lines = text.split('\n');
  const on = (line: number, word: string): Position => ({ line, character: lines[line]!.indexOf(word) + 1 });

  it('goes from a use to the declaration, and finds every use', () => {
    expect(services.definition(doc, on(4, 'Silver'))).toEqual({ start: { line: 9, character: 9 }, end: { line: 9, character: 15 } });
    expect(services.references(doc, on(9, 'Silver'))).toEqual([
      { start: { line: 4, character: 24 }, end: { line: 4, character: 30 } },
      { start: { line: 9, character: 9 }, end: { line: 9, character: 15 } },
    ]);
    expect(services.references(doc, on(11, 'Bean'), false)).toEqual([{ start: { line: 4, character: 46 }, end: { line: 4, character: 57 } }]);
    expect(services.definition(doc, on(4, 'bonus'))).toBeNull();
  });

  it('outlines challenges and goes to a challenge from its name (nothing else refers to one)', () => {
    const text = HEAD + '  challenge "Three visits" {\n    orders 3 per week\n    bonus 100 points\n  }\n  challenge "Big month" { spend 50 USD per month  bonus 200 points }\n}\n';
    const d = services.analyze(text, 't.loyalty');
    const ls = text.split('\n');
    const symbols = services.documentSymbols(d).filter((s) => s.detail === 'challenge');
    expect(symbols.map((s) => [s.name, s.range.start.line])).toEqual([['Three visits', 3], ['Big month', 7]]);
    const at = { line: 7, character: ls[7]!.indexOf('Big') + 1 };
    expect(services.definition(d, at)).toEqual({ start: { line: 7, character: 12 }, end: { line: 7, character: 23 } });
    expect(services.references(d, at)).toEqual([{ start: { line: 7, character: 12 }, end: { line: 7, character: 23 } }]);
    expect(services.definition(d, { line: 4, character: 6 })).toBeNull();
  });

  it('reads declarations by their shape, so a new kind of section needs no code', () => {
    const loc = (line: number) => ({ line, column: 3, endLine: line, endColumn: 20 });
    const reward: AstNode = { kind: 'reward', name: { text: 'Free latte', raw: '"Free latte"', loc: loc(5) }, body: [{ kind: 'when', expr: { kind: 'tierName', name: { text: 'Gold', loc: loc(6) }, loc: loc(6) }, loc: loc(6) }], loc: loc(5) };
    const ast = { name: null, items: [reward], unknown: [], comments: [], loc: loc(1) } as unknown as ProgramAst;
    const table = symbolTable(ast);
    expect(table.declarations.map((d) => [d.kind, d.name])).toEqual([['reward', 'Free latte']]);
    expect(table.references).toEqual([{ kind: 'tier', name: 'Gold', loc: loc(6) }]);
  });
});

describe('formatting', () => {
  it('edits only the lines that change', () => {
    const text = 'program "T" {\r\n  currency USD\r\n    base 1 points per 1USD\r\n}\r\n';
    const doc = services.analyze(text, 't.loyalty');
    expect(services.format(doc).edits).toEqual([{ range: { start: { line: 0, character: 0 }, end: { line: 4, character: 0 } }, newText: 'program "T" {\n  currency USD\n  base 1 point per 1 USD\n}\n' }]);
    const unix = services.analyze('program "T" {\n  currency USD\n    base 1 points per 1USD\n}\n', 't.loyalty');
    expect(services.format(unix).edits).toEqual([{ range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }, newText: '  base 1 point per 1 USD\n' }]);
  });

  it('leaves a program that does not parse alone, and says why', () => {
    const r = services.format(services.analyze('program "T" {\n  currency USD\n  rule "R" { bonus }\n}\n', 't.loyalty'));
    expect(r.edits).toEqual([]);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E001']);
  });
});

describe('outline and colours', () => {
  it('outlines every example with a symbol for each setting and section', () => {
    for (const c of exampleCases()) {
      const doc = services.analyze(readFileSync(c.program, 'utf8'), c.program);
      expect(services.documentSymbols(doc).length, c.name).toBe(doc.ast.items.length);
    }
  });

  it('colours names as what they declare, in order and on one line each', () => {
    const text = HEAD + '  rule "R" { when member.tier >= Silver  bonus 5 points }  # promo\n' + TIERS + '}\n';
    const doc = services.analyze(text, 't.loyalty');
    const tokens = services.semanticTokens(doc);
    const lines = text.split('\n');
    const word = (line: number, w: string) => tokens.find((t) => t.line === line && t.character === lines[line]!.indexOf(w));
    expect(word(3, '"R"')).toMatchObject({ type: 'function', modifiers: ['declaration'], length: 3 });
    expect(word(3, 'member')).toMatchObject({ type: 'keyword' });
    expect(word(3, 'tier')).toMatchObject({ type: 'property' });
    expect(word(3, 'Silver')).toMatchObject({ type: 'enumMember', modifiers: [] });
    expect(word(3, '>=')).toMatchObject({ type: 'operator' });
    expect(word(3, '# promo')).toMatchObject({ type: 'comment', length: 7 });
    expect(word(6, 'Silver')).toMatchObject({ type: 'enumMember', modifiers: ['declaration'] });
    expect(word(6, '300 USD')).toMatchObject({ type: 'number', length: 7 });
    const sorted = [...tokens].sort((a, b) => a.line - b.line || a.character - b.character);
    expect(tokens).toEqual(sorted);
    expect(services.encodeSemanticTokens(tokens.slice(0, 2))).toEqual([0, 0, 7, 0, 0, 0, 8, 3, 1, 0]);
  });
});
