// Hover: what a keyword means (from the guide), and for a declared name —
// a tier, a club, a rule, a reward — what the program says about it.
import type { IToken } from 'chevrotain';
import { Dot, Keyword } from '../../dsl/lexer.ts';
import { contains, locRange, tokenAt, tokenRange, type LoyaltyDocument } from './document.ts';
import { renderEntry, type DocEntry, type DocIndex } from './docs.ts';
import { headerOf, nameAt } from './navigation.ts';
import { declares, isNode, walk, type AstNode, type Declaration } from './symbols.ts';
import type { Hover, Position } from './types.ts';

export function hover(doc: LoyaltyDocument, p: Position, docs: DocIndex | undefined): Hover | null {
  const name = nameAt(doc, p);
  if (name) {
    const d = name.declaration;
    if (!d) return null;
    const isUse = !contains(locRange(d.nameLoc), p);
    return { contents: describeDeclaration(doc, d, isUse), range: name.range };
  }
  const token = tokenAt(doc, p);
  if (!token || !isKeyword(token)) return null;
  const found = docs ? keywordEntry(doc, token, docs) : undefined;
  const range = tokenRange(doc, token);
  if (!found) return { contents: `**\`${token.image}\`** — keyword`, range };
  return { contents: renderEntry(found.entry, found.word), range };
}

export function isKeyword(t: IToken): boolean {
  return t.tokenType.CATEGORIES?.includes(Keyword) ?? false;
}

/** The guide's entry for a keyword: the dotted or two-word phrase it is part
 * of (`order.total`, `on signup`), the word itself, else the statement it is
 * in (`per` in `limit 5 times per week` → `limit`). */
function keywordEntry(doc: LoyaltyDocument, token: IToken, docs: DocIndex): { entry: DocEntry; word: string } | undefined {
  const i = doc.tokens.indexOf(token);
  const at = (k: number) => doc.tokens[k];
  const word = (t: IToken | undefined) => (t && isKeyword(t) ? t.image : undefined);
  const phrases: (string | undefined)[] = [];
  if (at(i + 1)?.tokenType === Dot && word(at(i + 2))) phrases.push(`${token.image}.${at(i + 2)!.image}`);
  if (at(i - 1)?.tokenType === Dot && word(at(i - 2))) phrases.push(`${at(i - 2)!.image}.${token.image}`);
  if (word(at(i - 1))) phrases.push(`${at(i - 1)!.image} ${token.image}`);
  if (word(at(i + 1))) phrases.push(`${token.image} ${at(i + 1)!.image}`);
  phrases.push(token.image);
  for (const phrase of phrases) {
    const entry = phrase ? docs.lookup(phrase) : undefined;
    if (entry) return { entry, word: phrase! };
  }
  const p = doc.positionAt(token.startOffset);
  for (const n of enclosing(doc, p)) {
    const first = doc.tokens.find((t) => t.startOffset >= doc.offsetAt(locRange(n.loc).start));
    const entry = first && isKeyword(first) ? docs.lookup(first.image) : undefined;
    if (entry) return { entry, word: first!.image };
  }
  return undefined;
}

/** The nodes that contain a position, innermost first. */
function enclosing(doc: LoyaltyDocument, p: Position): AstNode[] {
  const out: AstNode[] = [];
  walk(doc.ast.items, (n) => {
    if (contains(locRange(n.loc), p)) out.push(n);
  });
  return out.reverse();
}

const oneLine = (s: string) => s.trim().replace(/\s+/g, ' ');

/** A declaration: its header, where it stands among its kind, the section
 * statements that govern it (a tier's `qualify`), its own statements, and
 * where the program uses it. Read from the tree's shape, so that a new kind
 * of section is described without code here. */
export function describeDeclaration(doc: LoyaltyDocument, d: Declaration, isUse = false): string {
  const node = d.node;
  const lines = [`**${headerOf(doc, node.loc).text}**`];
  const siblings = doc.symbols.ofKind(d.kind).filter((s) => s.section === d.section);
  if (d.section !== node && siblings.length > 1) lines[0] += ` — ${ordinal(siblings.indexOf(d) + 1)} of ${siblings.length} ${d.kind}s`;
  if (d.section !== node) {
    const governing = (d.section['body'] as unknown[] | undefined)?.filter(isNode).filter((s) => !declares(s)) ?? [];
    if (governing.length) lines.push(governing.map((s) => `\`${oneLine(doc.textOf(s.loc))}\``).join(' · '));
  }
  const statements = (node['body'] as unknown[]).filter(isNode);
  if (statements.length) lines.push(statements.map((s) => `- \`${oneLine(doc.textOf(s.loc))}\``).join('\n'));
  const uses = doc.symbols.referencesTo(d.kind, d.name).map((r) => r.loc.line);
  if (uses.length) lines.push(`Used on line${uses.length === 1 ? '' : 's'} ${listOf([...new Set(uses)].map(String))}.`);
  if (isUse) lines.push(`Declared on line ${d.nameLoc.line}.`);
  return lines.join('\n\n');
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

function listOf(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}
