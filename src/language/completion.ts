// Completion from the grammar itself: Chevrotain's content assist says which
// tokens may come next after the text before the cursor, so every keyword
// the parser accepts in that place is offered, and a keyword added to the
// grammar is offered with no change here. Names come from the program: tier
// names where a tier is compared, club names after `member.club`, the
// categories and skus the program already mentions after `category`/`sku`.
import { Lexer, type IToken, type TokenType } from 'chevrotain';
import { unescapeString } from '../../dsl/ast.ts';
import { COMMON_CURRENCIES, CURRENCIES } from '../../dsl/currencies.ts';
import { allTokens, CmpOp, Comma, Comment, Dot, Identifier, ITEM_WORDS, Keyword, LBrace, RBrace, StringLit } from '../../dsl/lexer.ts';
import { BLOCKS, getParser } from '../../dsl/parser.ts';
import { timeZoneNames } from '../../dsl/values.ts';
import { tokenRange, type LoyaltyDocument } from './document.ts';
import { renderEntry, type DocIndex } from './docs.ts';
import { describeDeclaration } from './hover.ts';
import { CompletionKind, type CompletionItem, type Position, type Range } from './types.ts';

/** A token the grammar accepts next, and the grammar rules it is inside. */
interface Next {
  type: TokenType;
  rules: string[];
}

export function complete(doc: LoyaltyDocument, p: Position, docs: DocIndex | undefined): CompletionItem[] {
  const offset = doc.offsetAt(p);
  if (doc.comments.some((c) => c.startOffset < offset && offset <= (c.endOffset ?? c.startOffset) + 1)) return [];
  const { prefix, range, inString } = cursorContext(doc, offset, p);
  const nexts = expected(prefix);
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (item: Omit<CompletionItem, 'edit' | 'sortText'> & { insert?: string }) => {
    if (seen.has(item.label)) return;
    seen.add(item.label);
    const { insert, ...rest } = item;
    items.push({ ...rest, edit: { range, newText: insert ?? item.label }, sortText: String(items.length).padStart(4, '0') });
  };
  const last = prefix[prefix.length - 1];
  const afterDot = last?.tokenType === Dot;
  // `member.tier >= |` takes a tier name and nothing else.
  const back = (k: number) => prefix[prefix.length - k]?.image;
  if (!inString && last?.tokenType.CATEGORIES?.includes(CmpOp) && back(2) === 'tier' && back(3) === '.' && back(4) === 'member') {
    for (const item of tierItems(doc)) add(item);
    return items;
  }

  for (const next of nexts) {
    const rule = next.rules[next.rules.length - 1] ?? '';
    // What recovery takes after an unknown word is not a suggestion.
    if (rule === 'unknownStmt' || rule === 'unknownItem' || rule === 'anyBlock') continue;
    if (next.type === StringLit) {
      // The string being typed is not a name the program knows yet.
      for (const item of stringItems(doc, prefix, inString ? doc.offsetAt(range.start) : -1)) add(item);
      continue;
    }
    if (inString) continue;
    if (next.type === Identifier) {
      if (rule === 'operand' && last?.tokenType.CATEGORIES?.includes(CmpOp)) for (const item of tierItems(doc)) add(item);
      if (rule === 'currencySetting') for (const code of [...COMMON_CURRENCIES, ...[...CURRENCIES].sort()]) add({ label: code, kind: CompletionKind.Constant });
      continue;
    }
    for (const concrete of expand(next.type)) {
      const word = wordOf(concrete);
      if (word === undefined) continue;
      if (concrete.CATEGORIES?.includes(CmpOp)) {
        add({ label: word, kind: CompletionKind.Operator });
        continue;
      }
      const entry = docs?.lookup(afterDot && last ? `${prefix[prefix.length - 2]?.image}.${word}` : word) ?? docs?.lookup(word);
      add({ label: word, kind: afterDot ? CompletionKind.Property : CompletionKind.Keyword, ...(entry ? { detail: entry.title, documentation: renderEntry(entry, entry.keyword) } : {}) });
    }
  }
  // `when member.tier |`: the comparisons with each tier, ready to pick.
  if (!inString && last?.image === 'tier' && prefix[prefix.length - 2]?.tokenType === Dot && nexts.some((n) => n.type === CmpOp)) {
    for (const t of doc.symbols.ofKind('tier')) {
      for (const op of ['>=', '==']) add({ label: `${op} ${t.name}`, kind: CompletionKind.EnumMember, detail: op === '>=' ? `${t.name} or a higher tier` : `exactly ${t.name}` });
    }
  }
  return items;
}

/** The tokens before the cursor, and what a chosen item replaces: the word
 * or string the cursor is in, else nothing at the cursor. */
function cursorContext(doc: LoyaltyDocument, offset: number, p: Position): { prefix: IToken[]; range: Range; inString: boolean } {
  const i = doc.tokens.findIndex((t) => t.startOffset < offset && offset <= (t.endOffset ?? t.startOffset) + 1);
  const t = i >= 0 ? doc.tokens[i]! : undefined;
  if (t && (t.tokenType === StringLit || t.tokenType === Identifier || t.tokenType.CATEGORIES?.includes(Keyword))) {
    const closed = t.tokenType === StringLit && t.endOffset! + 1 === offset && doc.text[t.endOffset!] === '"' && t.endOffset! > t.startOffset;
    if (!closed) return { prefix: doc.tokens.slice(0, i), range: tokenRange(doc, t), inString: t.tokenType === StringLit };
  }
  const prefix = doc.tokens.filter((x) => (x.endOffset ?? x.startOffset) + 1 <= offset);
  return { prefix, range: { start: p, end: p }, inString: false };
}

const parser = getParser();

/** Words that start a statement or a section, in any block. */
const STATEMENT_WORDS = new Set(['program', ...ITEM_WORDS, ...Object.values(BLOCKS).flatMap((b) => b.words)]);

/** What may come next. When the text before the cursor has a mistake, the
 * grammar accepts nothing after it; then the enclosing blocks' headers are
 * kept and the statements before the cursor's are dropped one by one until
 * what is left parses. */
function expected(prefix: IToken[]): Next[] {
  const direct = assist(prefix);
  if (direct.length) return direct;
  const open: number[] = [];
  prefix.forEach((t, i) => {
    if (t.tokenType === LBrace) open.push(i);
    else if (t.tokenType === RBrace) open.pop();
  });
  const skeleton: IToken[] = [];
  for (const brace of open) {
    let start = brace - 1;
    while (start > 0 && !STATEMENT_WORDS.has(prefix[start]!.image) && prefix[start - 1]!.tokenType !== LBrace && prefix[start - 1]!.tokenType !== RBrace) start--;
    skeleton.push(...prefix.slice(Math.max(0, start), brace + 1));
  }
  const rest = prefix.slice((open[open.length - 1] ?? -1) + 1);
  for (let k = 0; k <= rest.length; k++) {
    if (k < rest.length && !STATEMENT_WORDS.has(rest[k]!.image)) continue;
    const found = assist([...skeleton, ...rest.slice(k)]);
    if (found.length) return found;
  }
  return [];
}

function assist(tokens: IToken[]): Next[] {
  try {
    return parser.computeContentAssist('program', tokens).map((path) => ({ type: path.nextTokenType, rules: path.ruleStack }));
  } catch {
    return [];
  }
}

/** A token category (`points`/`point`, the weekdays, the comparisons) as its members. */
function expand(type: TokenType): TokenType[] {
  const members = allTokens.filter((t) => t !== type && t.CATEGORIES?.includes(type));
  return members.length && !isConcrete(type) ? members : [type];
}

function isConcrete(t: TokenType): boolean {
  return t.PATTERN !== undefined && t.PATTERN !== Lexer.NA;
}

/** The text of a keyword or operator token; undefined for literals and punctuation. */
function wordOf(t: TokenType): string | undefined {
  if (t === Comment) return undefined;
  const label = t.LABEL?.replace(/^"|"$/g, '');
  if (t.CATEGORIES?.includes(Keyword)) return label;
  if (t.CATEGORIES?.includes(CmpOp)) return label;
  return undefined;
}

function tierItems(doc: LoyaltyDocument): Omit<CompletionItem, 'edit' | 'sortText'>[] {
  return doc.symbols.ofKind('tier').map((t) => ({ label: t.name, kind: CompletionKind.EnumMember, detail: `tier ${t.name}`, documentation: describeDeclaration(doc, t) }));
}

/** Quoted names for the string the grammar expects, by the keyword before
 * it (`category "a", |` looks back past the list). */
function stringItems(doc: LoyaltyDocument, prefix: IToken[], skip: number): (Omit<CompletionItem, 'edit' | 'sortText'> & { insert: string })[] {
  let k = prefix.length - 1;
  while (k >= 0 && (prefix[k]!.tokenType === StringLit || prefix[k]!.tokenType === Comma)) k--;
  const word = prefix[k]?.image;
  const quoted = (s: string) => JSON.stringify(s);
  const values = (names: Iterable<string>, kind: CompletionItem['kind'], detail: string) => [...new Set(names)].map((n) => ({ label: quoted(n), insert: quoted(n), kind, detail }));
  if (word === 'category' || word === 'sku') return values(listed(doc, word, skip), CompletionKind.Value, `${word} in this program`);
  if (word === 'club' && prefix[k - 1]?.tokenType === Dot)
    return doc.symbols.ofKind('club').map((c) => ({ label: quoted(c.name), insert: quoted(c.name), kind: CompletionKind.Class, detail: 'club', documentation: describeDeclaration(doc, c) }));
  if (word === 'timezone') return values(timeZoneNames(), CompletionKind.Value, 'time zone');
  if (prefix[k]?.tokenType.CATEGORIES?.includes(CmpOp) && prefix[k - 1]?.image === 'channel') return values(listed(doc, 'channel', skip), CompletionKind.Value, 'channel in this program');
  return [];
}

/** The strings the program writes after a word (`category "a", "b"`, or
 * `order.channel == "app"`): the categories, skus or channels it knows. */
function listed(doc: LoyaltyDocument, word: string, skip: number): string[] {
  const out: string[] = [];
  const ts = doc.tokens;
  for (let i = 0; i < ts.length; i++) {
    if (ts[i]!.image !== word) continue;
    let j = i + 1;
    if (word === 'channel' && ts[j]?.tokenType.CATEGORIES?.includes(CmpOp)) j++;
    for (; j < ts.length && ts[j]!.tokenType === StringLit; j += 2) {
      if (ts[j]!.startOffset !== skip) out.push(unescapeString(ts[j]!.image));
      if (ts[j + 1]?.tokenType !== Comma) break;
    }
  }
  return out;
}
