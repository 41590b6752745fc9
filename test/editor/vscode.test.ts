// The VS Code extension cannot run outside VS Code, so this tests what can
// be: the grammar (tokenized with VS Code's own TextMate engine and the
// Oniguruma WASM it ships), the contributions in package.json, which server
// command the extension starts, and that its entry module loads.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { keywords } from '../../dsl/lexer.ts';
import { ROOT } from '../support.ts';

const EXT = join(ROOT, 'editors/vscode');
const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(join(EXT, 'package.json'), 'utf8')) as {
  main: string;
  activationEvents: string[];
  engines: { vscode: string };
  dependencies: Record<string, string>;
  contributes: {
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { language: string; scopeName: string; path: string }[];
    configuration: { properties: Record<string, { default: unknown }> };
    configurationDefaults: Record<string, Record<string, unknown>>;
  };
};

let grammar: textmate.IGrammar;

beforeAll(async () => {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new oniguruma.OnigScanner(p), createOnigString: (s: string) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) => (scope === 'source.loyalty' ? textmate.parseRawGrammar(readFileSync(join(EXT, manifest.contributes.grammars[0]!.path), 'utf8'), 'loyalty.tmLanguage.json') : null),
  });
  grammar = (await registry.loadGrammar('source.loyalty'))!;
});

/** Each piece of a line with its innermost scope. */
function scopes(line: string): [string, string][] {
  const { tokens } = grammar.tokenizeLine(line, textmate.INITIAL);
  return tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes[t.scopes.length - 1]!] as [string, string]).filter(([text]) => text.trim() !== '');
}
const scopeOf = (line: string, piece: string) => scopes(line).find(([text]) => text === piece)?.[1];

describe('the TextMate grammar', () => {
  it('colours a rule', () => {
    expect(scopes('  rule "Pastry pairing" {  # weekday mornings')).toEqual([
      ['rule', 'keyword.control.section.loyalty'],
      ['"Pastry pairing"', 'entity.name.section.loyalty'],
      ['{', 'punctuation.section.block.begin.loyalty'],
      ['#', 'punctuation.definition.comment.loyalty'],
      [' weekday mornings', 'comment.line.number-sign.loyalty'],
    ]);
    const when = '    when member.tier >= Gold and order.total >= 20.50 USD // big';
    expect(scopeOf(when, 'when')).toBe('keyword.other.loyalty');
    expect(scopeOf(when, 'member')).toBe('variable.language.loyalty');
    expect(scopeOf(when, 'tier')).toBe('variable.other.property.loyalty');
    expect(scopeOf(when, '>=')).toBe('keyword.operator.comparison.loyalty');
    expect(scopeOf(when, 'and')).toBe('keyword.operator.logical.loyalty');
    expect(scopeOf(when, 'USD')).toBe('support.constant.currency.loyalty');
    expect(scopeOf(when, ' big')).toBe('comment.line.double-slash.loyalty');
  });

  it('colours every kind of literal, and strings with escapes', () => {
    const line = 'during 2026-12-01 to 2026-12-24  hours 07:30 to 24:00  multiplier 1.5x  discount 12.5% on category "a \\"b\\""  bonus 10 points';
    expect(scopeOf(line, '2026-12-01')).toBe('constant.numeric.date.loyalty');
    expect(scopeOf(line, '07:30')).toBe('constant.numeric.time.loyalty');
    expect(scopeOf(line, '1.5x')).toBe('constant.numeric.multiplier.loyalty');
    expect(scopeOf(line, '12.5%')).toBe('constant.numeric.percent.loyalty');
    expect(scopeOf(line, '10')).toBe('constant.numeric.loyalty');
    expect(scopeOf(line, '\\"')).toBe('constant.character.escape.loyalty');
    expect(scopeOf('  currency JPY', 'JPY')).toBe('support.constant.currency.loyalty');
  });

  it('names tiers where they are declared, and leaves names with dashes whole', () => {
    expect(scopeOf('    tier Gold_plus at 750 USD { perk "free-shipping" }', 'Gold_plus')).toBe('entity.name.type.tier.loyalty');
    // `per-item` is a name, not the keyword `per`.
    expect(scopes('sku-rule per-item')).toEqual([['sku-rule per-item', 'source.loyalty']]);
  });

  it('knows every keyword of the lexer, and the version 2 keywords', () => {
    const words = [...keywords.keys(), 'pending', 'reward', 'challenge', 'cost', 'value', 'everything'];
    const unscoped = words.filter((w) => !/^(keyword|constant\.language)\./.test(scopeOf(`x ${w} y`, w) ?? ''));
    expect(unscoped).toEqual([]);
    expect(scopeOf('  reward "Free latte" {', '"Free latte"')).toBe('entity.name.section.loyalty');
    expect(scopeOf('  challenge "Big month" { spend 50 USD per month  bonus 200 points }', 'challenge')).toBe('keyword.control.section.loyalty');
    expect(scopeOf('  pending 14 days', 'pending')).toBe('keyword.other.setting.loyalty');
  });
});

describe('the extension package', () => {
  it('contributes the language, its file extension, configuration and grammar', () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: 'loyalty', extensions: ['.loyalty'] });
    const config = JSON.parse(readFileSync(join(EXT, language!.configuration), 'utf8')) as { comments: { lineComment: string }; brackets: string[][]; autoClosingPairs: { open: string }[] };
    expect(config.comments.lineComment).toBe('#');
    expect(config.brackets).toEqual([
      ['{', '}'],
      ['(', ')'],
    ]);
    expect(config.autoClosingPairs.map((p) => p.open)).toContain('"');
    expect(manifest.contributes.grammars).toEqual([{ language: 'loyalty', scopeName: 'source.loyalty', path: './syntaxes/loyalty.tmLanguage.json' }]);
    expect(manifest.activationEvents).toEqual(['onLanguage:loyalty']);
    expect(manifest.contributes.configurationDefaults['[loyalty]']).toMatchObject({ 'editor.formatOnSave': true });
    expect(Object.keys(manifest.contributes.configuration.properties)).toEqual(['loyalty.server.path', 'loyalty.server.node', 'loyalty.trace.server']);
  });

  it('depends on the language client this repository tests against', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.dependencies['vscode-languageclient']).toBe(root.devDependencies['vscode-languageclient']);
  });

  it('starts the repository’s bin/loyalty.mjs, a configured command, or loyalty on the PATH', () => {
    type ServerCommand = (settings: { path: string; node: string }, folders: string[], extensionDir: string, exists: (file: string) => boolean) => { command: string; args: string[] };
    const { serverCommand } = require(join(EXT, 'server.js')) as { serverCommand: ServerCommand };
    const none = () => false;
    const only = (file: string) => (f: string) => f === file;
    expect(serverCommand({ path: '', node: 'node' }, ['/shop'], '/repo/editors/vscode', only('/shop/bin/loyalty.mjs'))).toEqual({ command: 'node', args: ['/shop/bin/loyalty.mjs', 'lsp', '--stdio'] });
    expect(serverCommand({ path: '', node: 'node' }, ['/shop'], '/repo/editors/vscode', only('/shop/node_modules/.bin/loyalty'))).toEqual({ command: '/shop/node_modules/.bin/loyalty', args: ['lsp', '--stdio'] });
    expect(serverCommand({ path: '', node: '/opt/node/bin/node' }, [], '/repo/editors/vscode', only('/repo/bin/loyalty.mjs'))).toEqual({ command: '/opt/node/bin/node', args: ['/repo/bin/loyalty.mjs', 'lsp', '--stdio'] });
    expect(serverCommand({ path: '', node: 'node' }, ['/shop'], '/ext', none)).toEqual({ command: 'loyalty', args: ['lsp', '--stdio'] });
    expect(serverCommand({ path: 'tools/loyalty', node: 'node' }, ['/shop'], '/ext', none)).toEqual({ command: '/shop/tools/loyalty', args: ['lsp', '--stdio'] });
  });

  it('has an entry module that loads and exports activate and deactivate', () => {
    // `vscode` exists only inside VS Code: resolve it to a stand-in.
    const Module = require('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
    const resolve = Module._resolveFilename;
    Module._resolveFilename = (request, ...rest) => (request === 'vscode' ? join(ROOT, 'test/editor/vscode-stub.cjs') : resolve(request, ...rest));
    try {
      const extension = require(join(EXT, manifest.main)) as { activate: unknown; deactivate: () => unknown };
      expect(typeof extension.activate).toBe('function');
      expect(extension.deactivate()).toBeUndefined();
    } finally {
      Module._resolveFilename = resolve;
    }
  });
});
