// Semantic tokens: the lexer's own tokens, with declared names told apart
// from plain strings and words (a tier name in a `when` is coloured as the
// tier it is). The TextMate grammar in editors/vscode colours the rest of
// the time, before the server answers.
import type { IToken, TokenType } from 'chevrotain';
import { CmpOp, Comment, DateLit, Dot, Equals, MoneyLit, MultLit, NumberLit, PercentLit, StringLit, TimeLit } from '../../dsl/lexer.ts';
import { locRange, type LoyaltyDocument } from './document.ts';
import { isKeyword } from './hover.ts';
import type { SemanticToken, SemanticTokenType } from './types.ts';

/** How a declared name is coloured, by declaration kind; others are `type`. */
const NAME_TYPES: Readonly<Record<string, SemanticTokenType>> = { tier: 'enumMember', club: 'class', rule: 'function', reward: 'event', challenge: 'event' };

const NUMBERS: readonly TokenType[] = [NumberLit, MoneyLit, PercentLit, MultLit, DateLit, TimeLit];

export function semanticTokens(doc: LoyaltyDocument): SemanticToken[] {
  const names = new Map<number, { type: SemanticTokenType; declaration: boolean }>();
  for (const d of doc.symbols.declarations) names.set(doc.offsetAt(locRange(d.nameLoc).start), { type: NAME_TYPES[d.kind] ?? 'type', declaration: true });
  for (const r of doc.symbols.references) names.set(doc.offsetAt(locRange(r.loc).start), { type: NAME_TYPES[r.kind] ?? 'type', declaration: false });

  const all = [...doc.tokens, ...doc.comments].sort((a, b) => a.startOffset - b.startOffset);
  const out: SemanticToken[] = [];
  let previous: IToken | undefined;
  for (const t of all) {
    const kind = classify(t, previous, names.get(t.startOffset));
    if (t.tokenType !== Comment) previous = t;
    if (!kind) continue;
    const start = doc.positionAt(t.startOffset);
    const end = doc.positionAt((t.endOffset ?? t.startOffset) + 1);
    if (end.line !== start.line) continue;
    out.push({ line: start.line, character: start.character, length: end.character - start.character, type: kind.type, modifiers: kind.declaration ? ['declaration'] : [] });
  }
  return out;
}

function classify(t: IToken, previous: IToken | undefined, name: { type: SemanticTokenType; declaration: boolean } | undefined): { type: SemanticTokenType; declaration: boolean } | undefined {
  if (name) return name;
  const type = t.tokenType;
  if (type === Comment) return { type: 'comment', declaration: false };
  if (type === StringLit) return { type: 'string', declaration: false };
  if (NUMBERS.includes(type)) return { type: 'number', declaration: false };
  if (type === Equals || type.CATEGORIES?.includes(CmpOp)) return { type: 'operator', declaration: false };
  // `order.total`, `member.tier`: the word after the dot is a property.
  if (isKeyword(t)) return { type: previous?.tokenType === Dot ? 'property' : 'keyword', declaration: false };
  return undefined;
}

/** LSP's relative encoding: five integers a token. */
export function encodeSemanticTokens(tokens: readonly SemanticToken[], types: readonly string[], modifiers: readonly string[]): number[] {
  const data: number[] = [];
  let line = 0;
  let character = 0;
  for (const t of tokens) {
    const dl = t.line - line;
    data.push(dl, dl === 0 ? t.character - character : t.character, t.length, types.indexOf(t.type), t.modifiers.reduce((bits, m) => bits | (1 << modifiers.indexOf(m)), 0));
    line = t.line;
    character = t.character;
  }
  return data;
}
