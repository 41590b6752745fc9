// One diagnostic type for every stage, with a stable code, 1-based positions
// and a rendering with the source line and a caret under the token.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  hint?: string;
}

/** Every code a diagnostic can carry, with what it means (docs/dsl.md lists them). */
export const CODES: Record<string, string> = {
  E001: 'syntax error',
  E002: 'unexpected character',
  E003: 'unterminated string',
  E004: 'unknown keyword',
  E010: 'missing currency',
  E011: 'money in another currency',
  E012: 'unknown currency code',
  E013: 'setting given twice',
  E014: 'section given twice',
  E015: 'duplicate name',
  E016: 'rate per zero',
  E017: 'setting after a section',
  E018: 'amount not a whole number of minor units',
  E019: 'unknown timezone',
  E020: 'first tier not at 0',
  E021: 'tier thresholds not ascending',
  E022: 'threshold unit does not match qualify',
  E030: 'date range ends before it starts',
  E031: 'impossible date',
  E032: 'hours range does not end after it starts',
  E033: 'impossible time of day',
  E040: 'rule without effect',
  E041: 'more than one effect',
  E042: 'multiplier below 1x',
  E043: 'negative amount',
  E044: 'percentage above 100%',
  E045: 'more than one limit',
  E046: 'limit not allowed here',
  E047: 'whole number expected',
  E048: 'number too large or too precise',
  E050: 'unknown tier',
  E051: 'unknown club',
  E052: 'type mismatch in a when expression',
  E053: 'order value in a reward condition',
  E060: 'section incomplete',
  E061: 'statement given twice in a section',
  E062: 'zero duration',
  E063: 'reward cost of 0',
  E064: 'challenge goal or bonus of 0',
  E065: 'challenge goal per order',
  E066: 'challenge bonus per item',
  W001: 'rule can never apply',
  W002: 'multiplier without base earning',
  W003: 'filter matches only excluded lines',
  W004: 'discount never applies',
  W005: 'reward can never be redeemed',
};

export interface DiagnosticOptions {
  severity?: Severity;
  length?: number;
  endLine?: number;
  endColumn?: number;
  hint?: string;
}

export function diagnostic(
  code: string,
  file: string,
  line: number,
  column: number,
  message: string,
  opts: DiagnosticOptions = {},
): Diagnostic {
  const severity = opts.severity ?? (code.startsWith('W') ? 'warning' : 'error');
  const endLine = opts.endLine ?? line;
  const endColumn = opts.endColumn ?? column + Math.max(1, opts.length ?? 1);
  const d: Diagnostic = { code, severity, file, line, column, endLine, endColumn, message };
  if (opts.hint) d.hint = opts.hint;
  return d;
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

export interface RenderOptions {
  color?: boolean;
}

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const plain = (s: string) => s;

/**
 * `file:line:col: error CODE message`, then the source line with a caret under
 * the offending token, then the hint if there is one.
 */
export function renderDiagnostic(d: Diagnostic, source: string, opts: RenderOptions = {}): string {
  const red = opts.color ? ansi(31) : plain;
  const yellow = opts.color ? ansi(33) : plain;
  const bold = opts.color ? ansi(1) : plain;
  const dim = opts.color ? ansi(2) : plain;
  const cyan = opts.color ? ansi(36) : plain;
  const sev = d.severity === 'error' ? red('error') : yellow('warning');
  const head = `${bold(`${d.file}:${d.line}:${d.column}:`)} ${sev} ${d.code} ${d.message}`;
  const lines = source.split(/\r\n|\r|\n/);
  const text = lines[d.line - 1];
  const out = [head];
  if (text !== undefined) {
    const gutter = String(d.line);
    const pad = ' '.repeat(gutter.length);
    const width = d.endLine === d.line ? Math.max(1, d.endColumn - d.column) : Math.max(1, text.length - d.column + 1);
    // Tabs before the caret keep their width so the caret lines up.
    const lead = text.slice(0, d.column - 1).replace(/[^\t]/g, ' ');
    const caret = (d.severity === 'error' ? red : yellow)('^'.repeat(width));
    out.push(`${dim(`${gutter} |`)} ${text}`);
    out.push(`${dim(`${pad} |`)} ${lead}${caret}`);
  }
  if (d.hint) out.push(`${cyan('hint:')} ${d.hint}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------
// "did you mean"

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0]![j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The closest candidate if it is close enough to be a likely misspelling.
 * Ties go to the longer common prefix, then to a `preferred` candidate. */
export function closest(word: string, candidates: Iterable<string>, preferred: readonly string[] = []): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  let bestP = -1;
  let bestPref = false;
  const w = word.toLowerCase();
  for (const c of candidates) {
    if (c === word) continue;
    const lc = c.toLowerCase();
    const dist = editDistance(w, lc);
    const prefix = commonPrefix(w, lc);
    const pref = preferred.includes(c);
    if (dist < bestD || (dist === bestD && (prefix > bestP || (prefix === bestP && pref && !bestPref)))) {
      bestD = dist;
      best = c;
      bestP = prefix;
      bestPref = pref;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}
