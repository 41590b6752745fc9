// text → tokens → CST → AST → checked, compiled Program.
// `compile` reads the pipeline top to bottom and never throws on bad input.
import { EOF, type IRecognitionException, type IToken } from 'chevrotain';
import { buildAst, tokenLoc, type ProgramAst } from './ast.ts';
import { check, type CheckOptions } from './check/index.ts';
import { compileAst } from './compile.ts';
import { closest, diagnostic, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.ts';
import { categoryWords, Identifier, Keyword, tokenize } from './lexer.ts';
import { parse, type ExpectedAt } from './parser.ts';
import type { Program } from './program.ts';

export type { Diagnostic } from './diagnostics.ts';
export { renderDiagnostic, CODES } from './diagnostics.ts';
export type * from './program.ts';
export type { ProgramAst } from './ast.ts';

export interface CompileResult {
  program?: Program;
  diagnostics: Diagnostic[];
  /** The syntax tree, when the source parsed without syntax errors. */
  ast?: ProgramAst;
}

export function compile(source: string, fileName: string, opts: CheckOptions = {}): CompileResult {
  try {
    const lexed = tokenize(source, fileName);
    const parsed = parse(lexed.tokens);
    const syntax = parsed.errors.map((e) => syntaxDiagnostic(e, parsed.expectations, lexed.tokens, fileName));
    const ast = buildAst(parsed.cst, lexed.comments);
    const diagnostics = quietEffects(ast, dedupe([...lexed.diagnostics, ...syntax, ...check(ast, fileName, opts)]));
    const clean = lexed.diagnostics.length === 0 && syntax.length === 0 && ast.unknown.length === 0;
    if (hasErrors(diagnostics)) return { diagnostics, ...(clean ? { ast } : {}) };
    return { program: compileAst(ast, source, fileName), diagnostics, ast };
  } catch (e) {
    // A bug, not bad input: say so instead of crashing the caller.
    const msg = e instanceof Error ? e.message : String(e);
    return { diagnostics: [diagnostic('E999', fileName, 1, 1, `internal compiler error: ${msg}`, { hint: 'please report this program' })] };
  }
}

/** Parse only (for the formatter): the AST with comments, or diagnostics. */
export function parseProgram(source: string, fileName: string): { ast?: ProgramAst; diagnostics: Diagnostic[] } {
  const lexed = tokenize(source, fileName);
  const parsed = parse(lexed.tokens);
  const syntax = parsed.errors.map((e) => syntaxDiagnostic(e, parsed.expectations, lexed.tokens, fileName));
  const ast = buildAst(parsed.cst, lexed.comments);
  // Unknown words are syntax errors to the formatter too.
  const unknown = ast.unknown.length ? check({ ...ast, items: [] }, fileName).filter((d) => d.code === 'E004') : [];
  const diagnostics = dedupe([...lexed.diagnostics, ...syntax, ...unknown]);
  if (diagnostics.length) return { diagnostics };
  return { ast, diagnostics };
}

function syntaxDiagnostic(e: IRecognitionException, expectations: ExpectedAt[], tokens: IToken[], file: string): Diagnostic {
  let tok = e.token;
  const atEnd = tok.tokenType === EOF || !Number.isFinite(tok.startOffset);
  if (atEnd) {
    // Anchor at the end of the previous real token, as Langium does.
    const prev = (e as { previousToken?: IToken }).previousToken;
    const last = prev && Number.isFinite(prev.startOffset) ? prev : tokens[tokens.length - 1];
    if (!last) return diagnostic('E001', file, 1, 1, e.message);
    const l = tokenLoc(last);
    return diagnostic('E001', file, l.endLine, l.endColumn, e.message, { length: 1 });
  }
  const loc = tokenLoc(tok);
  const exp = expectations.find((x) => x.token === tok || x.token.startOffset === tok.startOffset);
  if (tok.tokenType === Identifier && exp) {
    const words = exp.expected.flatMap((t) => categoryWords.get(t) ?? (t.CATEGORIES?.includes(Keyword) ? [(t.LABEL ?? t.name).replace(/"/g, '')] : []));
    const hint = closest(tok.image, words);
    if (hint) return diagnostic('E004', file, loc.line, loc.column, `unknown keyword "${tok.image}"`, { endLine: loc.endLine, endColumn: loc.endColumn, hint: `did you mean "${hint}"?` });
    if (words.length && /^[a-z]/.test(tok.image))
      return diagnostic('E004', file, loc.line, loc.column, `unknown keyword "${tok.image}"; ${e.message.replace(/ but found .*$/, '')}`, { endLine: loc.endLine, endColumn: loc.endColumn });
  }
  tok = e.token;
  return diagnostic('E001', file, loc.line, loc.column, e.message, { endLine: loc.endLine, endColumn: loc.endColumn });
}

/** "Rule has no effect" says nothing new about a rule with a syntax error
 * inside: its effect is probably the statement that did not parse. */
function quietEffects(ast: ProgramAst, ds: Diagnostic[]): Diagnostic[] {
  const broken = ds.filter((d) => /^E00\d$/.test(d.code));
  if (!broken.length) return ds;
  return ds.filter((d) => {
    if (d.code !== 'E040') return true;
    const rule = ast.items.find((i) => i.kind === 'rule' && i.name.loc.line === d.line && i.name.loc.column === d.column);
    return !rule || !broken.some((b) => b.line >= rule.loc.line && b.line <= rule.loc.endLine);
  });
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of sortDiagnostics(ds)) {
    const key = d.severity === 'error' && d.code.startsWith('E00') ? `${d.line}:${d.column}` : `${d.line}:${d.column}:${d.code}:${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
