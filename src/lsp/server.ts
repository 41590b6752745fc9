// `loyalty lsp --stdio`: the language services (src/language/) over the
// Language Server Protocol, for VS Code (editors/vscode/) and any other
// editor with an LSP client. This file only adapts: documents come and go
// through vscode-languageserver's TextDocuments (full sync), each version is
// analysed once, and every request reads that analysis.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  createConnection,
  DiagnosticSeverity,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type CodeAction,
  type Connection,
  type Diagnostic,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createLanguageService, type LanguageDiagnostic, type LoyaltyDocument, type Range } from '../language/index.ts';

/** docs/dsl.md, found from this file (src/lsp/ when run from source, the
 * CLI bundle in node_modules/.cache/loyalty/ otherwise). */
export function findGuide(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from, i = 0; i < 8; i++, dir = dirname(dir)) {
    const file = join(dir, 'docs', 'dsl.md');
    if (existsSync(file)) return readFileSync(file, 'utf8');
    if (dirname(dir) === dir) break;
  }
  return undefined;
}

const today = () => new Date().toISOString().slice(0, 10);

function fileNameOf(uri: string): string {
  const last = uri.split(/[\\/]/).pop() ?? uri;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function startServer(connection: Connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout)): void {
  const guide = findGuide();
  const services = createLanguageService(guide ? { docs: guide } : {});
  const documents = new TextDocuments(TextDocument);
  const analyses = new Map<string, { version: number; doc: LoyaltyDocument }>();

  const analysis = (uri: string): LoyaltyDocument | undefined => {
    const text = documents.get(uri);
    if (!text) return undefined;
    const cached = analyses.get(uri);
    if (cached && cached.version === text.version) return cached.doc;
    const doc = services.analyze(text.getText(), fileNameOf(uri), { asOf: today() });
    analyses.set(uri, { version: text.version, doc });
    return doc;
  };

  const toLsp = (d: LanguageDiagnostic): Diagnostic => ({
    range: d.range,
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: 'loyalty',
    message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
  });

  connection.onInitialize(
    (): InitializeResult => ({
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Full,
        completionProvider: { triggerCharacters: ['.', '"'] },
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        semanticTokensProvider: { legend: services.semanticTokenLegend, full: true },
      },
      serverInfo: { name: 'loyalty' },
    }),
  );

  documents.onDidChangeContent(({ document }) => {
    const doc = analysis(document.uri);
    if (doc) void connection.sendDiagnostics({ uri: document.uri, version: document.version, diagnostics: services.diagnostics(doc).map(toLsp) });
  });
  documents.onDidClose(({ document }) => {
    analyses.delete(document.uri);
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onCompletion(({ textDocument, position }) => {
    const doc = analysis(textDocument.uri);
    if (!doc) return [];
    return services.complete(doc, position).map((item) => ({
      label: item.label,
      kind: item.kind,
      ...(item.detail ? { detail: item.detail } : {}),
      ...(item.documentation ? { documentation: { kind: 'markdown' as const, value: item.documentation } } : {}),
      textEdit: item.edit,
      sortText: item.sortText,
    }));
  });

  connection.onHover(({ textDocument, position }) => {
    const doc = analysis(textDocument.uri);
    const h = doc && services.hover(doc, position);
    return h ? { contents: { kind: 'markdown', value: h.contents }, range: h.range } : null;
  });

  connection.onDefinition(({ textDocument, position }) => {
    const doc = analysis(textDocument.uri);
    const range = doc && services.definition(doc, position);
    return range ? { uri: textDocument.uri, range } : null;
  });

  connection.onReferences(({ textDocument, position, context }) => {
    const doc = analysis(textDocument.uri);
    return doc ? services.references(doc, position, context.includeDeclaration).map((range) => ({ uri: textDocument.uri, range })) : [];
  });

  connection.onDocumentSymbol(({ textDocument }) => {
    const doc = analysis(textDocument.uri);
    return doc ? services.documentSymbols(doc) : [];
  });

  connection.onDocumentFormatting(({ textDocument }) => {
    const doc = analysis(textDocument.uri);
    // A program that does not parse is left as it is; its diagnostics are
    // already on screen.
    return doc ? services.format(doc).edits : [];
  });

  connection.onCodeAction(({ textDocument, range }) => {
    const doc = analysis(textDocument.uri);
    if (!doc) return [];
    const actions: CodeAction[] = [];
    for (const d of services.diagnostics(doc)) {
      if (!overlaps(d.range, range)) continue;
      for (const fix of d.fixes)
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, isPreferred: true, diagnostics: [toLsp(d)], edit: { changes: { [textDocument.uri]: [fix.edit] } } });
    }
    return actions;
  });

  connection.languages.semanticTokens.on(({ textDocument }) => {
    const doc = analysis(textDocument.uri);
    return { data: doc ? services.encodeSemanticTokens(services.semanticTokens(doc)) : [] };
  });

  documents.listen(connection);
  connection.listen();
}

function overlaps(a: Range, b: Range): boolean {
  const le = (x: Range['start'], y: Range['start']) => x.line < y.line || (x.line === y.line && x.character <= y.character);
  return le(a.start, b.end) && le(b.start, a.end);
}
