// `loyalty lsp --stdio` as an editor drives it: a scripted client starts
// the real command, speaks JSON-RPC over its pipes, and checks what a
// merchant would see in VS Code.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ROOT } from '../support.ts';

interface Position {
  line: number;
  character: number;
}
interface Range {
  start: Position;
  end: Position;
}
interface Diagnostic {
  range: Range;
  severity: number;
  code: string;
  source: string;
  message: string;
}
interface CompletionItem {
  label: string;
  kind: number;
  textEdit: { range: Range; newText: string };
}
interface DocumentSymbol {
  name: string;
  detail?: string;
  kind: number;
  children?: DocumentSymbol[];
}

const COFFEE = join(ROOT, 'examples/coffee-chain.loyalty');
const coffee = readFileSync(COFFEE, 'utf8');
const coffeeUri = 'file://' + COFFEE;

// A program as a merchant might type it: a misspelt keyword, an unknown
// tier, money in another currency, and a rule that uses a tier and a club.
const MISTAKES = `program "Draft" {
  currency USD
  base 1 point per 1 USD

  rule "Double" {
    multipler 2x
  }

  rule "Regulars" {
    when member.tier >= Silvr and member.club "Bean Club"
    bonus 10 points
  }

  tiers {
    tier Green at 0
    tier Silver at 300 EUR
  }

  club "Bean Club" { fee 5 USD per month }
}
`;
const draftUri = 'file:///tmp/draft.loyalty';

let server: ChildProcessWithoutNullStreams;
let connection: MessageConnection;
let stderr = '';
const published = new Map<string, Diagnostic[][]>();
const waiters: (() => void)[] = [];

function diagnosticsFor(uri: string, count = 1): Promise<Diagnostic[]> {
  return new Promise((resolve) => {
    const check = () => {
      const got = published.get(uri) ?? [];
      if (got.length >= count) {
        resolve(got[count - 1]!);
        return true;
      }
      return false;
    };
    if (!check()) waiters.push(() => void check());
  });
}

const at = (text: string, line: number, word: string, delta = 0): Position => ({ line, character: text.split('\n')[line]!.indexOf(word) + delta });

beforeAll(async () => {
  server = spawn(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), 'lsp', '--stdio'], { cwd: ROOT });
  server.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  connection = createMessageConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  connection.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diagnostic[] }) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p.diagnostics]);
    for (const w of waiters.splice(0)) w();
  });
  connection.listen();
  const init = await connection.sendRequest<{ capabilities: Record<string, unknown> }>('initialize', { processId: process.pid, rootUri: 'file://' + ROOT, capabilities: {} });
  expect(init.capabilities).toMatchObject({ textDocumentSync: 1, hoverProvider: true, definitionProvider: true, referencesProvider: true, documentFormattingProvider: true });
  await connection.sendNotification('initialized', {});
  for (const [uri, text] of [
    [draftUri, MISTAKES],
    [coffeeUri, coffee],
  ] as const)
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'loyalty', version: 1, text } });
}, 60_000);

afterAll(async () => {
  if (!connection) return;
  await connection.sendRequest('shutdown');
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  await connection.sendNotification('exit');
  expect(await exited).toBe(0);
  connection.dispose();
});

describe('loyalty lsp --stdio', { timeout: 60_000 }, () => {
  it('publishes the compiler diagnostics of an opened document, with codes, ranges and hints', async () => {
    const ds = await diagnosticsFor(draftUri);
    const byCode = (code: string) => ds.find((d) => d.code === code);
    expect(ds.every((d) => d.source === 'loyalty')).toBe(true);
    expect(byCode('E004')).toMatchObject({ severity: 1, range: { start: { line: 5, character: 4 }, end: { line: 5, character: 13 } } });
    expect(byCode('E004')!.message).toBe('unknown keyword "multipler"\nhint: did you mean "multiplier"?');
    expect(byCode('E050')).toMatchObject({ range: { start: { line: 9, character: 24 }, end: { line: 9, character: 29 } } });
    expect(byCode('E050')!.message).toContain('did you mean "Silver"?');
    expect(byCode('E011')).toMatchObject({ range: { start: { line: 15, character: 19 }, end: { line: 15, character: 26 } } });
    expect(await diagnosticsFor(coffeeUri)).toEqual([]);
  });

  it('publishes new diagnostics as the document changes', async () => {
    const fixed = MISTAKES.replace('multipler', 'multiplier').replace('Silvr', 'Silver').replace('300 EUR', '300 USD');
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri: draftUri, version: 2 }, contentChanges: [{ text: fixed }] });
    expect(await diagnosticsFor(draftUri, 2)).toEqual([]);
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri: draftUri, version: 3 }, contentChanges: [{ text: MISTAKES }] });
    expect((await diagnosticsFor(draftUri, 3)).map((d) => d.code)).toEqual(expect.arrayContaining(['E004', 'E050', 'E011']));
  });

  it('offers the quick fix a "did you mean" hint names', async () => {
    const ds = await diagnosticsFor(draftUri);
    const e004 = ds.find((d) => d.code === 'E004')!;
    const actions = await connection.sendRequest<{ title: string; edit: { changes: Record<string, { range: Range; newText: string }[]> } }[]>('textDocument/codeAction', {
      textDocument: { uri: draftUri },
      range: e004.range,
      context: { diagnostics: [e004] },
    });
    expect(actions.map((a) => a.title)).toContain('Change to multiplier');
    expect(actions.find((a) => a.title === 'Change to multiplier')!.edit.changes[draftUri]).toEqual([{ range: e004.range, newText: 'multiplier' }]);
  });

  it('completes tier names after `member.tier` in a when, and keywords in context', async () => {
    const text = coffee.replace('  on signup', '  rule "Gold regulars" {\n    when member.tier \n  }\n\n  on signup');
    const line = text.split('\n').findIndex((l) => l.endsWith('when member.tier '));
    const uri = 'file:///tmp/typing.loyalty';
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'loyalty', version: 1, text } });
    const afterTier = await connection.sendRequest<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line, character: 21 } });
    expect(afterTier.map((i) => i.label)).toEqual(expect.arrayContaining(['>=', '==', '>= Green', '>= Silver', '>= Gold']));

    const withOp = text.replace('when member.tier \n', 'when member.tier >= \n');
    await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: withOp }] });
    const tiers = await connection.sendRequest<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line, character: 24 } });
    expect(tiers.map((i) => i.label)).toEqual(['Green', 'Silver', 'Gold']);
    expect(tiers[1]!.textEdit).toEqual({ range: { start: { line, character: 24 }, end: { line, character: 24 } }, newText: 'Silver' });

    const inRule = await connection.sendRequest<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 13, character: 4 } });
    expect(inRule.map((i) => i.label)).toEqual(expect.arrayContaining(['category', 'multiplier', 'bonus', 'limit', 'when']));
    expect(inRule.map((i) => i.label)).not.toContain('tiers');
  });

  it('formats a document into the canonical layout', async () => {
    const messy = 'program "Corner Bakery Rewards" {\ncurrency USD\n    base 1 points per 1USD   // everything earns\n  rule "Morning coffee" { sku "LATTE","MOCHA"\n  hours 7:00 to 10:00\n  bonus 10 point limit 1 time per day }\n}\n';
    const uri = 'file:///tmp/messy.loyalty';
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'loyalty', version: 1, text: messy } });
    const edits = await connection.sendRequest<{ range: Range; newText: string }[]>('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
    expect(applyEdits(messy, edits)).toBe(
      'program "Corner Bakery Rewards" {\n  currency USD\n  base 1 point per 1 USD  // everything earns\n\n  rule "Morning coffee" {\n    sku "LATTE", "MOCHA"\n    hours 07:00 to 10:00\n    bonus 10 points\n    limit once per day\n  }\n}\n',
    );
    // Tidy text needs no edit; text that does not parse is left alone.
    expect(await connection.sendRequest('textDocument/formatting', { textDocument: { uri: coffeeUri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
    expect(await connection.sendRequest('textDocument/formatting', { textDocument: { uri: draftUri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
  });

  it('hovers a keyword with the guide, and a tier and a club with what the program says', async () => {
    const hover = (p: Position, uri = coffeeUri) => connection.sendRequest<{ contents: { kind: string; value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: p });
    const multiplier = await hover(at(coffee, 13, 'multiplier', 2));
    expect(multiplier!.contents.kind).toBe('markdown');
    expect(multiplier!.contents.value).toContain('the matching lines earn 2 times their base points');
    const silver = (await hover(at(coffee, 49, 'Silver', 1)))!.contents.value;
    expect(silver).toContain('tier Silver at 250 USD');
    expect(silver).toContain('`qualify spend over 12 months`');
    expect(silver).toContain('`perk "free-syrup"`');
    const club = (await hover(at(coffee, 54, 'Bean Club', 1)))!.contents.value;
    expect(club).toContain('`fee 9.99 USD per month`');
    expect(club).toContain('`multiplier 2x`');
    expect(club).toContain('`perk "free-refills"`');
  });

  it('goes to the definition of a tier and a club, and finds their references', async () => {
    const line = 9;
    const def = await connection.sendRequest<{ uri: string; range: Range }>('textDocument/definition', { textDocument: { uri: draftUri }, position: at(MISTAKES, line, 'Bean Club', 2) });
    expect(def).toEqual({ uri: draftUri, range: { start: { line: 18, character: 7 }, end: { line: 18, character: 18 } } });
    const refs = await connection.sendRequest<{ uri: string; range: Range }[]>('textDocument/references', {
      textDocument: { uri: draftUri },
      position: { line: 18, character: 9 },
      context: { includeDeclaration: true },
    });
    expect(refs.map((r) => r.range.start)).toEqual([
      { line: 9, character: 46 },
      { line: 18, character: 7 },
    ]);
    // An unknown tier has no definition.
    expect(await connection.sendRequest('textDocument/definition', { textDocument: { uri: draftUri }, position: at(MISTAKES, line, 'Silvr', 1) })).toBeNull();
  });

  it('outlines a real program', async () => {
    const symbols = await connection.sendRequest<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri: coffeeUri } });
    expect(symbols.map((s) => s.name)).toEqual([
      'currency USD',
      'timezone "America/New_York"',
      'unit "Beans"',
      'base 10 points per 1 USD',
      'exclude category "gift-card", "tax"',
      'Pastry pairing',
      'Afternoon lull',
      'First coffee of the day',
      'Weekend beans',
      'App order',
      'on signup',
      'on birthday',
      'on event "survey"',
      'tiers',
      'Bean Club',
      'referral',
      'redeem',
      'expire',
    ]);
    const tiers = symbols.find((s) => s.name === 'tiers')!;
    expect(tiers.children!.map((c) => [c.name, c.detail])).toEqual([
      ['Green', 'at 0'],
      ['Silver', 'at 250 USD'],
      ['Gold', 'at 750 USD'],
    ]);
  });

  it('returns semantic tokens in the legend it announced', async () => {
    const { data } = await connection.sendRequest<{ data: number[] }>('textDocument/semanticTokens/full', { textDocument: { uri: coffeeUri } });
    expect(data.length % 5).toBe(0);
    // Decode, then find the tier name on `tier Silver at 250 USD`.
    let line = 0;
    let character = 0;
    const tokens: { line: number; character: number; length: number; type: number; modifiers: number }[] = [];
    for (let i = 0; i < data.length; i += 5) {
      line += data[i]!;
      character = data[i] === 0 ? character + data[i + 1]! : data[i + 1]!;
      tokens.push({ line, character, length: data[i + 2]!, type: data[i + 3]!, modifiers: data[i + 4]! });
    }
    const silver = tokens.find((t) => t.line === 49 && t.character === 9)!;
    expect(silver).toMatchObject({ length: 6, type: 6 /* enumMember */, modifiers: 1 /* declaration */ });
    expect(stderr).toBe('');
  });
});

describe('loyalty lsp', { timeout: 60_000 }, () => {
  it('asks for --stdio, the one transport, with exit status 2 without it', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/loyalty.mjs'), 'lsp'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('run `loyalty lsp --stdio`');
    expect(r.stdout).toBe('');
  });
});

function applyEdits(text: string, edits: { range: Range; newText: string }[]): string {
  const lines = text.split('\n');
  const offset = (p: Position) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start)).reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}
