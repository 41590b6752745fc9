// The program editor: CodeMirror 6 with the language services of
// src/language running in the browser. One analysis per change (a state
// field) feeds the colours (semantic tokens as mark decorations), the
// squiggles (lint, with the compiler's hint and its quick fix), hover and
// completion; Format applies the formatter's edit.
import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching } from '@codemirror/language';
import { forceLinting, linter, lintGutter, lintKeymap, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorState, RangeSetBuilder, StateField, type Extension, type Text } from '@codemirror/state';
import { Decoration, EditorView, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers, type DecorationSet } from '@codemirror/view';
import dslGuide from '../../docs/dsl.md?raw';
import { createLanguageService, type LanguageDiagnostic, type LoyaltyDocument, type Position, type TextEdit } from '../../src/language/index.ts';

export const services = createLanguageService({ docs: dslGuide });
const FILE = 'program.loyalty';

const analysis = StateField.define<LoyaltyDocument>({
  create: (state) => services.analyze(state.doc.toString(), FILE),
  update: (value, tr) => (tr.docChanged ? services.analyze(tr.state.doc.toString(), FILE) : value),
});

function offsetOf(text: Text, p: Position): number {
  const line = text.line(Math.min(text.lines, p.line + 1));
  return Math.min(line.from + p.character, line.to);
}

function positionOf(text: Text, offset: number): Position {
  const line = text.lineAt(offset);
  return { line: line.number - 1, character: offset - line.from };
}

const marks = new Map<string, Decoration>();
const mark = (type: string, declaration: boolean) => {
  const cls = `tok-${type}${declaration ? ' tok-declaration' : ''}`;
  let m = marks.get(cls);
  if (!m) marks.set(cls, (m = Decoration.mark({ class: cls })));
  return m;
};

const colours = EditorView.decorations.compute([analysis, 'doc'], (state): DecorationSet => {
  const builder = new RangeSetBuilder<Decoration>();
  const doc = state.doc;
  for (const t of services.semanticTokens(state.field(analysis))) {
    const from = offsetOf(doc, { line: t.line, character: t.character });
    const to = Math.min(from + t.length, doc.length);
    if (to > from) builder.add(from, to, mark(t.type, t.modifiers.includes('declaration')));
  }
  return builder.finish();
});

function toCm(text: Text, d: LanguageDiagnostic): CmDiagnostic {
  let from = offsetOf(text, d.range.start);
  let to = offsetOf(text, d.range.end);
  if (to <= from) {
    // An empty range (a missing token at the end): mark the character before it.
    to = from;
    from = Math.max(0, from - 1);
  }
  return {
    from,
    to,
    severity: d.severity,
    source: d.code,
    message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
    actions: d.fixes.map((f) => ({
      name: f.title,
      apply: (view: EditorView) => applyEdits(view, [f.edit]),
    })),
  };
}

export function applyEdits(view: EditorView, edits: readonly TextEdit[]): void {
  const doc = view.state.doc;
  view.dispatch({ changes: edits.map((e) => ({ from: offsetOf(doc, e.range.start), to: offsetOf(doc, e.range.end), insert: e.newText })) });
}

function complete(context: CompletionContext): CompletionResult | null {
  const doc = context.state.field(analysis);
  const items = services.complete(doc, positionOf(context.state.doc, context.pos));
  if (!items.length) return null;
  // Unasked (as you type), only after a letter or a quote: not inside numbers.
  const word = context.matchBefore(/[A-Za-z"][\w"-]*/);
  if (!context.explicit && !word) return null;
  const first = items[0]!.edit.range;
  return {
    from: offsetOf(context.state.doc, first.start),
    to: offsetOf(context.state.doc, first.end),
    options: items.map((item) => ({
      label: item.label,
      detail: item.detail,
      info: item.documentation,
      apply: item.edit.newText,
      boost: -Number.parseInt(item.sortText, 10) || 0,
    })),
  };
}

const hover = hoverTooltip((view, pos) => {
  const found = services.hover(view.state.field(analysis), positionOf(view.state.doc, pos));
  if (!found) return null;
  return {
    pos: offsetOf(view.state.doc, found.range.start),
    end: offsetOf(view.state.doc, found.range.end),
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'hover-doc';
      // The guide's markdown, shown as text (no HTML from markdown).
      dom.textContent = found.contents.replace(/```\w*\n?/g, '').replace(/[*`]/g, '');
      return { dom };
    },
  };
});

export interface ProgramEditor {
  view: EditorView;
  text(): string;
  setText(text: string): void;
  document(): LoyaltyDocument;
  diagnostics(): LanguageDiagnostic[];
  /** Applies the canonical layout; false when the text does not parse. */
  format(): boolean;
  goTo(line: number, column: number): void;
}

export function createProgramEditor(parent: HTMLElement, text: string, options: { label: string; describedBy?: string; onChange: (doc: LoyaltyDocument) => void }): ProgramEditor {
  const extensions: Extension[] = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightActiveLine(),
    history(),
    bracketMatching(),
    analysis,
    colours,
    linter((view) => services.diagnostics(view.state.field(analysis)).map((d) => toCm(view.state.doc, d)), { delay: 250 }),
    lintGutter(),
    hover,
    autocompletion({ override: [complete] }),
    // Tab is left to the browser, so keyboard users can leave the editor.
    // F8 goes to the next problem, Ctrl-Shift-M lists them (lintKeymap).
    keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap]),
    EditorView.contentAttributes.of({ 'aria-label': options.label, 'aria-multiline': 'true', spellcheck: 'false', ...(options.describedBy ? { 'aria-describedby': options.describedBy } : {}) }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) options.onChange(update.state.field(analysis));
    }),
  ];
  const view = new EditorView({ parent, state: EditorState.create({ doc: text, extensions }) });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(next: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    document: () => view.state.field(analysis),
    diagnostics: () => services.diagnostics(view.state.field(analysis)),
    format() {
      const result = services.format(view.state.field(analysis));
      if (result.diagnostics.length) return false;
      if (result.edits.length) applyEdits(view, result.edits);
      forceLinting(view);
      return true;
    },
    goTo(line: number, column: number) {
      const doc = view.state.doc;
      const pos = offsetOf(doc, { line: line - 1, character: column - 1 });
      view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
      view.focus();
    },
  };
}
