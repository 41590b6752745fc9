// The shapes the language services speak. They follow the Language Server
// Protocol's (0-based line and character, UTF-16 columns, the same numeric
// kinds) so the LSP server passes them through, but they are plain data: the
// console uses them in the browser without vscode-languageserver.

/** 0-based line and UTF-16 character, as in the LSP. */
export interface Position {
  line: number;
  character: number;
}

/** End exclusive. */
export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface LanguageDiagnostic {
  range: Range;
  severity: 'error' | 'warning';
  /** The compiler's code (E004, W001...). */
  code: string;
  message: string;
  /** The compiler's hint, when it has one ("did you mean ..."). */
  hint?: string;
  /** Edits that apply the hint, when it names the replacement. */
  fixes: Fix[];
}

export interface Fix {
  title: string;
  edit: TextEdit;
}

/** LSP CompletionItemKind values used here. */
export const CompletionKind = {
  Property: 10,
  Value: 12,
  Keyword: 14,
  Snippet: 15,
  Class: 7,
  EnumMember: 20,
  Operator: 24,
  Constant: 21,
} as const;
export type CompletionKind = (typeof CompletionKind)[keyof typeof CompletionKind];

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  detail?: string;
  /** Markdown. */
  documentation?: string;
  /** What the item writes over `range` (the word or string under the cursor). */
  edit: TextEdit;
  /** Orders the items as the grammar lists them. */
  sortText: string;
}

export interface Hover {
  /** Markdown. */
  contents: string;
  range: Range;
}

/** LSP SymbolKind values used here. */
export const SymbolKind = {
  Module: 2,
  Namespace: 3,
  Class: 5,
  Property: 7,
  Enum: 10,
  Function: 12,
  Constant: 14,
  Object: 19,
  EnumMember: 22,
  Struct: 23,
  Event: 24,
} as const;
export type SymbolKind = (typeof SymbolKind)[keyof typeof SymbolKind];

export interface DocumentSymbol {
  name: string;
  detail?: string;
  kind: SymbolKind;
  range: Range;
  selectionRange: Range;
  children: DocumentSymbol[];
}

export interface SemanticToken {
  line: number;
  character: number;
  length: number;
  /** An entry of SEMANTIC_TOKEN_TYPES. */
  type: SemanticTokenType;
  modifiers: SemanticTokenModifier[];
}

/** The legend: LSP standard token types and modifiers. */
export const SEMANTIC_TOKEN_TYPES = ['keyword', 'string', 'number', 'comment', 'operator', 'property', 'enumMember', 'class', 'function', 'event', 'type'] as const;
export type SemanticTokenType = (typeof SEMANTIC_TOKEN_TYPES)[number];
export const SEMANTIC_TOKEN_MODIFIERS = ['declaration'] as const;
export type SemanticTokenModifier = (typeof SEMANTIC_TOKEN_MODIFIERS)[number];
