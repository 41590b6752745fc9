// Stage 1: text → tokens. One ordered `allTokens` list; keywords are lower
// case and fall back to Identifier through `longer_alt`.
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import { diagnostic, type Diagnostic } from './diagnostics.ts';

/** Every token that can appear inside a setting or section, but does not
 * start one and is not a brace: what recovery skips after an unknown word
 * at the top of the program. */
export const Skippable = createToken({ name: 'Skippable', pattern: Lexer.NA });
/** Literals and punctuation: what may follow an unknown word in a block. */
export const Value = createToken({ name: 'Value', pattern: Lexer.NA });
const skip = [Skippable];
const value = [Skippable, Value];
/** The keywords that start a setting or a section. */
export const ItemWord = createToken({ name: 'ItemWord', pattern: Lexer.NA });

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\n\r]*/, group: 'comments' });

export const StringLit = createToken({ name: 'StringLit', categories: value, pattern: /"(?:[^"\\\r\n]|\\.)*"/, label: 'a string in double quotes' });
// A string that reaches the end of its line without a closing quote. The
// lexer turns it into a StringLit (so parsing goes on) and reports it once.
const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\r\n]|\\.)*\\?/ });

export const DateLit = createToken({ name: 'DateLit', categories: value, pattern: /\d{4}-\d{2}-\d{2}(?![\d])/, label: 'a date (YYYY-MM-DD)' });
export const TimeLit = createToken({ name: 'TimeLit', categories: value, pattern: /\d{1,2}:\d{2}(?!\d)/, label: 'a time of day (HH:MM)' });
export const MoneyLit = createToken({
  name: 'MoneyLit',
  categories: value,
  pattern: new RegExp(`-?\\d+(?:\\.\\d+)?[ \\t]?[A-Z]{3}(?![A-Za-z0-9_-])`),
  label: 'an amount of money such as 20 USD',
});
export const PercentLit = createToken({ name: 'PercentLit', categories: value, pattern: /-?\d+(?:\.\d+)?%/, label: 'a percentage such as 10%' });
export const MultLit = createToken({ name: 'MultLit', categories: value, pattern: new RegExp(`-?\\d+(?:\\.\\d+)?x(?![A-Za-z0-9_-])`), label: 'a multiplier such as 2x' });
export const NumberLit = createToken({ name: 'NumberLit', categories: value, pattern: /-?\d+(?:\.\d+)?/, label: 'a number' });

export const Identifier = createToken({ name: 'Identifier', categories: skip, pattern: /[A-Za-z][A-Za-z0-9_-]*/, label: 'a name' });

export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: '"{"' });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: '"}"' });
export const LParen = createToken({ name: 'LParen', categories: value, pattern: /\(/, label: '"("' });
export const RParen = createToken({ name: 'RParen', categories: value, pattern: /\)/, label: '")"' });
export const Comma = createToken({ name: 'Comma', categories: value, pattern: /,/, label: '","' });
export const Dot = createToken({ name: 'Dot', categories: value, pattern: /\./, label: '"."' });

export const CmpOp = createToken({ name: 'CmpOp', pattern: Lexer.NA, label: 'a comparison (== != < <= > >=)' });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, categories: [CmpOp, Skippable, Value], label: '"=="' });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, categories: [CmpOp, Skippable, Value], label: '"!="' });
export const LtEq = createToken({ name: 'LtEq', pattern: /<=/, categories: [CmpOp, Skippable, Value], label: '"<="' });
export const GtEq = createToken({ name: 'GtEq', pattern: />=/, categories: [CmpOp, Skippable, Value], label: '">="' });
export const Lt = createToken({ name: 'Lt', pattern: /</, categories: [CmpOp, Skippable, Value], label: '"<"' });
export const Gt = createToken({ name: 'Gt', pattern: />/, categories: [CmpOp, Skippable, Value], label: '">"' });
export const Equals = createToken({ name: 'Equals', categories: value, pattern: /=/, label: '"="' });

// Token categories shared by several keywords.
export const PointKw = createToken({ name: 'PointKw', pattern: Lexer.NA, label: '"points"' });
export const DurationUnit = createToken({ name: 'DurationUnit', pattern: Lexer.NA, label: 'a duration unit (days, weeks, months, years)' });
export const Weekday = createToken({ name: 'Weekday', pattern: Lexer.NA, label: 'a weekday (mon tue wed thu fri sat sun)' });
export const PeriodKw = createToken({ name: 'PeriodKw', pattern: Lexer.NA, label: 'a period (order, day, week, month, year, member)' });
export const Keyword = createToken({ name: 'Keyword', pattern: Lexer.NA });

/** Every keyword, by its text. */
export const keywords = new Map<string, TokenType>();
/** The keywords of each keyword category (PointKw → point, points; …). */
export const categoryWords = new Map<TokenType, string[]>();
/** Keywords that start a setting or a section at the top of a program. */
export const ITEM_WORDS = ['currency', 'timezone', 'unit', 'base', 'exclude', 'pending', 'rule', 'on', 'tiers', 'club', 'referral', 'redeem', 'expire', 'reward', 'challenge'];

function kw(word: string, categories: TokenType[] = []): TokenType {
  const name = 'Kw_' + word;
  const t = createToken({
    name,
    pattern: new RegExp(word + '(?![A-Za-z0-9_-])'),
    longer_alt: Identifier,
    categories: [Keyword, ...categories, ITEM_WORDS.includes(word) ? ItemWord : Skippable],
    label: `"${word}"`,
  });
  keywords.set(word, t);
  for (const c of categories) categoryWords.set(c, [...(categoryWords.get(c) ?? []), word]);
  return t;
}

export const Program = kw('program');
export const Currency = kw('currency');
export const Timezone = kw('timezone');
export const Unit = kw('unit');
export const Base = kw('base');
export const Pending = kw('pending');
export const Point = kw('point', [PointKw]);
export const Points = kw('points', [PointKw]);
export const Per = kw('per');
export const Exclude = kw('exclude');
export const Category = kw('category');
export const Sku = kw('sku');
export const Rule = kw('rule');
export const During = kw('during');
export const To = kw('to');
export const Days = kw('days', [DurationUnit]);
export const Day = kw('day', [DurationUnit, PeriodKw]);
export const Weeks = kw('weeks', [DurationUnit]);
export const Week = kw('week', [DurationUnit, PeriodKw]);
export const Months = kw('months', [DurationUnit]);
export const Month = kw('month', [DurationUnit, PeriodKw]);
export const Years = kw('years', [DurationUnit]);
export const Year = kw('year', [DurationUnit, PeriodKw]);
export const Hours = kw('hours');
export const When = kw('when');
export const Multiplier = kw('multiplier');
export const Extra = kw('extra');
export const Bonus = kw('bonus');
export const Items = kw('items');
export const Item = kw('item');
export const Limit = kw('limit');
export const Times = kw('times');
export const Time = kw('time');
export const Once = kw('once');
export const Orders = kw('orders');
export const Order = kw('order', [PeriodKw]);
export const Member = kw('member', [PeriodKw]);
export const On = kw('on');
export const Signup = kw('signup');
export const Birthday = kw('birthday');
export const Event = kw('event');
export const Tiers = kw('tiers');
export const Tier = kw('tier');
export const Qualify = kw('qualify');
export const Spend = kw('spend');
export const Over = kw('over');
export const Calendar = kw('calendar');
export const Lifetime = kw('lifetime');
export const At = kw('at');
export const Perk = kw('perk');
export const Keep = kw('keep');
export const Club = kw('club');
export const Fee = kw('fee');
export const Discount = kw('discount');
export const Everything = kw('everything');
export const Join = kw('join');
export const Referral = kw('referral');
export const Referrer = kw('referrer');
export const Referee = kw('referee');
export const Min = kw('min');
export const Within = kw('within');
export const Redeem = kw('redeem');
export const Rate = kw('rate');
export const Max = kw('max');
export const Of = kw('of');
export const Expire = kw('expire');
export const Reward = kw('reward');
export const Challenge = kw('challenge');
export const Cost = kw('cost');
export const ValueKw = kw('value');
export const After = kw('after');
export const Inactivity = kw('inactivity');
export const And = kw('and');
export const Or = kw('or');
export const Not = kw('not');
export const First = kw('first');
export const Total = kw('total');
export const Channel = kw('channel');
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
for (const d of WEEKDAYS) kw(d, [Weekday]);

// Longer keywords must come before their prefixes only when they share a
// prefix and the shorter one would match first; the `(?![A-Za-z0-9_-])`
// tail of every keyword makes the order among keywords irrelevant.
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLit,
  UnterminatedString,
  DateLit,
  TimeLit,
  MoneyLit,
  PercentLit,
  MultLit,
  NumberLit,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Dot,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Equals,
  CmpOp,
  PointKw,
  DurationUnit,
  Weekday,
  PeriodKw,
  Keyword,
  Skippable,
  ItemWord,
  Value,
  ...keywords.values(),
  Identifier,
];

// The token definitions are validated by a test (test/dsl/grammar.test.ts);
// skipping it here saves a fifth of a second on every start.
const lexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false, skipValidations: true });

/** A lexer built with Chevrotain's validations on (for the grammar test). */
export function validatedLexer(): Lexer {
  return new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
}

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  diagnostics: Diagnostic[];
}

export function tokenize(source: string, file: string): LexResult {
  const out = lexer.tokenize(source);
  const diagnostics: Diagnostic[] = [];
  for (const e of out.errors) {
    const ch = source.slice(e.offset, e.offset + Math.max(1, e.length));
    diagnostics.push(
      diagnostic('E002', file, e.line ?? 1, e.column ?? 1, `unexpected character ${JSON.stringify(ch[0] ?? '')}`, {
        length: 1,
        hint: 'remove it, or put text inside double quotes',
      }),
    );
  }
  const tokens: IToken[] = [];
  for (const t of out.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(
        diagnostic('E003', file, t.startLine ?? 1, t.startColumn ?? 1, 'unterminated string', {
          length: t.image.length,
          hint: 'close the string with a double quote (") on the same line',
        }),
      );
      // Parse on as if the string had been closed.
      tokens.push({ ...t, tokenType: StringLit, tokenTypeIdx: StringLit.tokenTypeIdx!, image: t.image + '"' });
      continue;
    }
    tokens.push(t);
  }
  return { tokens, comments: out.groups['comments'] ?? [], diagnostics };
}
