// Go to definition, find references and the outline, over the symbol table.
import type { Loc } from '../../dsl/ast.ts';
import { LBrace } from '../../dsl/lexer.ts';
import { contains, locRange, type LoyaltyDocument } from './document.ts';
import { declares, isName, isNode, type AstNode, type Declaration } from './symbols.ts';
import { SymbolKind, type DocumentSymbol, type Position, type Range } from './types.ts';

/** The name under the cursor: a declaration's name or a use of one. */
export interface NameAt {
  kind: string;
  name: string;
  range: Range;
  declaration: Declaration | undefined;
}

export function nameAt(doc: LoyaltyDocument, p: Position): NameAt | undefined {
  const { symbols } = doc;
  for (const d of symbols.declarations) {
    const range = locRange(d.nameLoc);
    if (contains(range, p)) return { kind: d.kind, name: d.name, range, declaration: d };
  }
  for (const r of symbols.references) {
    const range = locRange(r.loc);
    if (contains(range, p)) return { kind: r.kind, name: r.name, range, declaration: symbols.lookup(r.kind, r.name) };
  }
  return undefined;
}

export function definition(doc: LoyaltyDocument, p: Position): Range | null {
  const at = nameAt(doc, p);
  return at?.declaration ? locRange(at.declaration.nameLoc) : null;
}

export function references(doc: LoyaltyDocument, p: Position, includeDeclaration = true): Range[] {
  const at = nameAt(doc, p);
  if (!at) return [];
  const uses = doc.symbols.referencesTo(at.kind, at.name).map((r) => r.loc);
  const decls = includeDeclaration ? doc.symbols.declarations.filter((d) => d.kind === at.kind && d.name === at.name).map((d) => d.nameLoc) : [];
  return [...decls, ...uses].sort((a, b) => a.line - b.line || a.column - b.column).map(locRange);
}

/** Symbol kinds by node kind; another section gets Struct, a setting Property. */
const SYMBOL_KINDS: Readonly<Record<string, SymbolKind>> = {
  rule: SymbolKind.Function,
  on: SymbolKind.Event,
  tiers: SymbolKind.Enum,
  tier: SymbolKind.EnumMember,
  club: SymbolKind.Class,
  referral: SymbolKind.Namespace,
  redeem: SymbolKind.Namespace,
  expire: SymbolKind.Namespace,
  reward: SymbolKind.Object,
  challenge: SymbolKind.Event,
};

/** The outline: each setting and section, with the named declarations inside. */
export function documentSymbols(doc: LoyaltyDocument): DocumentSymbol[] {
  return doc.ast.items.map((item) => outlineNode(doc, item as unknown as AstNode));
}

function outlineNode(doc: LoyaltyDocument, n: AstNode): DocumentSymbol {
  const range = locRange(n.loc);
  const header = headerOf(doc, n.loc);
  const children = Array.isArray(n['body']) ? n['body'].filter(isNode).filter(declares).map((c) => outlineNode(doc, c)) : [];
  const kind = SYMBOL_KINDS[n.kind] ?? (Array.isArray(n['body']) ? SymbolKind.Struct : SymbolKind.Property);
  const name = n['name'];
  if (declares(n) && isName(name)) {
    // `tier Silver at 300 USD {` → "Silver", detail "at 300 USD".
    const rest = headerOf(doc, { ...n.loc, line: name.loc.endLine, column: name.loc.endColumn }).text;
    return { name: name.text, detail: rest || n.kind, kind, range, selectionRange: locRange(name.loc), children };
  }
  return { name: header.text, kind, range, selectionRange: header.range, children };
}

/** The text of a node up to its block's `{`, on one line. */
export function headerOf(doc: LoyaltyDocument, loc: Loc): { text: string; range: Range } {
  const { start, end } = locRange(loc);
  const from = doc.offsetAt(start);
  const to = doc.offsetAt(end);
  const brace = doc.tokens.find((t) => t.tokenType === LBrace && t.startOffset >= from && t.startOffset < to);
  const head = doc.text.slice(from, brace ? brace.startOffset : to).trimEnd();
  const range = { start: doc.positionAt(from), end: doc.positionAt(from + Math.max(1, head.length)) };
  return { text: head.trim().replace(/\s+/g, ' '), range };
}
