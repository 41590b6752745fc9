// One analysis of a document's text, shared by every service: the tokens,
// a syntax tree built even when the text has errors (for the outline,
// completion and navigation while the merchant types), and the compiler's
// diagnostics. Services never parse on their own.
import type { IToken } from 'chevrotain';
import { buildAst, type Loc, type ProgramAst } from '../../dsl/ast.ts';
import { compile, type Diagnostic } from '../../dsl/index.ts';
import { tokenize } from '../../dsl/lexer.ts';
import { parse } from '../../dsl/parser.ts';
import { symbolTable, type SymbolTable } from './symbols.ts';
import type { Position, Range } from './types.ts';

export interface AnalyzeOptions {
  /** `YYYY-MM-DD`: rules whose dates all end before it are warned about
   * (W001), as `loyalty check --as-of`. Default: no such warning. */
  asOf?: string;
}

export interface LoyaltyDocument {
  readonly text: string;
  readonly fileName: string;
  /** Tokens without comments, in order. An unterminated string is a
   * StringLit whose image has the closing quote added: use offsets, not
   * image lengths, for positions. */
  readonly tokens: readonly IToken[];
  readonly comments: readonly IToken[];
  /** The syntax tree, with the statements that did not parse left out. */
  readonly ast: ProgramAst;
  /** What `loyalty check` reports. */
  readonly diagnostics: readonly Diagnostic[];
  readonly symbols: SymbolTable;
  offsetAt(position: Position): number;
  positionAt(offset: number): Position;
  /** The source text of a node. */
  textOf(loc: Loc): string;
}

export function analyze(text: string, fileName: string, options: AnalyzeOptions = {}): LoyaltyDocument {
  const lexed = tokenize(text, fileName);
  const parsed = parse(lexed.tokens);
  const ast = buildAst(parsed.cst, lexed.comments);
  const compiled = compile(text, fileName, options.asOf ? { asOf: options.asOf } : {});
  const lines = lineStarts(text);
  const offsetAt = (p: Position): number => {
    if (p.line < 0) return 0;
    if (p.line >= lines.length) return text.length;
    const start = lines[p.line]!;
    const end = p.line + 1 < lines.length ? lines[p.line + 1]! : text.length;
    return Math.min(start + Math.max(0, p.character), end);
  };
  const positionAt = (offset: number): Position => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - lines[lo]! };
  };
  const textOf = (loc: Loc): string => text.slice(offsetAt(locRange(loc).start), offsetAt(locRange(loc).end));
  return {
    text,
    fileName,
    tokens: lexed.tokens,
    comments: lexed.comments,
    ast,
    diagnostics: compiled.diagnostics,
    symbols: symbolTable(ast),
    offsetAt,
    positionAt,
    textOf,
  };
}

/** Offsets at which each line starts; lines end at \r\n, \n or \r, as the lexer counts them. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (c === 10) starts.push(i + 1);
  }
  return starts;
}

/** A compiler location (1-based, end exclusive) as a 0-based range. */
export function locRange(loc: Loc): Range {
  return { start: { line: loc.line - 1, character: loc.column - 1 }, end: { line: loc.endLine - 1, character: loc.endColumn - 1 } };
}

export function tokenRange(doc: LoyaltyDocument, token: IToken): Range {
  return { start: doc.positionAt(token.startOffset), end: doc.positionAt((token.endOffset ?? token.startOffset) + 1) };
}

export function contains(range: Range, p: Position): boolean {
  return before(range.start, p, true) && before(p, range.end, true);
}

/** a <= b (or a < b when not `orEqual`). */
export function before(a: Position, b: Position, orEqual = false): boolean {
  return a.line < b.line || (a.line === b.line && (orEqual ? a.character <= b.character : a.character < b.character));
}

/** The token under the cursor: the one it is on, else one that ends right
 * before it (a cursor after the last letter of a word is on the word). */
export function tokenAt(doc: LoyaltyDocument, p: Position, tokens: readonly IToken[] = doc.tokens): IToken | undefined {
  const offset = doc.offsetAt(p);
  let ending: IToken | undefined;
  for (const t of tokens) {
    if (t.startOffset > offset) break;
    const end = (t.endOffset ?? t.startOffset) + 1;
    if (offset < end) return t;
    if (offset === end) ending = t;
  }
  return ending;
}
