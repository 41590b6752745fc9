// The formatter: one canonical layout for a program, comments kept.
// Laws (test/dsl/format.test.ts): formatting is idempotent, and a formatted
// program compiles to the same program as the original.
import type * as A from './ast.ts';
import { parseProgram, type Diagnostic } from './index.ts';

export interface FormatResult {
  text?: string;
  diagnostics: Diagnostic[];
}

/** Formats a program; a program with syntax errors is returned as diagnostics. */
export function format(source: string, fileName: string): FormatResult {
  const parsed = parseProgram(source, fileName);
  if (!parsed.ast) return { diagnostics: parsed.diagnostics };
  return { text: formatAst(parsed.ast), diagnostics: [] };
}

const INDENT = '  ';

// --- printing single statements ------------------------------------------------

const pts = (n: A.Num) => `${n.raw} ${n.raw === '1' ? 'point' : 'points'}`;
const money = (m: A.MoneyNode) => `${m.amount} ${m.currency}`;
const strings = (xs: A.Str[]) => xs.map((x) => x.raw).join(', ');
const rate = (r: A.RateNode) => `${pts(r.points)} per ${money(r.per)}`;
function duration(d: A.DurationNode): string {
  const unit = d.unit.text.replace(/s$/, '');
  return `${d.amount.raw} ${d.amount.raw === '1' ? unit : unit + 's'}`;
}
function time(w: A.Word): string {
  return w.text.length === 4 ? '0' + w.text : w.text;
}
function limit(l: A.LimitNode): string {
  if (l.unit === 'times' && (l.amount === null || l.amount.raw === '1')) return `limit once per ${l.period.text}`;
  return `limit ${l.amount!.raw} ${l.unit === 'points' ? (l.amount!.raw === '1' ? 'point' : 'points') : 'times'} per ${l.period.text}`;
}

export function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'or':
      return `${printExpr(e.left)} or ${printExpr(e.right)}`;
    case 'and':
      return `${printExpr(e.left)} and ${printExpr(e.right)}`;
    case 'not':
      return `not ${printExpr(e.operand)}`;
    case 'paren':
      return `(${printExpr(e.expr)})`;
    case 'cmp':
      return `${printExpr(e.left)} ${e.op} ${printExpr(e.right)}`;
    case 'firstOrder':
      return 'first order';
    case 'orderTotal':
      return 'order.total';
    case 'orderItems':
      return 'order.items';
    case 'orderChannel':
      return 'order.channel';
    case 'memberTier':
      return 'member.tier';
    case 'memberClub':
      return `member.club ${e.name.raw}`;
    case 'money':
      return money(e.value);
    case 'number':
      return e.value.raw;
    case 'string':
      return e.value.raw;
    case 'tierName':
      return e.name.text;
  }
}

type Stmt =
  | A.Setting
  | A.RuleStmt
  | A.QualifyNode
  | A.KeepNode
  | A.PerkNode
  | A.FeeNode
  | A.DiscountNode
  | A.JoinBonusNode
  | A.ReferralStmt
  | A.RedeemStmt
  | A.AfterNode
  | A.CostNode
  | A.ValueNode
  | A.GoalNode;

/** One statement in canonical form, as the formatter prints it. */
export function stmt(s: Stmt): string {
  switch (s.kind) {
    case 'currency':
      return `currency ${s.code.text}`;
    case 'timezone':
      return `timezone ${s.value.raw}`;
    case 'unit':
      return `unit ${s.value.raw}`;
    case 'base':
      return `base ${rate(s.rate)}`;
    case 'pending':
      return `pending ${duration(s.duration)}`;
    case 'exclude':
      return `exclude ${s.target} ${strings(s.values)}`;
    case 'filter':
      return `${s.exclude ? 'exclude ' : ''}${s.target} ${strings(s.values)}`;
    case 'during':
      return `during ${s.from.text} to ${s.to.text}`;
    case 'days':
      return `days ${s.days.map((d) => d.text).join(', ')}`;
    case 'hours':
      return `hours ${time(s.from)} to ${time(s.to)}`;
    case 'when':
      return `when ${printExpr(s.expr)}`;
    case 'multiplier':
      return `multiplier ${s.factor.raw}x`;
    case 'extra':
      return `extra ${rate(s.rate)}`;
    case 'bonus':
      return `bonus ${pts(s.points)}${s.perItem ? ' per item' : ''}`;
    case 'limit':
      return limit(s);
    case 'qualify': {
      const w = s.window;
      const over = w === null ? '' : w.kind === 'rolling' ? ` over ${duration(w.duration)}` : w.kind === 'calendar-year' ? ' over calendar year' : ' over lifetime';
      return `qualify ${s.metric.text}${over}`;
    }
    case 'keep':
      return `keep ${duration(s.duration)}`;
    case 'perk':
      return `perk ${s.name.raw}`;
    case 'fee':
      return `fee ${money(s.amount)} per ${s.per.text}`;
    case 'discount':
      return s.everything ? `discount ${s.percent.raw}% on everything` : `discount ${s.percent.raw}% on category ${strings(s.categories)}`;
    case 'joinBonus':
      return `bonus ${pts(s.points)} on join`;
    case 'referrer':
      return `referrer ${pts(s.points)}`;
    case 'referee':
      return `referee ${pts(s.points)}`;
    case 'minOrder':
      return `min order ${money(s.amount)}`;
    case 'within':
      return `within ${duration(s.duration)}`;
    case 'referralLimit':
      return `limit ${s.count.raw} per year`;
    case 'redeemRate':
      return `rate ${pts(s.points)} = ${money(s.value)}`;
    case 'redeemMin':
      return `min ${pts(s.points)}`;
    case 'redeemMax':
      return `max ${s.percent.raw}% of order`;
    case 'after':
      return `after ${duration(s.duration)}${s.inactivity ? ' inactivity' : ''}`;
    case 'cost':
      return `cost ${pts(s.points)}`;
    case 'value':
      return `value ${money(s.amount)}`;
    case 'goal':
      return `${s.metric} ${'currency' in s.amount ? money(s.amount) : s.amount.raw} per ${s.period.text}`;
  }
}

// --- the layout tree --------------------------------------------------------------

/** A printable node: a statement, or a block with a header and children. */
interface Node {
  start: number;
  end: number;
  text?: string; // a leaf statement
  header?: string; // a block: `rule "x"`
  children?: Node[];
  /** Print `header { a  b }` on one line when nothing inside has comments. */
  inline?: boolean;
  leading: string[];
  /** After a statement, or after a block's closing brace. */
  trailing: string[];
  /** After a block's opening brace. */
  headerTrail: string[];
  /** Comments inside a block after its last child. */
  dangling: string[];
  /** A blank line before this node. */
  gap?: boolean;
  /** Column at which the trailing comment starts (aligned with neighbours). */
  alignTo?: number;
}

function leaf(s: Stmt): Node {
  return { start: s.loc.line, end: s.loc.endLine, text: stmt(s), leading: [], trailing: [], headerTrail: [], dangling: [] };
}

function block(header: string, loc: A.Loc, children: Node[], inline = false): Node {
  return { start: loc.line, end: loc.endLine, header, children, inline, leading: [], trailing: [], headerTrail: [], dangling: [] };
}

function sectionNode(item: A.Section): Node {
  switch (item.kind) {
    case 'rule':
      return block(`rule ${item.name.raw}`, item.loc, item.body.map(leaf));
    case 'on': {
      const head = item.trigger === 'event' ? `on event ${item.event!.raw}` : `on ${item.trigger}`;
      return block(head, item.loc, item.body.map(leaf), true);
    }
    case 'tiers':
      return block(
        'tiers',
        item.loc,
        item.body.map((s) =>
          s.kind === 'tier'
            ? s.block
              ? block(`tier ${s.name.text} at ${'currency' in s.threshold ? money(s.threshold) : s.threshold.raw}`, s.loc, s.body.map(leaf), true)
              : { ...leaf(s as never), text: `tier ${s.name.text} at ${'currency' in s.threshold ? money(s.threshold) : s.threshold.raw}` }
            : leaf(s),
        ),
      );
    case 'club':
      return block(`club ${item.name.raw}`, item.loc, item.body.map(leaf));
    case 'referral':
      return block('referral', item.loc, item.body.map(leaf));
    case 'redeem':
      return block('redeem', item.loc, item.body.map(leaf));
    case 'expire':
      return block('expire', item.loc, item.body.map(leaf), true);
    case 'reward':
      return block(`reward ${item.name.raw}`, item.loc, item.body.map(leaf));
    case 'challenge':
      return block(`challenge ${item.name.raw}`, item.loc, item.body.map(leaf));
  }
}

function isSetting(i: A.Item): i is A.Setting {
  return i.kind === 'currency' || i.kind === 'timezone' || i.kind === 'unit' || i.kind === 'base' || i.kind === 'pending' || i.kind === 'exclude';
}

export function formatAst(ast: A.ProgramAst): string {
  const items: Node[] = [];
  const settings: boolean[] = [];
  const ons: boolean[] = [];
  for (const item of ast.items) {
    const setting = isSetting(item);
    items.push(setting ? leaf(item) : sectionNode(item));
    settings.push(setting);
    ons.push(item.kind === 'on');
  }
  const root = block(`program ${ast.name?.raw ?? '""'}`, ast.loc, items);
  const before: string[] = [];
  const after: string[] = [];
  for (const c of ast.comments) {
    const text = c.text.trimEnd();
    if (c.loc.line < root.start) before.push(text);
    else if (c.loc.line > root.end) after.push(text);
    else place(root, c.loc.line, text);
  }
  // Settings sit together; every section is set off by a blank line, except
  // `on` sections printed on one line that follow each other (decided on the
  // printed form, so formatting again changes nothing).
  items.forEach((node, i) => {
    if (i === 0) return;
    const bothSettings = settings[i] && settings[i - 1];
    const onLiners = ons[i] && ons[i - 1] && singleLine(node) !== undefined && singleLine(items[i - 1]!) !== undefined && !node.leading.length;
    node.gap = !bothSettings && !onLiners;
  });
  const out: string[] = [];
  out.push(...before);
  print(root, 0, out);
  if (after.length) out.push('', ...after);
  return out.join('\n') + '\n';
}

/** Attaches a comment to the node it belongs to: trailing a statement on
 * its line, after a block's `{` or `}` on theirs, otherwise leading the next
 * statement, otherwise before the closing brace. */
function place(n: Node, line: number, text: string): void {
  // A comment runs to the end of its line: on the closing line it follows `}`.
  if (!n.children || line === n.end) {
    n.trailing.push(text);
    return;
  }
  if (line === n.start && n.start !== n.end && !n.children.some((c) => c.start === line)) {
    n.headerTrail.push(text);
    return;
  }
  // Several statements may share a line: the comment follows the last one.
  let holder: Node | undefined;
  for (const c of n.children) if (line >= c.start && line <= c.end) holder = c;
  if (holder) {
    place(holder, line, text);
    return;
  }
  const next = n.children.find((c) => c.start > line);
  if (next) next.leading.push(text);
  else n.dangling.push(text);
}

function hasInnerComments(n: Node): boolean {
  return n.headerTrail.length > 0 || n.dangling.length > 0 || (n.children ?? []).some((c) => c.leading.length > 0 || c.trailing.length > 0 || hasInnerComments(c));
}

function oneLine(n: Node): string {
  if (n.text !== undefined) return n.text;
  const inner = n.children!.map(oneLine).join('  ');
  return inner ? `${n.header} { ${inner} }` : `${n.header} { }`;
}

const comments = (cs: string[]) => (cs.length ? '  ' + cs.join(' ') : '');

/** The statement as one line, if it prints on one line. */
function singleLine(n: Node): string | undefined {
  if (n.text !== undefined) return n.text;
  if (n.inline && !hasInnerComments(n)) return oneLine(n);
  return undefined;
}

/** Trailing comments of neighbouring one-line statements start in one column. */
function alignTrailing(children: Node[]): void {
  let run: Node[] = [];
  const flush = () => {
    if (run.length > 1) {
      const width = Math.max(...run.map((c) => singleLine(c)!.length));
      for (const c of run) c.alignTo = width;
    }
    run = [];
  };
  for (const c of children) {
    if (c.gap || c.leading.length) flush();
    const line = singleLine(c);
    if (line !== undefined && c.trailing.length) run.push(c);
    else flush();
  }
  flush();
}

function withComments(pad: string, line: string, n: Node): string {
  if (!n.trailing.length) return pad + line;
  const fill = n.alignTo !== undefined ? ' '.repeat(Math.max(0, n.alignTo - line.length)) : '';
  return pad + line + fill + comments(n.trailing);
}

function print(n: Node, depth: number, out: string[]): void {
  const pad = INDENT.repeat(depth);
  if (n.gap && out.length) out.push('');
  for (const c of n.leading) out.push(pad + c);
  const line = singleLine(n);
  if (line !== undefined) {
    out.push(withComments(pad, line, n));
    return;
  }
  out.push(`${pad}${n.header} {${comments(n.headerTrail)}`);
  alignTrailing(n.children!);
  for (const c of n.children!) print(c, depth + 1, out);
  for (const c of n.dangling) out.push(INDENT.repeat(depth + 1) + c);
  out.push(`${pad}}${comments(n.trailing)}`);
}
