// fast-check arbitraries for random *valid* `.loyalty` programs (dsl.md
// sections 1-3): a program is built as a list of tokens, then laid out with
// random spacing, newlines and comments. `tokens` keeps the token list so
// that the same program can be laid out differently.
import fc from 'fast-check';

export type Tokens = string[];

export interface GenProgram {
  tokens: Tokens;
  /** What the program declares (for the test's own checks). */
  currency: string;
}

interface Cur {
  code: string;
  exp: number;
}
const CURRENCIES: Cur[] = [
  { code: 'USD', exp: 2 },
  { code: 'EUR', exp: 2 },
  { code: 'GBP', exp: 2 },
  { code: 'JPY', exp: 0 },
  { code: 'KWD', exp: 3 },
];

// --- literals -------------------------------------------------------------------

/** An amount in minor units written in one of the ways dsl.md allows. */
function moneyOf(cur: Cur, minor: number, style: number): string {
  const scale = 10 ** cur.exp;
  const int = Math.floor(minor / scale);
  const frac = String(minor % scale).padStart(cur.exp, '0');
  let amount: string;
  if (cur.exp === 0) amount = style % 5 === 4 ? `${int}.0` : String(int);
  else if (/^0+$/.test(frac)) amount = style % 3 === 0 ? `${int}.${frac}` : String(int);
  else amount = style % 2 === 0 ? `${int}.${frac}` : `${int}.${frac.replace(/0+$/, '')}`;
  const sep = style % 7 === 1 ? '' : style % 11 === 2 ? '\t' : ' ';
  return `${amount}${sep}${cur.code}`;
}
const moneyArb = (cur: Cur, min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.nat(1000)).map(([m, s]) => moneyOf(cur, m, s));
const bigMinor = (cur: Cur) => 10 ** cur.exp * 2000;

const pointWord = fc.constantFrom('point', 'points');
/** Small values (0, 1, 2) come often: the formatter treats 1 specially. */
const smallOr = (max: number, min = 0) => fc.oneof(fc.integer({ min, max: Math.min(2, max) }), fc.integer({ min, max }));
const pointsArb = (max = 500) => fc.tuple(smallOr(max), pointWord).map(([n, w]) => [String(n), w]);
const rateNumber = fc.oneof(fc.integer({ min: 1, max: 20 }).map(String), fc.constantFrom('0.5', '1.5', '2.25', '10', '0.1'));
const rateArb = (cur: Cur) =>
  fc.tuple(rateNumber, pointWord, moneyArb(cur, 1, 10 ** cur.exp * 50)).map(([n, w, m]) => [n, w, 'per', m]);
const durationArb = fc
  .tuple(smallOr(24, 1), fc.constantFrom('day', 'days', 'week', 'weeks', 'month', 'months', 'year', 'years'))
  .map(([n, u]) => [String(n), u]);

/** String literals as written (with their escapes). */
const STRINGS = ['"pastry"', '"beans"', '"gift-card"', '"tax"', '"a#b"', '"x // y"', '"q\\"uote"', '"back\\\\slash"', '"Ünï cödé"', '"LATTE"', '"SKU-1"'];
const strArb = fc.constantFrom(...STRINGS);
const strListArb = fc.array(strArb, { minLength: 1, maxLength: 3 }).map((xs) => xs.flatMap((x, i) => (i ? [',', x] : [x])));
const CHANNELS = ['"app"', '"web"', '"store"', '"kiosk"', '"k\\"x"'];
const NAME_SUFFIX = ['', ' double', ' \\"quoted\\"', ' # not a comment', ' // nor this', ' \\\\', ' é'];
const TIER_NAMES = ['Green', 'Silver', 'Gold', 'Platinum', 'Diamond', 'Azul', 'Plata', 'Oro', 'gold_plus', 'Tier-9'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PERIODS = ['order', 'day', 'week', 'month', 'year', 'member'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
const DAY0 = Date.UTC(2025, 0, 1);
function dateOf(day: number): string {
  const d = new Date(DAY0 + day * 86_400_000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}
function timeOf(min: number, short: boolean): string {
  const h = Math.floor(min / 60);
  return `${short && h < 10 ? String(h) : pad2(h)}:${pad2(min % 60)}`;
}

/** Interleaves `xs` by a permutation drawn from fast-check. */
function shuffled<T>(xs: T[]): fc.Arbitrary<T[]> {
  if (xs.length < 2) return fc.constant(xs);
  return fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length });
}
const join = (parts: Tokens[]): Tokens => parts.flat();

// --- when expressions -------------------------------------------------------------

interface Ctx {
  cur: Cur;
  tiers: string[];
  clubs: string[];
}

function exprArb(ctx: Ctx): fc.Arbitrary<Tokens> {
  const cmpOp = fc.constantFrom('==', '!=', '<', '<=', '>', '>=');
  const eqOp = fc.constantFrom('==', '!=');
  const flip = (a: Tokens, op: string, b: Tokens, rev: boolean): Tokens => (rev ? [...b, op, ...a] : [...a, op, ...b]);
  const atoms: fc.Arbitrary<Tokens>[] = [
    fc.tuple(cmpOp, moneyArb(ctx.cur, 0, bigMinor(ctx.cur)), fc.boolean()).map(([op, m, rev]) => flip(['order', '.', 'total'], op, [m], rev)),
    fc.tuple(cmpOp, fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom('2.5', '0')), fc.boolean()).map(([op, n, rev]) => flip(['order', '.', 'items'], op, [n], rev)),
    fc.tuple(eqOp, fc.constantFrom(...CHANNELS), fc.boolean()).map(([op, s, rev]) => flip(['order', '.', 'channel'], op, [s], rev)),
    fc.constant(['first', 'order']),
  ];
  if (ctx.tiers.length)
    atoms.push(fc.tuple(cmpOp, fc.constantFrom(...ctx.tiers), fc.boolean()).map(([op, t, rev]) => flip(['member', '.', 'tier'], op, [t], rev)));
  if (ctx.clubs.length) atoms.push(fc.constantFrom(...ctx.clubs).map((c) => ['member', '.', 'club', c]));
  const atom = fc.oneof(...atoms);
  const { expr } = fc.letrec<{ expr: Tokens; and: Tokens; or: Tokens; not: Tokens; paren: Tokens }>((tie) => ({
    expr: fc.oneof({ depthSize: 'small', maxDepth: 4, withCrossShrink: true }, atom, tie('and'), tie('or'), tie('not'), tie('paren')),
    and: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => [...a, 'and', ...b]),
    or: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => [...a, 'or', ...b]),
    not: tie('expr').map((a) => ['not', ...a]),
    paren: tie('expr').map((a) => ['(', ...a, ')']),
  }));
  return expr;
}

/** A `when` of a reward (dsl.md 2.8, 2.9): member operands only; null when
 * the program has neither tiers nor clubs. */
function memberExprArb(ctx: Ctx): fc.Arbitrary<Tokens> | null {
  const cmpOp = fc.constantFrom('==', '!=', '<', '<=', '>', '>=');
  const atoms: fc.Arbitrary<Tokens>[] = [];
  if (ctx.tiers.length) atoms.push(fc.tuple(cmpOp, fc.constantFrom(...ctx.tiers), fc.boolean()).map(([op, t, rev]) => (rev ? [t, op, 'member', '.', 'tier'] : ['member', '.', 'tier', op, t])));
  if (ctx.clubs.length) atoms.push(fc.constantFrom(...ctx.clubs).map((c) => ['member', '.', 'club', c]));
  if (!atoms.length) return null;
  const atom = fc.oneof(...atoms);
  const { expr } = fc.letrec<{ expr: Tokens; and: Tokens; or: Tokens; not: Tokens; paren: Tokens }>((tie) => ({
    expr: fc.oneof({ depthSize: 'small', maxDepth: 3, withCrossShrink: true }, atom, tie('and'), tie('or'), tie('not'), tie('paren')),
    and: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => [...a, 'and', ...b]),
    or: fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => [...a, 'or', ...b]),
    not: tie('expr').map((a) => ['not', ...a]),
    paren: tie('expr').map((a) => ['(', ...a, ')']),
  }));
  return expr;
}

/** `reward "Name" { cost ...  when ...  limit N times per P  value MONEY }` (dsl.md 2.9). */
function rewardArb(ctx: Ctx, name: string): fc.Arbitrary<Tokens> {
  const period = fc.constantFrom(...PERIODS.filter((p) => p !== 'order'));
  const when = memberExprArb(ctx);
  return fc
    .tuple(
      fc.tuple(smallOr(2000, 1), pointWord).map(([n, w]) => ['cost', String(n), w]),
      when ? fc.array(when.map((e) => ['when', ...e]), { maxLength: 2 }) : fc.constant([] as Tokens[]),
      fc.option(
        fc.oneof(
          fc.tuple(fc.integer({ min: 1, max: 10 }), fc.constantFrom('times', 'time'), period).map(([n, w, p]) => ['limit', String(n), w, 'per', p]),
          period.map((p) => ['limit', 'once', 'per', p]),
          period.map((p) => ['once', 'per', p]),
        ),
        { nil: undefined },
      ),
      fc.option(moneyArb(ctx.cur, 0, bigMinor(ctx.cur)).map((m) => ['value', m]), { nil: undefined }),
    )
    .chain(([cost, ws, l, v]) => shuffled([cost, ...ws, ...(l ? [l] : []), ...(v ? [v] : [])]))
    .map((body) => ['reward', name, '{', ...join(body), '}']);
}

/** `challenge "Name" { orders N per P | spend MONEY per P  filters  bonus N points }` (dsl.md 2.10). */
function challengeArb(ctx: Ctx, name: string): fc.Arbitrary<Tokens> {
  const period = fc.constantFrom(...PERIODS.filter((p) => p !== 'order'));
  const goal = fc.oneof(
    fc.tuple(smallOr(20, 1), period).map(([n, p]) => ['orders', String(n), 'per', p]),
    fc.tuple(moneyArb(ctx.cur, 1, bigMinor(ctx.cur)), period).map(([m, p]) => ['spend', m, 'per', p]),
  );
  const filter = fc.tuple(fc.constantFrom(['category'], ['sku'], ['exclude', 'category'], ['exclude', 'sku']), strListArb).map(([k, l]) => [...k, ...l]);
  const bonus = fc.tuple(smallOr(500, 1), pointWord).map(([n, w]) => ['bonus', String(n), w]);
  return fc
    .tuple(goal, fc.array(filter, { maxLength: 3 }), bonus)
    .chain(([g, fs, b]) => shuffled([g, ...fs, b]))
    .map((body) => ['challenge', name, '{', ...join(body), '}']);
}

// --- statements ------------------------------------------------------------------------

function limitArb(noOrder: boolean): fc.Arbitrary<Tokens> {
  const period = fc.constantFrom(...PERIODS.filter((p) => !(noOrder && p === 'order')));
  return fc.oneof(
    fc.tuple(smallOr(1000), pointWord, period).map(([n, w, p]) => ['limit', String(n), w, 'per', p]),
    fc.tuple(fc.integer({ min: 0, max: 10 }), fc.constantFrom('times', 'time'), period).map(([n, w, p]) => ['limit', String(n), w, 'per', p]),
    period.map((p) => ['limit', 'once', 'per', p]),
    period.map((p) => ['once', 'per', p]),
  );
}

function ruleArb(ctx: Ctx, name: string): fc.Arbitrary<Tokens> {
  const filter = fc.tuple(fc.constantFrom(['category'], ['sku'], ['exclude', 'category'], ['exclude', 'sku']), strListArb).map(([k, l]) => [...k, ...l]);
  const during = fc
    .tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 400 }))
    .map(([a, len]) => ['during', dateOf(a), 'to', dateOf(a + len)]);
  const days = fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }).map((ds) => ['days', ...ds.flatMap((d, i) => (i ? [',', d] : [d]))]);
  const hours = fc
    .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 }), fc.boolean())
    .map(([a, len, short]) => ['hours', timeOf(a, short), 'to', timeOf(Math.min(1440, a + len), short)]);
  const when = exprArb(ctx).map((e) => ['when', ...e]);
  const cond = fc.oneof(during, days, hours, when, when);
  const effect = fc.oneof(
    fc.constantFrom('1', '1.25', '1.5', '2', '3', '2.0', '1.05', '10').map((m) => ['multiplier', `${m}x`]),
    rateArb(ctx.cur).map((r) => ['extra', ...r]),
    fc.tuple(pointsArb(), fc.boolean()).map(([p, perItem]) => ['bonus', ...p, ...(perItem ? ['per', 'item'] : [])]),
  );
  return fc
    .tuple(fc.array(filter, { maxLength: 3 }), fc.array(cond, { maxLength: 3 }), effect, fc.option(limitArb(false), { nil: undefined }))
    .chain(([fs, cs, e, l]) => shuffled([...fs, ...cs, e, ...(l ? [l] : [])]))
    .map((body) => ['rule', name, '{', ...join(body), '}']);
}

function onArb(kind: 'signup' | 'birthday' | 'event', name?: string): fc.Arbitrary<Tokens> {
  const bonus = pointsArb().map((p) => ['bonus', ...p]);
  if (kind !== 'event') return bonus.map((b) => ['on', kind, '{', ...b, '}']);
  return fc
    .tuple(bonus, fc.option(limitArb(true), { nil: undefined }))
    .chain(([b, l]) => shuffled(l ? [b, l] : [b]))
    .map((body) => ['on', 'event', name!, '{', ...join(body), '}']);
}

const discountPercent = fc.oneof(fc.integer({ min: 0, max: 100 }).map(String), fc.constantFrom('12.5', '0.5', '99.9'));
/** `discount P% on category ...` or `discount P% on everything` (dsl.md 2.4, 2.5). */
const discountArb: fc.Arbitrary<Tokens> = fc
  .tuple(discountPercent, fc.option(strListArb, { nil: undefined, freq: 3 }))
  .map(([p, l]) => (l ? ['discount', `${p}%`, 'on', 'category', ...l] : ['discount', `${p}%`, 'on', 'everything']));

function tiersArb(ctx: Ctx): fc.Arbitrary<Tokens> {
  const { cur } = ctx;
  return fc
    .record({
      metric: fc.constantFrom('spend', 'points', 'point', 'orders', ''),
      window: fc.oneof(fc.constant([] as Tokens), durationArb.map((d) => ['over', ...d]), fc.constant(['over', 'calendar', 'year']), fc.constant(['over', 'lifetime'])),
      steps: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: ctx.tiers.length - 1, maxLength: ctx.tiers.length - 1 }),
      styles: fc.array(fc.nat(1000), { minLength: ctx.tiers.length, maxLength: ctx.tiers.length }),
      blocks: fc.array(
        fc.option(
          fc
            .tuple(
              fc.option(fc.constantFrom('1', '1.25', '1.5', '2').map((m) => ['multiplier', `${m}x`]), { nil: undefined }),
              fc.array(strArb.map((s) => ['perk', s]), { maxLength: 2 }),
              fc.array(discountArb, { maxLength: 2 }),
            )
            .chain(([m, ps, ds]) => shuffled([...(m ? [m] : []), ...ps, ...ds])),
          { nil: undefined },
        ),
        { minLength: ctx.tiers.length, maxLength: ctx.tiers.length },
      ),
      keep: fc.option(durationArb.map((d) => ['keep', ...d]), { nil: undefined }),
      qualifyAt: fc.nat(ctx.tiers.length),
      keepAt: fc.nat(ctx.tiers.length),
    })
    .map((r) => {
      const spend = r.metric === 'spend' || r.metric === '';
      let acc = 0;
      const defs: Tokens[] = ctx.tiers.map((name, i) => {
        if (i > 0) acc += r.steps[i - 1]!;
        const th = i === 0 ? (spend ? ['0', `0 ${cur.code}`, `0${cur.code}`, '0.0'][r.styles[i]! % 4]! : '0') : spend ? moneyOf(cur, acc * (cur.exp ? 10 ** (cur.exp - 1) : 1), r.styles[i]!) : String(acc);
        const block = r.blocks[i];
        return ['tier', name, 'at', th, ...(block ? ['{', ...join(block), '}'] : [])];
      });
      const body: Tokens[] = [...defs];
      if (r.metric) body.splice(r.qualifyAt, 0, ['qualify', r.metric, ...r.window]);
      if (r.keep) body.splice(Math.min(r.keepAt, body.length), 0, r.keep);
      return ['tiers', '{', ...join(body), '}'];
    });
}

function clubArb(ctx: Ctx, name: string): fc.Arbitrary<Tokens> {
  const { cur } = ctx;
  return fc
    .tuple(
      fc.option(fc.tuple(moneyArb(cur, 0, bigMinor(cur)), fc.constantFrom('month', 'year')).map(([m, p]) => ['fee', m, 'per', p]), { nil: undefined }),
      fc.option(fc.constantFrom('1', '1.5', '2', '3').map((m) => ['multiplier', `${m}x`]), { nil: undefined }),
      fc.array(discountArb, { maxLength: 2 }),
      fc.array(strArb.map((s) => ['perk', s]), { maxLength: 2 }),
      fc.option(pointsArb().map((p) => ['bonus', ...p, 'on', 'join']), { nil: undefined }),
    )
    .chain(([fee, m, ds, ps, j]) => shuffled([...(fee ? [fee] : []), ...(m ? [m] : []), ...ds, ...ps, ...(j ? [j] : [])]))
    .map((body) => ['club', name, '{', ...join(body), '}']);
}

function referralArb(ctx: Ctx): fc.Arbitrary<Tokens> {
  return fc
    .record({
      who: fc.constantFrom('referrer', 'referee', 'both'),
      a: pointsArb(),
      b: pointsArb(),
      min: fc.option(moneyArb(ctx.cur, 0, bigMinor(ctx.cur)).map((m) => ['min', 'order', m]), { nil: undefined }),
      within: fc.option(durationArb.map((d) => ['within', ...d]), { nil: undefined }),
      limit: fc.option(fc.integer({ min: 0, max: 50 }).map((n) => ['limit', String(n), 'per', 'year']), { nil: undefined }),
    })
    .chain((r) =>
      shuffled([
        ...(r.who !== 'referee' ? [['referrer', ...r.a]] : []),
        ...(r.who !== 'referrer' ? [['referee', ...r.b]] : []),
        ...(r.min ? [r.min] : []),
        ...(r.within ? [r.within] : []),
        ...(r.limit ? [r.limit] : []),
      ]),
    )
    .map((body) => ['referral', '{', ...join(body), '}']);
}

function redeemArb(ctx: Ctx): fc.Arbitrary<Tokens> {
  return fc
    .record({
      n: fc.integer({ min: 1, max: 1000 }),
      w: pointWord,
      v: moneyArb(ctx.cur, 1, 10 ** ctx.cur.exp * 10),
      min: fc.option(pointsArb().map((p) => ['min', ...p]), { nil: undefined }),
      max: fc.option(fc.integer({ min: 0, max: 100 }).map((p) => ['max', `${p}%`, 'of', 'order']), { nil: undefined }),
    })
    .chain((r) => shuffled([['rate', String(r.n), r.w, '=', r.v], ...(r.min ? [r.min] : []), ...(r.max ? [r.max] : [])]))
    .map((body) => ['redeem', '{', ...join(body), '}']);
}

const expireArb = fc.tuple(durationArb, fc.boolean()).map(([d, ina]) => ['expire', '{', 'after', ...d, ...(ina ? ['inactivity'] : []), '}']);

function settingsArb(ctx: Ctx): fc.Arbitrary<Tokens[]> {
  return fc
    .record({
      tz: fc.option(fc.constantFrom('"UTC"', '"America/New_York"', '"Europe/London"', '"Asia/Tokyo"', '"Australia/Lord_Howe"'), { nil: undefined }),
      unit: fc.option(fc.constantFrom('"Beans"', '"Plumas"', '"p\\"ts"'), { nil: undefined }),
      base: fc.option(rateArb(ctx.cur), { nil: undefined }),
      xc: fc.option(strListArb, { nil: undefined }),
      xs: fc.option(strListArb, { nil: undefined }),
      pending: fc.option(durationArb, { nil: undefined }),
    })
    .chain((r) =>
      shuffled([
        ['currency', ctx.cur.code],
        ...(r.tz ? [['timezone', r.tz]] : []),
        ...(r.unit ? [['unit', r.unit]] : []),
        ...(r.base ? [['base', ...r.base]] : []),
        ...(r.xc ? [['exclude', 'category', ...r.xc]] : []),
        ...(r.xs ? [['exclude', 'sku', ...r.xs]] : []),
        ...(r.pending ? [['pending', ...r.pending]] : []),
      ]),
    );
}

/** A random valid program, as tokens. */
export const programArb: fc.Arbitrary<GenProgram> = fc
  .record({
    cur: fc.constantFrom(...CURRENCIES),
    tiers: fc.option(fc.shuffledSubarray(TIER_NAMES, { minLength: 1, maxLength: 4 }), { nil: undefined }),
    clubCount: fc.nat(2),
    ruleCount: fc.nat(4),
    eventCount: fc.nat(2),
    signup: fc.boolean(),
    birthday: fc.boolean(),
    referral: fc.boolean(),
    redeem: fc.boolean(),
    expire: fc.boolean(),
    rewardCount: fc.nat(2),
    challengeCount: fc.nat(2),
    suffixes: fc.array(fc.constantFrom(...NAME_SUFFIX), { minLength: 8, maxLength: 8 }),
    name: fc.constantFrom('"Bean Counter Rewards"', '"Colibrí Vuela+"', '"x \\"y\\" \\\\ z"', '"#1 // club"'),
  })
  .chain((r) => {
    const clubs = Array.from({ length: r.clubCount }, (_, i) => `"Club ${i}${r.suffixes[i]}"`);
    const ctx: Ctx = { cur: r.cur, tiers: r.tiers ?? [], clubs };
    const sections: fc.Arbitrary<Tokens>[] = [
      ...Array.from({ length: r.ruleCount }, (_, i) => ruleArb(ctx, `"Rule ${i}${r.suffixes[7 - i]}"`)),
      ...(r.signup ? [onArb('signup')] : []),
      ...(r.birthday ? [onArb('birthday')] : []),
      ...Array.from({ length: r.eventCount }, (_, i) => onArb('event', `"event-${i}${r.suffixes[i + 3]}"`)),
      ...(r.tiers ? [tiersArb(ctx)] : []),
      ...clubs.map((c) => clubArb(ctx, c)),
      ...(r.referral ? [referralArb(ctx)] : []),
      ...(r.redeem ? [redeemArb(ctx)] : []),
      ...(r.expire ? [expireArb] : []),
      ...Array.from({ length: r.rewardCount }, (_, i) => rewardArb(ctx, `"Reward ${i}${r.suffixes[i + 5]}"`)),
      ...Array.from({ length: r.challengeCount }, (_, i) => challengeArb(ctx, `"Challenge ${i}${r.suffixes[i + 1]}"`)),
    ];
    return fc
      .tuple(settingsArb(ctx), sections.length ? fc.tuple(...sections).chain((ss) => shuffled(ss)) : fc.constant([] as Tokens[]))
      .map(([settings, secs]) => ({ tokens: ['program', r.name, '{', ...join(settings), ...join(secs), '}'], currency: r.cur.code }));
  });

// --- layout ---------------------------------------------------------------------------------

/** What goes between two tokens: spacing, or a comment (then a line break). */
export type Sep = { kind: 'space'; text: string } | { kind: 'tight' } | { kind: 'comment'; style: '#' | '//'; extra: string; before: string; after: string };

const COMMENT_EXTRA = ['', ' plain words', ' } { " (', ' rule "x" {', ' #nested', ' // inner', ' trailing spaces   ', ' ünïcödé ✓', '#', '//'];

export const sepArb: fc.Arbitrary<Sep> = fc.oneof(
  { weight: 14, arbitrary: fc.constant<Sep>({ kind: 'space', text: ' ' }) },
  { weight: 6, arbitrary: fc.constantFrom('\n', '\n  ', '\n    ', '\n\n', '\n\n\n  ').map((text): Sep => ({ kind: 'space', text })) },
  { weight: 2, arbitrary: fc.constantFrom('  ', '\t', ' \t ', '\r\n', '\n\t').map((text): Sep => ({ kind: 'space', text })) },
  { weight: 3, arbitrary: fc.constant<Sep>({ kind: 'tight' }) },
  {
    weight: 3,
    arbitrary: fc
      .record({ style: fc.constantFrom<'#' | '//'>('#', '//'), extra: fc.constantFrom(...COMMENT_EXTRA), before: fc.constantFrom(' ', '', '  ', '\n', '\n\n  '), after: fc.constantFrom('\n', '\n  ', '\n\n') })
      .map((c): Sep => ({ kind: 'comment', ...c })),
  },
);

/** Same, without comments. */
export const plainSepArb: fc.Arbitrary<Sep> = sepArb.filter((s) => s.kind !== 'comment');

const PUNCT = new Set(['{', '}', '(', ')', ',', '.', '=', '==', '!=', '<', '<=', '>', '>=']);
function tightOk(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return PUNCT.has(a) || PUNCT.has(b) || a.startsWith('"') || b.startsWith('"');
}

export interface Laid {
  text: string;
  /** Every comment's text, in order. */
  comments: string[];
}

/** Joins tokens with the given separators (seps[i] goes before tokens[i]; the last one after the end). */
export function layout(tokens: Tokens, seps: Sep[]): Laid {
  let out = '';
  const comments: string[] = [];
  for (let i = 0; i <= tokens.length; i++) {
    const s = seps[i % seps.length] ?? { kind: 'space', text: ' ' };
    const prev = tokens[i - 1];
    const next = tokens[i];
    if (s.kind === 'space') out += s.text;
    else if (s.kind === 'tight') out += tightOk(prev, next) ? '' : ' ';
    else {
      const text = `${s.style} c${comments.length}:${s.extra}`;
      comments.push(text);
      out += (i === 0 ? '' : s.before) + text + s.after;
    }
    if (next !== undefined) out += next;
  }
  return { text: out, comments };
}

/** A random valid program with random layout and comments (the separators
 * are used in turn, cycling, so that each side shrinks on its own). */
export const laidOutArb = (sep: fc.Arbitrary<Sep> = sepArb): fc.Arbitrary<{ program: GenProgram; laid: Laid; seps: Sep[] }> =>
  fc.tuple(programArb, fc.array(sep, { minLength: 1, maxLength: 400 })).map(([program, seps]) => ({ program, laid: layout(program.tokens, seps), seps }));

/** The same tokens, one space apart. */
export function plainLayout(tokens: Tokens): string {
  return tokens.join(' ') + '\n';
}
