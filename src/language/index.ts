// Language services for `.loyalty` programs: one module for the editor
// (src/lsp/, through the Language Server Protocol) and the console (in the
// browser). Plain data in and out, 0-based positions, nothing from Node or
// from vscode-languageserver.
//
//   const services = createLanguageService({ docs: dslMarkdown });
//   const doc = services.analyze(text, 'program.loyalty');
//   services.diagnostics(doc); services.complete(doc, { line: 4, character: 10 });
//
// `docs` is the text of docs/dsl.md (read from disk by the LSP server,
// bundled by the console with Vite's `?raw`); without it, hover and
// completion say what a keyword is but not what the guide says about it.
import { analyze, type AnalyzeOptions, type LoyaltyDocument } from './document.ts';
import { complete } from './completion.ts';
import { indexDocs, type DocIndex } from './docs.ts';
import { diagnostics, formatting } from './edits.ts';
import { hover } from './hover.ts';
import { definition, documentSymbols, references } from './navigation.ts';
import { encodeSemanticTokens, semanticTokens } from './tokens.ts';
import { SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, type SemanticToken } from './types.ts';

export * from './types.ts';
export type { LoyaltyDocument, AnalyzeOptions } from './document.ts';
export type { DocEntry, DocIndex } from './docs.ts';
export { indexDocs } from './docs.ts';

export interface LanguageServiceOptions {
  /** The language guide, docs/dsl.md, as markdown. */
  docs?: string;
}

export function createLanguageService(options: LanguageServiceOptions = {}) {
  const docIndex: DocIndex | undefined = options.docs ? indexDocs(options.docs) : undefined;
  return {
    analyze: (text: string, fileName: string, opts?: AnalyzeOptions) => analyze(text, fileName, opts),
    diagnostics,
    format: formatting,
    complete: (doc: LoyaltyDocument, p: Parameters<typeof complete>[1]) => complete(doc, p, docIndex),
    hover: (doc: LoyaltyDocument, p: Parameters<typeof hover>[1]) => hover(doc, p, docIndex),
    definition,
    references,
    documentSymbols,
    semanticTokens,
    semanticTokenLegend: { tokenTypes: [...SEMANTIC_TOKEN_TYPES], tokenModifiers: [...SEMANTIC_TOKEN_MODIFIERS] },
    /** The LSP wire form of semantic tokens. */
    encodeSemanticTokens: (tokens: readonly SemanticToken[]) => encodeSemanticTokens(tokens, SEMANTIC_TOKEN_TYPES, SEMANTIC_TOKEN_MODIFIERS),
  };
}

export type LanguageService = ReturnType<typeof createLanguageService>;
