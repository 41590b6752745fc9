// Stage 2: tokens → CST. One CstParser, built once and reused by resetting
// `input`. The grammar holds no actions; meaning lives in the CST visitor
// (ast.ts). Recovery is on so that one run reports every syntax error.
import { CstParser, EOF, type CstNode, type IRecognitionException, type IToken, type TokenType } from 'chevrotain';
import * as T from './lexer.ts';

/** What the parser expected where it failed, for "did you mean" hints. */
export interface ExpectedAt {
  token: IToken;
  expected: TokenType[];
}

export class LoyaltyParser extends CstParser {
  /** Filled by the error message provider during a parse. */
  expectations: ExpectedAt[] = [];

  /** `validate`: run Chevrotain's grammar checks (a test does; the shared
   * instance skips them to start faster). */
  constructor(validate = false) {
    super(T.allTokens, {
      skipValidations: !validate,
      recoveryEnabled: true,
      nodeLocationTracking: 'full',
      maxLookahead: 4,
      errorMessageProvider: {
        buildMismatchTokenMessage: ({ expected, actual, ruleName }) => {
          // A block ended where the statement was not one the block takes:
          // say what the block takes, so that a misspelt keyword gets a hint.
          const block = expected === T.RBrace ? BLOCKS[ruleName] : undefined;
          if (block) {
            this.expectations.push({ token: actual, expected: block.words.map((w) => T.keywords.get(w)!) });
            return `expected ${block.what} or "}" but found ${describe(actual)}`;
          }
          this.expectations.push({ token: actual, expected: [expected] });
          return `expected ${label(expected)} but found ${describe(actual)}`;
        },
        buildNotAllInputParsedMessage: ({ firstRedundant }) => {
          this.expectations.push({ token: firstRedundant, expected: [] });
          return `unexpected ${describe(firstRedundant)} after the end of the program`;
        },
        buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, customUserDescription }) => {
          const firsts = uniq(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0]).filter(isToken)));
          const tok = actual[0]!;
          this.expectations.push({ token: tok, expected: firsts });
          const what = customUserDescription ?? listLabels(firsts);
          return `expected ${what} but found ${describe(tok)}`;
        },
        buildEarlyExitMessage: ({ expectedIterationPaths, actual, customUserDescription }) => {
          const firsts = uniq(expectedIterationPaths.map((path) => path[0]).filter(isToken));
          const tok = actual[0]!;
          this.expectations.push({ token: tok, expected: firsts });
          const what = customUserDescription ?? listLabels(firsts);
          return `expected ${what} but found ${describe(tok)}`;
        },
      },
    });
    this.performSelfAnalysis();
  }

  // program "Name" { item* }
  program = this.RULE('program', () => {
    this.CONSUME(T.Program);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.item));
    this.CONSUME(T.RBrace);
  });

  item = this.RULE('item', () => {
    this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.currencySetting) },
        { ALT: () => this.SUBRULE(this.timezoneSetting) },
        { ALT: () => this.SUBRULE(this.unitSetting) },
        { ALT: () => this.SUBRULE(this.baseSetting) },
        { ALT: () => this.SUBRULE(this.excludeStmt) },
        { ALT: () => this.SUBRULE(this.pendingSetting) },
        { ALT: () => this.SUBRULE(this.ruleDecl) },
        { ALT: () => this.SUBRULE(this.onDecl) },
        { ALT: () => this.SUBRULE(this.tiersDecl) },
        { ALT: () => this.SUBRULE(this.clubDecl) },
        { ALT: () => this.SUBRULE(this.referralDecl) },
        { ALT: () => this.SUBRULE(this.redeemDecl) },
        { ALT: () => this.SUBRULE(this.expireDecl) },
        { ALT: () => this.SUBRULE(this.rewardDecl) },
        { ALT: () => this.SUBRULE(this.challengeDecl) },
        { ALT: () => this.SUBRULE(this.unknownItem) },
      ],
      ERR_MSG: 'a setting (currency, timezone, unit, base, exclude, pending) or a section (rule, on, tiers, club, referral, redeem, expire, reward, challenge)',
    });
  });

  // An unknown word where a setting or section should start (`rul "x" {`):
  // taken with everything up to the next setting or section, so that the
  // rest of the program is still read; the checker reports it (E004).
  unknownItem = this.RULE('unknownItem', () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => this.CONSUME(T.Skippable));
    this.OPTION(() => this.SUBRULE(this.anyBlock));
  });

  // An unknown word where a block expects a statement (`multipler 2x`),
  // with the values after it: the block reads on (the checker reports it).
  unknownStmt = this.RULE('unknownStmt', () => {
    this.CONSUME(T.Identifier);
    this.MANY(() => this.CONSUME(T.Value));
  });

  anyBlock = this.RULE('anyBlock', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.anyBlock) }, { ALT: () => this.CONSUME(T.Skippable) }, { ALT: () => this.CONSUME(T.ItemWord) }]));
    this.CONSUME(T.RBrace);
  });

  currencySetting = this.RULE('currencySetting', () => {
    this.CONSUME(T.Currency);
    this.CONSUME(T.Identifier);
  });

  timezoneSetting = this.RULE('timezoneSetting', () => {
    this.CONSUME(T.Timezone);
    this.CONSUME(T.StringLit);
  });

  unitSetting = this.RULE('unitSetting', () => {
    this.CONSUME(T.Unit);
    this.CONSUME(T.StringLit);
  });

  baseSetting = this.RULE('baseSetting', () => {
    this.CONSUME(T.Base);
    this.SUBRULE(this.rate);
  });

  // pending 14 days (dsl.md 2.1, 4.9)
  pendingSetting = this.RULE('pendingSetting', () => {
    this.CONSUME(T.Pending);
    this.SUBRULE(this.duration);
  });

  // N points per X CUR
  rate = this.RULE('rate', () => {
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
    this.CONSUME(T.Per);
    this.CONSUME(T.MoneyLit);
  });

  // exclude category "a", "b" | exclude sku "X"
  excludeStmt = this.RULE('excludeStmt', () => {
    this.CONSUME(T.Exclude);
    this.OR([{ ALT: () => this.CONSUME(T.Category) }, { ALT: () => this.CONSUME(T.Sku) }]);
    this.SUBRULE(this.stringList);
  });

  stringList = this.RULE('stringList', () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.StringLit) });
  });

  ruleDecl = this.RULE('ruleDecl', () => {
    this.CONSUME(T.Rule);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.ruleStmt));
    this.CONSUME(T.RBrace);
  });

  ruleStmt = this.RULE('ruleStmt', () => {
    this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.categoryFilter) },
        { ALT: () => this.SUBRULE(this.skuFilter) },
        { ALT: () => this.SUBRULE(this.excludeStmt) },
        { ALT: () => this.SUBRULE(this.duringCond) },
        { ALT: () => this.SUBRULE(this.daysCond) },
        { ALT: () => this.SUBRULE(this.hoursCond) },
        { ALT: () => this.SUBRULE(this.whenCond) },
        { ALT: () => this.SUBRULE(this.multiplierStmt) },
        { ALT: () => this.SUBRULE(this.extraStmt) },
        { ALT: () => this.SUBRULE(this.bonusStmt) },
        { ALT: () => this.SUBRULE(this.limitStmt) },
        { ALT: () => this.SUBRULE(this.unknownStmt) },
      ],
      ERR_MSG: 'a filter (category, sku, exclude), a condition (during, days, hours, when), an effect (multiplier, extra, bonus) or a limit',
    });
  });

  categoryFilter = this.RULE('categoryFilter', () => {
    this.CONSUME(T.Category);
    this.SUBRULE(this.stringList);
  });

  skuFilter = this.RULE('skuFilter', () => {
    this.CONSUME(T.Sku);
    this.SUBRULE(this.stringList);
  });

  duringCond = this.RULE('duringCond', () => {
    this.CONSUME(T.During);
    this.CONSUME(T.DateLit);
    this.CONSUME(T.To);
    this.CONSUME2(T.DateLit);
  });

  daysCond = this.RULE('daysCond', () => {
    this.CONSUME(T.Days);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Weekday) });
  });

  hoursCond = this.RULE('hoursCond', () => {
    this.CONSUME(T.Hours);
    this.CONSUME(T.TimeLit);
    this.CONSUME(T.To);
    this.CONSUME2(T.TimeLit);
  });

  whenCond = this.RULE('whenCond', () => {
    this.CONSUME(T.When);
    this.SUBRULE(this.expr);
  });

  multiplierStmt = this.RULE('multiplierStmt', () => {
    this.CONSUME(T.Multiplier);
    this.CONSUME(T.MultLit);
  });

  // extra N points per X CUR
  extraStmt = this.RULE('extraStmt', () => {
    this.CONSUME(T.Extra);
    this.SUBRULE(this.rate);
  });

  // bonus N points [per item]
  bonusStmt = this.RULE('bonusStmt', () => {
    this.CONSUME(T.Bonus);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
    this.OPTION(() => {
      this.CONSUME(T.Per);
      this.CONSUME(T.Item);
    });
  });

  // limit N points per P | limit N times per P | limit once per P | once per P
  limitStmt = this.RULE('limitStmt', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Limit);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(T.NumberLit);
                this.OR3([
                  { ALT: () => this.CONSUME(T.PointKw) },
                  { ALT: () => this.CONSUME(T.Times) },
                  { ALT: () => this.CONSUME(T.Time) },
                ]);
              },
            },
            { ALT: () => this.CONSUME(T.Once) },
          ]);
        },
      },
      { ALT: () => this.CONSUME2(T.Once) },
    ]);
    this.CONSUME(T.Per);
    this.CONSUME(T.PeriodKw);
  });

  // on signup { ... } | on birthday { ... } | on event "name" { ... }
  onDecl = this.RULE('onDecl', () => {
    this.CONSUME(T.On);
    this.OR([
      { ALT: () => this.CONSUME(T.Signup) },
      { ALT: () => this.CONSUME(T.Birthday) },
      {
        ALT: () => {
          this.CONSUME(T.Event);
          this.CONSUME(T.StringLit);
        },
      },
    ]);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR2({
        DEF: [{ ALT: () => this.SUBRULE(this.bonusStmt) }, { ALT: () => this.SUBRULE(this.limitStmt) }, { ALT: () => this.SUBRULE(this.unknownStmt) }],
        ERR_MSG: 'a bonus or a limit',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  tiersDecl = this.RULE('tiersDecl', () => {
    this.CONSUME(T.Tiers);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.qualifyStmt) },
          { ALT: () => this.SUBRULE(this.tierDef) },
          { ALT: () => this.SUBRULE(this.keepStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'qualify, tier or keep',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  // qualify spend|points|orders [over DURATION | over calendar year | over lifetime]
  qualifyStmt = this.RULE('qualifyStmt', () => {
    this.CONSUME(T.Qualify);
    this.OR([{ ALT: () => this.CONSUME(T.Spend) }, { ALT: () => this.CONSUME(T.PointKw) }, { ALT: () => this.CONSUME(T.Orders) }]);
    this.OPTION(() => {
      this.CONSUME(T.Over);
      this.OR2([
        { ALT: () => this.SUBRULE(this.duration) },
        {
          ALT: () => {
            this.CONSUME(T.Calendar);
            this.CONSUME(T.Year);
          },
        },
        { ALT: () => this.CONSUME(T.Lifetime) },
      ]);
    });
  });

  // tier NAME at THRESHOLD [{ multiplier Nx  discount P% on ...  perk "x" ... }]
  tierDef = this.RULE('tierDef', () => {
    this.CONSUME(T.Tier);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.At);
    this.OR([{ ALT: () => this.CONSUME(T.MoneyLit) }, { ALT: () => this.CONSUME(T.NumberLit) }]);
    this.OPTION(() => {
      this.CONSUME(T.LBrace);
      this.MANY(() =>
        this.OR2({
          DEF: [
            { ALT: () => this.SUBRULE(this.multiplierStmt) },
            { ALT: () => this.SUBRULE(this.discountStmt) },
            { ALT: () => this.SUBRULE(this.perkStmt) },
            { ALT: () => this.SUBRULE(this.unknownStmt) },
          ],
          ERR_MSG: 'multiplier, discount or perk',
        }),
      );
      this.CONSUME(T.RBrace);
    });
  });

  keepStmt = this.RULE('keepStmt', () => {
    this.CONSUME(T.Keep);
    this.SUBRULE(this.duration);
  });

  perkStmt = this.RULE('perkStmt', () => {
    this.CONSUME(T.Perk);
    this.CONSUME(T.StringLit);
  });

  duration = this.RULE('duration', () => {
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.DurationUnit);
  });

  clubDecl = this.RULE('clubDecl', () => {
    this.CONSUME(T.Club);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.feeStmt) },
          { ALT: () => this.SUBRULE(this.multiplierStmt) },
          { ALT: () => this.SUBRULE(this.discountStmt) },
          { ALT: () => this.SUBRULE(this.perkStmt) },
          { ALT: () => this.SUBRULE(this.joinBonusStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'fee, multiplier, discount, perk or bonus',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  // fee 49 USD per year
  feeStmt = this.RULE('feeStmt', () => {
    this.CONSUME(T.Fee);
    this.CONSUME(T.MoneyLit);
    this.CONSUME(T.Per);
    this.OR([{ ALT: () => this.CONSUME(T.Month) }, { ALT: () => this.CONSUME(T.Year) }]);
  });

  // discount 10% on category "beans", "tea"  |  discount 5% on everything
  discountStmt = this.RULE('discountStmt', () => {
    this.CONSUME(T.Discount);
    this.CONSUME(T.PercentLit);
    this.CONSUME(T.On);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Category);
          this.SUBRULE(this.stringList);
        },
      },
      { ALT: () => this.CONSUME(T.Everything) },
    ]);
  });

  // bonus 500 points on join
  joinBonusStmt = this.RULE('joinBonusStmt', () => {
    this.CONSUME(T.Bonus);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
    this.CONSUME(T.On);
    this.CONSUME(T.Join);
  });

  referralDecl = this.RULE('referralDecl', () => {
    this.CONSUME(T.Referral);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.referrerStmt) },
          { ALT: () => this.SUBRULE(this.refereeStmt) },
          { ALT: () => this.SUBRULE(this.minOrderStmt) },
          { ALT: () => this.SUBRULE(this.withinStmt) },
          { ALT: () => this.SUBRULE(this.referralLimitStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'referrer, referee, min order, within or limit',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  referrerStmt = this.RULE('referrerStmt', () => {
    this.CONSUME(T.Referrer);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
  });

  refereeStmt = this.RULE('refereeStmt', () => {
    this.CONSUME(T.Referee);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
  });

  minOrderStmt = this.RULE('minOrderStmt', () => {
    this.CONSUME(T.Min);
    this.CONSUME(T.Order);
    this.CONSUME(T.MoneyLit);
  });

  withinStmt = this.RULE('withinStmt', () => {
    this.CONSUME(T.Within);
    this.SUBRULE(this.duration);
  });

  // limit 10 per year
  referralLimitStmt = this.RULE('referralLimitStmt', () => {
    this.CONSUME(T.Limit);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.Per);
    this.CONSUME(T.Year);
  });

  redeemDecl = this.RULE('redeemDecl', () => {
    this.CONSUME(T.Redeem);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.redeemRateStmt) },
          { ALT: () => this.SUBRULE(this.redeemMinStmt) },
          { ALT: () => this.SUBRULE(this.redeemMaxStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'rate, min or max',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  // rate 100 points = 1 USD
  redeemRateStmt = this.RULE('redeemRateStmt', () => {
    this.CONSUME(T.Rate);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
    this.CONSUME(T.Equals);
    this.CONSUME(T.MoneyLit);
  });

  redeemMinStmt = this.RULE('redeemMinStmt', () => {
    this.CONSUME(T.Min);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
  });

  // max 50% of order
  redeemMaxStmt = this.RULE('redeemMaxStmt', () => {
    this.CONSUME(T.Max);
    this.CONSUME(T.PercentLit);
    this.CONSUME(T.Of);
    this.CONSUME(T.Order);
  });

  expireDecl = this.RULE('expireDecl', () => {
    this.CONSUME(T.Expire);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.afterStmt) }, { ALT: () => this.SUBRULE(this.unknownStmt) }]));
    this.CONSUME(T.RBrace);
  });

  // after 12 months [inactivity]
  afterStmt = this.RULE('afterStmt', () => {
    this.CONSUME(T.After);
    this.SUBRULE(this.duration);
    this.OPTION(() => this.CONSUME(T.Inactivity));
  });

  // reward "Name" { cost N points  when EXPR  limit N times per P  value MONEY }
  rewardDecl = this.RULE('rewardDecl', () => {
    this.CONSUME(T.Reward);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.costStmt) },
          { ALT: () => this.SUBRULE(this.whenCond) },
          { ALT: () => this.SUBRULE(this.limitStmt) },
          { ALT: () => this.SUBRULE(this.valueStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'cost, when, limit or value',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  // cost 450 points
  costStmt = this.RULE('costStmt', () => {
    this.CONSUME(T.Cost);
    this.CONSUME(T.NumberLit);
    this.CONSUME(T.PointKw);
  });

  // value 4.50 USD
  valueStmt = this.RULE('valueStmt', () => {
    this.CONSUME(T.ValueKw);
    this.CONSUME(T.MoneyLit);
  });

  // challenge "Name" { orders N per P | spend MONEY per P  filters  bonus N points }
  challengeDecl = this.RULE('challengeDecl', () => {
    this.CONSUME(T.Challenge);
    this.CONSUME(T.StringLit);
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.goalStmt) },
          { ALT: () => this.SUBRULE(this.categoryFilter) },
          { ALT: () => this.SUBRULE(this.skuFilter) },
          { ALT: () => this.SUBRULE(this.excludeStmt) },
          { ALT: () => this.SUBRULE(this.bonusStmt) },
          { ALT: () => this.SUBRULE(this.unknownStmt) },
        ],
        ERR_MSG: 'a goal (orders, spend), a filter (category, sku, exclude) or a bonus',
      }),
    );
    this.CONSUME(T.RBrace);
  });

  // orders 3 per week | spend 50 USD per month (the period is checked: not `order`)
  goalStmt = this.RULE('goalStmt', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Orders);
          this.CONSUME(T.NumberLit);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Spend);
          this.CONSUME(T.MoneyLit);
        },
      },
    ]);
    this.CONSUME(T.Per);
    this.CONSUME(T.PeriodKw);
  });

  // --- when expressions: or < and < not < comparison < operand -------------
  expr = this.RULE('expr', () => {
    this.SUBRULE(this.andExpr);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr);
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr);
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.operand);
    this.OPTION(() => {
      this.CONSUME(T.CmpOp);
      this.SUBRULE2(this.operand);
    });
  });

  operand = this.RULE('operand', () => {
    this.OR({
      DEF: [
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            this.SUBRULE(this.expr);
            this.CONSUME(T.RParen);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.First);
            this.CONSUME(T.Order);
          },
        },
        {
          ALT: () => {
            this.CONSUME2(T.Order);
            this.CONSUME(T.Dot);
            this.OR2([{ ALT: () => this.CONSUME(T.Total) }, { ALT: () => this.CONSUME(T.Items) }, { ALT: () => this.CONSUME(T.Channel) }]);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Member);
            this.CONSUME2(T.Dot);
            this.OR3([
              { ALT: () => this.CONSUME(T.Tier) },
              {
                ALT: () => {
                  this.CONSUME(T.Club);
                  this.CONSUME(T.StringLit);
                },
              },
            ]);
          },
        },
        { ALT: () => this.CONSUME(T.MoneyLit) },
        { ALT: () => this.CONSUME(T.NumberLit) },
        { ALT: () => this.CONSUME2(T.StringLit) },
        { ALT: () => this.CONSUME(T.Identifier) },
      ],
      ERR_MSG: 'a value (order.total, order.items, order.channel, member.tier, member.club "Name", first order, a tier name, a number, money or a string)',
    });
  });
}

/** What each block can hold, by grammar rule. */
export const BLOCKS: Record<string, { words: string[]; what: string }> = {
  program: { words: ['currency', 'timezone', 'unit', 'base', 'exclude', 'pending', 'rule', 'on', 'tiers', 'club', 'referral', 'redeem', 'expire', 'reward', 'challenge'], what: 'a setting or a section' },
  ruleDecl: { words: ['category', 'sku', 'exclude', 'during', 'days', 'hours', 'when', 'multiplier', 'extra', 'bonus', 'limit', 'once'], what: 'a filter, a condition, an effect or a limit' },
  onDecl: { words: ['bonus', 'limit', 'once'], what: 'a bonus or a limit' },
  tiersDecl: { words: ['qualify', 'tier', 'keep'], what: 'qualify, tier or keep' },
  tierDef: { words: ['multiplier', 'discount', 'perk'], what: 'multiplier, discount or perk' },
  clubDecl: { words: ['fee', 'multiplier', 'discount', 'perk', 'bonus'], what: 'fee, multiplier, discount, perk or bonus' },
  referralDecl: { words: ['referrer', 'referee', 'min', 'within', 'limit'], what: 'referrer, referee, min order, within or limit' },
  redeemDecl: { words: ['rate', 'min', 'max'], what: 'rate, min or max' },
  expireDecl: { words: ['after'], what: 'after' },
  rewardDecl: { words: ['cost', 'when', 'limit', 'once', 'value'], what: 'cost, when, limit or value' },
  challengeDecl: { words: ['orders', 'spend', 'category', 'sku', 'exclude', 'bonus'], what: 'a goal (orders, spend), a filter or a bonus' },
};

function isToken(t: TokenType | undefined): t is TokenType {
  return t !== undefined;
}
function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
function label(t: TokenType): string {
  if (t === EOF) return 'the end of the file';
  return t.LABEL ?? t.name;
}
function listLabels(ts: TokenType[]): string {
  const ls = uniq(ts.map(label));
  if (ls.length <= 1) return ls[0] ?? 'something else';
  return ls.slice(0, -1).join(', ') + ' or ' + ls[ls.length - 1];
}
export function describe(tok: IToken): string {
  if (tok.tokenType === EOF) return 'the end of the file';
  return JSON.stringify(tok.image);
}

const parser = new LoyaltyParser();

export interface ParseResult {
  cst: CstNode;
  errors: IRecognitionException[];
  expectations: ExpectedAt[];
}

export function parse(tokens: IToken[]): ParseResult {
  parser.expectations = [];
  parser.input = tokens;
  const cst = parser.program();
  return { cst, errors: [...parser.errors], expectations: parser.expectations };
}

export function getParser(): CstParser {
  return parser;
}

export const BaseCstVisitor = parser.getBaseCstVisitorConstructorWithDefaults();
export const StrictCstVisitor = parser.getBaseCstVisitorConstructor();
