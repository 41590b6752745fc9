// dsl.md 3, `when` expressions (2.8): types (conditions, money, numbers,
// strings, tiers), known clubs and tiers, comparisons of like with like.
import type * as A from '../ast.ts';
import { closest } from '../diagnostics.ts';
import type { CheckContext } from './context.ts';
import { decimal, money } from './literals.ts';

export type Ty = 'bool' | 'money' | 'number' | 'string' | 'tier' | 'error';

/** The type of an expression, reporting what is wrong inside it. */
export function typeOf(ctx: CheckContext, e: A.Expr): Ty {
  switch (e.kind) {
    case 'or':
    case 'and': {
      const l = typeOf(ctx, e.left);
      const r = typeOf(ctx, e.right);
      expectBool(ctx, e.left, l, e.kind);
      expectBool(ctx, e.right, r, e.kind);
      return 'bool';
    }
    case 'not':
      expectBool(ctx, e.operand, typeOf(ctx, e.operand), 'not');
      return 'bool';
    case 'paren':
      return typeOf(ctx, e.expr);
    case 'firstOrder':
    case 'memberClub':
      if (e.kind === 'memberClub' && !ctx.clubNames.has(e.name.text)) {
        const names = ctx.clubNames;
        const hint = closest(e.name.text, names.keys());
        ctx.report('E051', e.name.loc, `unknown club ${e.name.raw}`, hint ? `did you mean "${hint}"?` : names.size ? `declared clubs: ${[...names.keys()].map((k) => `"${k}"`).join(', ')}` : 'the program declares no clubs');
      }
      return 'bool';
    case 'orderTotal':
    case 'money':
      if (e.kind === 'money') money(ctx, e.value, 'an amount');
      return 'money';
    case 'orderItems':
      return 'number';
    case 'number':
      decimal(ctx, e.value, 'the number');
      return 'number';
    case 'orderChannel':
    case 'string':
      return 'string';
    case 'memberTier':
      if (!ctx.tiersNode) ctx.report('E050', e.loc, 'member.tier is used but the program has no tiers', 'add a tiers section');
      return 'tier';
    case 'tierName': {
      if (ctx.tiersNode && !ctx.tierNames.has(e.name.text)) {
        const hint = closest(e.name.text, ctx.tierNames.keys());
        ctx.report('E050', e.name.loc, `unknown tier "${e.name.text}"`, hint ? `did you mean "${hint}"?` : `declared tiers: ${[...ctx.tierNames.keys()].join(', ')}`);
      } else if (!ctx.tiersNode) ctx.report('E050', e.name.loc, `unknown tier "${e.name.text}"`, 'the program has no tiers');
      return 'tier';
    }
    case 'cmp': {
      const l = typeOf(ctx, e.left);
      const r = typeOf(ctx, e.right);
      if (l === 'error' || r === 'error') return 'bool';
      if (l === 'bool' || r === 'bool') {
        ctx.report('E052', e.opLoc, `${e.op} compares values, not conditions`, 'combine conditions with and, or, not');
        return 'bool';
      }
      if (l !== r) {
        ctx.report('E052', e.loc, `cannot compare ${describeTy(l, e.left)} with ${describeTy(r, e.right)}`, mismatchHint(ctx, l, r));
        return 'bool';
      }
      if (l === 'string' && e.op !== '==' && e.op !== '!=') ctx.report('E052', e.opLoc, `strings can only be compared with == or !=`);
      if (l === 'string' && e.left.kind === 'string' && e.right.kind === 'string') ctx.report('E052', e.loc, 'compares two fixed strings', 'compare order.channel with a string');
      if (l === 'tier' && e.left.kind === 'tierName' && e.right.kind === 'tierName') ctx.report('E052', e.loc, 'compares two tier names', 'compare member.tier with a tier name');
      return 'bool';
    }
  }
  return 'error';
}

/** A `when` that must be a condition: its type, or E052 with `hint`. */
export function checkCondition(ctx: CheckContext, e: A.Expr, hint: string): void {
  const t = typeOf(ctx, e);
  if (t !== 'bool' && t !== 'error') ctx.report('E052', e.loc, `when needs a condition, but this is ${describeTy(t, e)}`, hint);
}

function expectBool(ctx: CheckContext, e: A.Expr, t: Ty, op: string): void {
  if (t !== 'bool' && t !== 'error') ctx.report('E052', e.loc, `${op} needs a condition, but this is ${describeTy(t, e)}`, 'compare it, e.g. order.total >= 20 ' + ctx.exampleCurrency);
}

function describeTy(t: Ty, e: A.Expr): string {
  const what = { bool: 'a condition', money: 'money', number: 'a number', string: 'a string', tier: 'a tier', error: 'an invalid value' }[t];
  return e.kind === 'orderTotal' ? 'order.total (money)' : e.kind === 'orderItems' ? 'order.items (a number)' : e.kind === 'orderChannel' ? 'order.channel (a string)' : e.kind === 'memberTier' ? 'member.tier' : what;
}

function mismatchHint(ctx: CheckContext, l: Ty, r: Ty): string | undefined {
  if ((l === 'money' && r === 'number') || (l === 'number' && r === 'money')) return `order.total is money: write the amount with its currency, e.g. 20 ${ctx.exampleCurrency}; order.items is a plain number`;
  if (l === 'tier' || r === 'tier') return 'compare member.tier with a tier name, e.g. member.tier >= Silver';
  if (l === 'string' || r === 'string') return 'compare order.channel with a string, e.g. order.channel == "app"';
  return undefined;
}

/** The parts of an expression that read the order (a reward has none). */
export function orderOperands(e: A.Expr): A.Expr[] {
  switch (e.kind) {
    case 'or':
    case 'and':
    case 'cmp':
      return [...orderOperands(e.left), ...orderOperands(e.right)];
    case 'not':
      return orderOperands(e.operand);
    case 'paren':
      return orderOperands(e.expr);
    case 'firstOrder':
    case 'orderTotal':
    case 'orderItems':
    case 'orderChannel':
      return [e];
    default:
      return [];
  }
}

export function describeOperand(e: A.Expr): string {
  return e.kind === 'firstOrder' ? '`first order`' : e.kind === 'orderTotal' ? 'order.total' : e.kind === 'orderItems' ? 'order.items' : 'order.channel';
}
