// Diagnostics as ranges with their fixes, and formatting as edits.
import { format as formatSource } from '../../dsl/format.ts';
import type { Diagnostic } from '../../dsl/index.ts';
import { locRange, type LoyaltyDocument } from './document.ts';
import type { Fix, LanguageDiagnostic, TextEdit } from './types.ts';

export function diagnostics(doc: LoyaltyDocument): LanguageDiagnostic[] {
  return doc.diagnostics.map((d) => toLanguageDiagnostic(doc, d));
}

function toLanguageDiagnostic(doc: LoyaltyDocument, d: Diagnostic): LanguageDiagnostic {
  const range = locRange(d);
  const out: LanguageDiagnostic = { range, severity: d.severity, code: d.code, message: d.message, fixes: [] };
  if (d.hint) {
    out.hint = d.hint;
    // `did you mean "Silver"?` names the replacement for the marked text; a
    // marked string ("America/New_Yrok") is replaced by a string.
    const m = /^did you mean "(.+)"\?$/.exec(d.hint);
    if (m) {
      const marked = doc.text.slice(doc.offsetAt(range.start), doc.offsetAt(range.end));
      const newText = marked.startsWith('"') ? JSON.stringify(m[1]!) : m[1]!;
      out.fixes.push(fix(`Change to ${newText}`, { range, newText }));
    }
  }
  return out;
}

function fix(title: string, edit: TextEdit): Fix {
  return { title, edit };
}

/** The canonical layout (`loyalty fmt`) as one edit over the lines that
 * change, so the editor keeps the cursor and folds elsewhere; nothing when
 * the text does not parse (the diagnostics say why) or is already tidy. */
export function formatting(doc: LoyaltyDocument): { edits: TextEdit[]; diagnostics: Diagnostic[] } {
  const result = formatSource(doc.text, doc.fileName);
  if (result.text === undefined) return { edits: [], diagnostics: result.diagnostics };
  const before = doc.text;
  const after = result.text;
  if (before === after) return { edits: [], diagnostics: [] };
  // The common prefix and suffix, widened to whole lines so that an edit
  // never starts or ends inside a line break (\r\n).
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  while (start > 0 && before[start - 1] !== '\n' && before[start - 1] !== '\r') start--;
  while (end > 0 && before[before.length - end - 1] !== '\n' && !(before[before.length - end - 1] === '\r' && before[before.length - end] !== '\n')) end--;
  const range = { start: doc.positionAt(start), end: doc.positionAt(before.length - end) };
  return { edits: [{ range, newText: after.slice(start, after.length - end) }], diagnostics: [] };
}
