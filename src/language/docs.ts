// What a keyword means, read from the language guide (docs/dsl.md) so that
// the editor says what the guide says. The guide's text comes in as a string
// (the LSP server reads the file; the console bundles it), and is read by
// shape, best first:
//   1. a heading with the keyword in backticks (``### `reward` — ...``): its
//      first paragraph and its first example block;
//   2. table rows and list items that start with a statement in backticks
//      (| `days sat, sun` | the order's local weekday is listed |);
//   3. a heading that names the keyword in words ("### 2.7 Tiers") and
//      whose first example uses it.
// A keyword the guide does not describe has no entry; hover then says less.

export interface DocEntry {
  keyword: string;
  /** The heading the text is under, without its number. */
  title: string;
  /** Markdown: a paragraph, or one line per statement form. */
  summary: string;
  /** A `.loyalty` example, when the guide has one there. */
  example?: string;
}

export interface DocIndex {
  lookup(keyword: string): DocEntry | undefined;
  readonly size: number;
}

interface Heading {
  level: number;
  title: string;
  /** Line range of the section's own text (up to the next heading). */
  start: number;
  end: number;
}

interface Row {
  code: string;
  text: string;
  title: string;
  /** The top-level (##) section it is in. */
  part: number;
}

/** The key a statement's code is filed under: `order.total >= 50 USD` → `order.total`, `days sat, sun` → `days`. */
function keyOf(code: string): string | undefined {
  return /^[a-z][a-z_]*(?:\.[a-z_]+)?(?=\s|$)/.exec(code.trim())?.[0];
}

/** Its first two words, for statements named by both (`on signup`, `first order`). */
function phraseOf(code: string): string | undefined {
  return /^[a-z][a-z_]* [a-z][a-z_]*(?=\s|$)/.exec(code.trim())?.[0];
}

const CODE = /`([^`]+)`/g;

export function indexDocs(markdown: string): DocIndex {
  const lines = markdown.split(/\r\n|\r|\n/);
  const headings: Heading[] = [];
  const fence: boolean[] = [];
  let open = false;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      fence[i] = true;
      open = !open;
      return;
    }
    fence[i] = open;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h && !open) headings.push({ level: h[1]!.length, title: h[2]!.trim(), start: i + 1, end: lines.length });
  });
  headings.forEach((h, i) => (h.end = headings[i + 1] ? headings[i + 1]!.start - 1 : lines.length));

  const byHeading = new Map<string, DocEntry>();
  const rows = new Map<string, Row[]>();
  const byTitle = new Map<string, DocEntry>();
  let part = 0;

  for (const h of headings) {
    const title = h.title.replace(/^\d+(\.\d+)*\.?\s+/, '');
    const body = lines.slice(h.start, h.end);
    const bodyFence = fence.slice(h.start, h.end);
    const summary = firstParagraph(body, bodyFence);
    const example = firstExample(body, bodyFence);
    for (const m of h.title.matchAll(CODE)) {
      const key = keyOf(m[1]!);
      if (key && !byHeading.has(key)) byHeading.set(key, { keyword: key, title, summary, ...(example ? { example } : {}) });
    }
    if (h.level <= 2) part++;
    if (example && h.level <= 3) {
      // "Tiers" names `tiers` and `tier` when the example starts a line with it.
      const starts = new Set(example.split('\n').map((l) => /^\s*([a-z_]+)/.exec(l)?.[1]));
      for (const w of title.toLowerCase().split(/[^a-z]+/)) {
        for (const key of [w, w.replace(/s$/, '')]) if (key && starts.has(key) && !byTitle.has(key)) byTitle.set(key, { keyword: key, title, summary, example });
      }
    }
    for (const row of statementRows(body, bodyFence, title, part)) {
      for (const key of new Set([keyOf(row.code), phraseOf(row.code)])) if (key) rows.set(key, [...(rows.get(key) ?? []), row]);
    }
  }

  const entries = new Map<string, DocEntry>(byTitle);
  for (const [key, all] of rows) {
    // The rows of the first part that has any: the language reference
    // comes before the sections on evaluation.
    const rs = all.filter((r) => r.part === all[0]!.part);
    const summary = rs.length === 1 ? rs[0]!.text : rs.slice(0, 6).map((r) => `- \`${r.code}\` — ${r.text}`).join('\n');
    entries.set(key, { keyword: key, title: rs[0]!.title, summary, ...(rs.length === 1 ? { example: rs[0]!.code } : {}) });
  }
  for (const [key, e] of byHeading) entries.set(key, e);
  return { lookup: (k) => entries.get(k), size: entries.size };
}

function firstParagraph(body: string[], fence: boolean[]): string {
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!;
    const prose = !fence[i] && line.trim() !== '' && !line.trimStart().startsWith('|');
    if (prose) out.push(line.trim());
    else if (out.length) break;
  }
  return out.join(' ');
}

function firstExample(body: string[], fence: boolean[]): string | undefined {
  for (let i = 0; i < body.length; i++) {
    const m = /^\s*```(\w*)/.exec(body[i]!);
    if (!m || !fence[i]) continue;
    const lang = m[1] ?? '';
    let j = i + 1;
    while (j < body.length && !/^\s*```/.test(body[j]!)) j++;
    if (lang === '' || lang === 'loyalty') return body.slice(i + 1, j).join('\n');
    i = j;
  }
  return undefined;
}

/** Table rows and list items that start with a statement in backticks. A
 * single word (`base`, `signup`) names something else (a ledger rule, an
 * event type), not a statement form, and is skipped. */
function statementRows(body: string[], fence: boolean[], title: string, part: number): Row[] {
  const rows: Row[] = [];
  let header: string[] = [];
  for (let i = 0; i < body.length; i++) {
    if (fence[i]) continue;
    const line = body[i]!.trim();
    if (line.startsWith('|')) {
      const cells = line.replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
      const next = body[i + 1]?.trim() ?? '';
      if (/^\|\s*:?-+/.test(next)) {
        header = cells;
        continue;
      }
      const code = /^`([^`]+)`/.exec(cells[0] ?? '')?.[1];
      if (!code || !isStatement(code)) continue;
      const extra = cells.slice(2).map((c, k) => (header[k + 2] ? `*${header[k + 2]}*: ${c}` : c)).filter((c) => c !== '');
      rows.push({ code, text: [cells[1] ?? '', ...extra].filter(Boolean).join('; '), title, part });
      continue;
    }
    const item = /^[-*]\s+`([^`]+)`[:.,]?\s*(.*)$/.exec(line);
    if (item && isStatement(item[1]!)) {
      const text = [item[2]!];
      // Continuation lines are indented and are not the next item.
      while (i + 1 < body.length && /^\s{2,}\S/.test(body[i + 1]!) && !/^\s*[-*]\s/.test(body[i + 1]!) && !fence[i + 1]) text.push(body[++i]!.trim());
      rows.push({ code: item[1]!, text: text.join(' ').trim(), title, part });
    }
  }
  return rows;
}

function isStatement(code: string): boolean {
  return /^[a-z]/.test(code) && (/\s/.test(code.trim()) || code.includes('.'));
}

/** The hover text for a documented keyword. */
export function renderEntry(e: DocEntry, word: string): string {
  const parts = [`**\`${word}\`** — ${e.title}`];
  if (e.summary) parts.push(e.summary);
  if (e.example && !e.summary.includes(e.example)) parts.push('```loyalty\n' + e.example + '\n```');
  return parts.join('\n\n');
}
