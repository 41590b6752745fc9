// The compiler front end against dsl.md sections 1-3: every example and
// conformance program compiles; every diagnostic code can be produced and
// points at the offending token; hints, rendering, frozen output, and the
// spec's "these mean the same" rules.
import { describe, expect, it } from 'vitest';
import { CODES, compile, renderDiagnostic, type Diagnostic, type OrderFacts, type Program } from '../../dsl/index.ts';
import {
  canonical,
  conformancePrograms,
  errorsOf,
  examplePrograms,
  mark,
  mustCompile,
  probesFor,
  sameMeaning,
} from './helpers.ts';

const FILE = 'test.loyalty';

function diagnose(src: string, asOf?: string): Diagnostic[] {
  return compile(src, FILE, asOf ? { asOf } : {}).diagnostics;
}

/** A program with the usual header around `body`. */
function prog(body: string, header = 'currency USD'): string {
  return `program "T" {\n  ${header}\n${body}\n}\n`;
}

// ---------------------------------------------------------------------------

describe('examples and conformance programs', () => {
  for (const f of [...examplePrograms(), ...conformancePrograms()]) {
    it(`${f.name} compiles without errors`, () => {
      const r = compile(f.source, f.path);
      expect(errorsOf(r.diagnostics)).toEqual([]);
      expect(r.program).toBeDefined();
      expect(r.ast).toBeDefined();
      expect(r.program!.fileName).toBe(f.path);
      expect(r.program!.source).toBe(f.source);
      expect(r.program!.hash).toMatch(/^[0-9a-f]{64}$/);
    });
  }
  for (const f of examplePrograms()) {
    it(`${f.name} is loyalty-check clean as of 2026-11-25 (no diagnostics at all)`, () => {
      const r = compile(f.source, f.path, { asOf: '2026-11-25' });
      expect(r.diagnostics).toEqual([]);
      expect(r.program).toBeDefined();
    });
  }
  it('there are six examples and nineteen conformance programs', () => {
    expect(examplePrograms()).toHaveLength(6);
    expect(conformancePrograms().length).toBeGreaterThanOrEqual(19);
  });
});

// ---------------------------------------------------------------------------
// One program per diagnostic code. `⁁` marks the token the diagnostic must
// point at (1-based line and column of its first character).

interface Case {
  code: string;
  title: string;
  src: string;
  message: string | RegExp;
  hint?: string | RegExp;
  asOf?: string;
}

const CASES: Case[] = [
  // --- lexical and syntax ----------------------------------------------------------
  { code: 'E001', title: 'a missing token', src: prog('  rule "A" { bonus 5 ⁁}'), message: 'expected "points"' },
  { code: 'E001', title: 'an extra token after the program', src: `program "T" {\n  currency USD\n}\n⁁rule "A" { bonus 1 point }\n`, message: 'after the end of the program' },
  { code: 'E001', title: 'an unclosed parenthesis', src: prog('  rule "A" {\n    when (order.items >= 3 ⁁bonus 5 points\n  }'), message: '")"' },
  { code: 'E001', title: 'two values with no comma', src: prog('  rule "A" {\n    category "a" ⁁"b"\n    bonus 5 points\n  }'), message: 'expected' },
  { code: 'E002', title: 'an unexpected character', src: prog('  rule "A" { bonus 5 points } ⁁~'), message: 'unexpected character "~"' },
  { code: 'E003', title: 'an unterminated string', src: prog('  unit ⁁"Beans\n  rule "A" { bonus 1 point }'), message: 'unterminated string', hint: 'double quote' },
  { code: 'E004', title: 'a misspelt rule keyword', src: prog('  base 1 point per 1 USD\n  rule "A" {\n    ⁁multipler 2x\n  }'), message: 'unknown keyword "multipler"', hint: '"multiplier"' },
  { code: 'E004', title: 'a misspelt setting', src: `program "T" {\n  currency USD\n  ⁁timezon "UTC"\n}\n`, message: 'unknown keyword "timezon"', hint: '"timezone"' },
  { code: 'E004', title: 'a misspelt club statement', src: prog('  club "C" { ⁁fe 1 USD per month }'), message: 'unknown keyword "fe"', hint: '"fee"' },

  // --- settings ---------------------------------------------------------------------
  { code: 'E010', title: 'no currency', src: `program ⁁"T" {\n  base 1 point per 1 USD\n}\n`, message: 'no currency', hint: 'currency USD' },
  { code: 'E011', title: 'money in another currency (base)', src: prog('  base 1 point per ⁁1 EUR'), message: 'not in the program currency USD' },
  { code: 'E011', title: 'money in another currency (when)', src: prog('  rule "A" {\n    when order.total >= ⁁20 GBP\n    bonus 1 point\n  }'), message: 'not in the program currency USD' },
  { code: 'E011', title: 'money in another currency (tier threshold)', src: prog('  tiers {\n    tier A at 0\n    tier B at ⁁10 EUR\n  }'), message: 'not in the program currency' },
  { code: 'E012', title: 'an unknown currency setting', src: `program "T" {\n  currency ⁁USX\n}\n`, message: 'unknown currency code "USX"' },
  { code: 'E012', title: 'an unknown currency in a money literal', src: prog('  base 1 point per ⁁1 ABC'), message: 'unknown currency code "ABC"' },
  { code: 'E013', title: 'a setting given twice', src: prog('  unit "a"\n  ⁁unit "b"'), message: 'given twice (first on line 3)' },
  { code: 'E013', title: 'exclude category given twice', src: prog('  exclude category "a"\n  ⁁exclude category "b"'), message: 'given twice' },
  { code: 'E014', title: 'tiers given twice', src: prog('  tiers { tier A at 0 }\n  ⁁tiers { tier A at 0 }'), message: 'the tiers section is given twice' },
  { code: 'E014', title: 'referral given twice', src: prog('  referral { referee 1 point }\n  ⁁referral { referee 1 point }'), message: 'the referral section is given twice' },
  { code: 'E014', title: 'redeem given twice', src: prog('  redeem { rate 1 point = 1 USD }\n  ⁁redeem { rate 1 point = 1 USD }'), message: 'the redeem section is given twice' },
  { code: 'E014', title: 'expire given twice', src: prog('  expire { after 1 day }\n  ⁁expire { after 2 days }'), message: 'the expire section is given twice' },
  { code: 'E015', title: 'two rules with one name', src: prog('  rule "A" { bonus 1 point }\n  rule ⁁"A" { bonus 2 points }'), message: 'rule "A" is declared twice' },
  { code: 'E015', title: 'two clubs with one name', src: prog('  club "C" { multiplier 2x }\n  club ⁁"C" { multiplier 3x }'), message: 'club "C" is declared twice' },
  { code: 'E015', title: 'two tiers with one name', src: prog('  tiers {\n    tier A at 0\n    tier ⁁A at 10 USD\n  }'), message: 'tier A is declared twice' },
  { code: 'E016', title: 'a base rate per 0', src: prog('  base 1 point per ⁁0 USD'), message: 'cannot be per 0' },
  { code: 'E016', title: 'an extra rate per 0.00', src: prog('  rule "A" { extra 1 point per ⁁0.00 USD }'), message: 'cannot be per 0' },
  { code: 'E016', title: 'a redemption rate for 0 points', src: prog('  redeem { rate ⁁0 points = 1 USD }'), message: 'cannot be for 0 points' },
  { code: 'E017', title: 'a setting after a section', src: prog('  rule "A" { bonus 1 point }\n  ⁁timezone "UTC"'), message: 'comes after a section' },
  { code: 'E018', title: 'JPY with decimals', src: prog('  base 1 point per ⁁1.5 JPY', 'currency JPY'), message: 'more decimals than JPY allows (0)' },
  { code: 'E018', title: 'USD with three decimals', src: prog('  base 1 point per ⁁1.005 USD'), message: 'more decimals than USD allows (2)' },
  { code: 'E019', title: 'an unknown timezone', src: prog('  timezone ⁁"America/New_Yrok"'), message: 'unknown timezone "America/New_Yrok"', hint: '"America/New_York"' },

  // --- tiers ---------------------------------------------------------------------------
  { code: 'E020', title: 'first tier not at 0', src: prog('  tiers {\n    tier A at ⁁10 USD\n    tier B at 20 USD\n  }'), message: 'first tier must be at 0' },
  { code: 'E021', title: 'thresholds descending', src: prog('  tiers {\n    tier A at 0\n    tier B at 20 USD\n    tier C at ⁁10 USD\n  }'), message: 'not above the tier before it' },
  { code: 'E021', title: 'thresholds equal', src: prog('  tiers {\n    qualify orders\n    tier A at 0\n    tier B at 5\n    tier C at ⁁5\n  }'), message: 'not above the tier before it' },
  { code: 'E022', title: 'spend threshold without a currency', src: prog('  tiers {\n    qualify spend over 12 months\n    tier A at 0\n    tier B at ⁁100\n  }'), message: 'thresholds are money' },
  { code: 'E022', title: 'points threshold in money', src: prog('  tiers {\n    qualify points over calendar year\n    tier A at 0\n    tier B at ⁁100 USD\n  }'), message: 'thresholds are numbers, not money' },
  { code: 'E022', title: 'orders threshold in money', src: prog('  tiers {\n    qualify orders over lifetime\n    tier A at 0\n    tier B at ⁁3 USD\n  }'), message: 'thresholds are numbers, not money' },

  // --- conditions ------------------------------------------------------------------------
  { code: 'E030', title: 'during ends before it starts', src: prog('  rule "A" {\n    ⁁during 2026-12-24 to 2026-12-01\n    bonus 1 point\n  }'), message: 'ends (2026-12-01) before it starts (2026-12-24)' },
  { code: 'E031', title: 'an impossible date', src: prog('  rule "A" {\n    during ⁁2026-02-30 to 2026-03-01\n    bonus 1 point\n  }'), message: '2026-02-30 is not a valid date' },
  { code: 'E031', title: 'month 13', src: prog('  rule "A" {\n    during 2026-01-01 to ⁁2026-13-01\n    bonus 1 point\n  }'), message: 'not a valid date' },
  { code: 'E032', title: 'hours ending before they start', src: prog('  rule "A" {\n    ⁁hours 16:00 to 14:00\n    bonus 1 point\n  }'), message: 'not after the start' },
  { code: 'E032', title: 'an empty hours range', src: prog('  rule "A" {\n    ⁁hours 14:00 to 14:00\n    bonus 1 point\n  }'), message: 'not after the start' },
  { code: 'E033', title: 'hours starting at 24:00', src: prog('  rule "A" {\n    hours ⁁24:00 to 24:00\n    bonus 1 point\n  }'), message: '24:00 is not a valid time of day' },
  { code: 'E033', title: 'minute 61', src: prog('  rule "A" {\n    hours ⁁10:61 to 12:00\n    bonus 1 point\n  }'), message: '10:61 is not a valid time of day' },
  { code: 'E033', title: 'hour 25', src: prog('  rule "A" {\n    hours 10:00 to ⁁25:00\n    bonus 1 point\n  }'), message: '25:00 is not a valid time of day' },

  // --- effects and limits ------------------------------------------------------------------
  { code: 'E040', title: 'a rule with no effect', src: prog('  rule ⁁"A" {\n    category "x"\n  }'), message: 'rule "A" has no effect' },
  { code: 'E041', title: 'a rule with two effects', src: prog('  rule "A" {\n    bonus 1 point\n    ⁁extra 1 point per 1 USD\n  }'), message: 'more than one effect (the first is on line 4)' },
  { code: 'E042', title: 'multiplier 0.5x', src: prog('  base 1 point per 1 USD\n  rule "A" { multiplier ⁁0.5x }'), message: 'multiplier 0.5x is below 1x' },
  { code: 'E042', title: 'a tier multiplier below 1x', src: prog('  tiers {\n    tier A at 0 { multiplier ⁁0.9x }\n  }'), message: 'below 1x' },
  { code: 'E043', title: 'negative bonus points', src: prog('  rule "A" { bonus ⁁-5 points }'), message: 'cannot be negative' },
  { code: 'E043', title: 'a negative base rate', src: prog('  base ⁁-1 points per 1 USD'), message: 'cannot be negative' },
  { code: 'E043', title: 'a negative discount', src: prog('  club "C" { discount ⁁-5% on category "a" }'), message: 'cannot be negative' },
  { code: 'E044', title: 'discount 150%', src: prog('  club "C" { discount ⁁150% on category "a" }'), message: '150% is above 100%' },
  { code: 'E043', title: 'a negative tier discount', src: prog('  tiers {\n    tier A at 0 { discount ⁁-5% on everything }\n  }'), message: 'cannot be negative', hint: 'between 0% and 100%' },
  { code: 'E044', title: 'a tier discount of 101% on everything', src: prog('  tiers {\n    tier A at 0 { discount ⁁101% on everything }\n  }'), message: '101% is above 100%', hint: 'between 0% and 100%' },
  { code: 'E044', title: 'a club discount of 120% on everything', src: prog('  club "C" { discount ⁁120% on everything }'), message: '120% is above 100%', hint: 'off a line' },
  { code: 'E044', title: 'max 101% of order', src: prog('  redeem {\n    rate 100 points = 1 USD\n    max ⁁101% of order\n  }'), message: 'above 100%' },
  { code: 'E045', title: 'two limits on a rule', src: prog('  rule "A" {\n    bonus 5 points\n    once per day\n    ⁁limit 10 points per week\n  }'), message: 'more than one limit' },
  { code: 'E046', title: 'per order on an event limit', src: prog('  on event "review" { bonus 20 points  limit 1 times per ⁁order }'), message: 'cannot be limited per order' },
  { code: 'E046', title: 'a limit on signup', src: prog('  on signup { bonus 100 points  ⁁limit once per day }'), message: 'on signup takes no limit' },
  { code: 'E046', title: 'a limit on birthday', src: prog('  on birthday {\n    bonus 100 points\n    ⁁once per year\n  }'), message: 'on birthday takes no limit' },
  { code: 'E046', title: 'per item on an event bonus', src: prog('  on event "x" { ⁁bonus 5 points per item }'), message: 'per item' },
  { code: 'E047', title: 'fractional bonus points', src: prog('  rule "A" { bonus ⁁1.5 points }'), message: 'whole number' },
  { code: 'E047', title: 'a fractional limit', src: prog('  rule "A" {\n    bonus 5 points\n    limit ⁁2.5 times per day\n  }'), message: 'whole number' },
  { code: 'E047', title: 'a fractional orders threshold', src: prog('  tiers {\n    qualify orders\n    tier A at 0\n    tier B at ⁁2.5\n  }'), message: 'whole number' },
  { code: 'E048', title: 'a rate with ten decimals', src: prog('  base ⁁1.0000000001 points per 1 USD'), message: 'too large or too precise' },
  { code: 'E048', title: 'a percentage of 10^20', src: prog('  redeem {\n    rate 1 point = 1 USD\n    max ⁁99999999999999999999% of order\n  }'), message: 'too large or too precise' },

  // --- references and types -------------------------------------------------------------------
  { code: 'E050', title: 'an unknown tier', src: prog('  tiers {\n    tier Green at 0\n    tier Silver at 300 USD\n  }\n  rule "A" {\n    when member.tier >= ⁁Silvr\n    bonus 5 points\n  }'), message: 'unknown tier "Silvr"', hint: '"Silver"' },
  { code: 'E050', title: 'member.tier without tiers', src: prog('  rule "A" {\n    when ⁁member.tier == member.tier\n    bonus 5 points\n  }'), message: 'no tiers' },
  { code: 'E051', title: 'an unknown club', src: prog('  club "Bean Club" { multiplier 2x }\n  rule "A" {\n    when member.club ⁁"Bean Clb"\n    bonus 5 points\n  }'), message: 'unknown club "Bean Clb"', hint: '"Bean Club"' },
  { code: 'E052', title: 'money compared with a number', src: prog('  rule "A" {\n    when ⁁order.total >= 5\n    bonus 5 points\n  }'), message: 'cannot compare order.total (money) with a number' },
  { code: 'E052', title: 'a string ordered with <', src: prog('  rule "A" {\n    when order.channel ⁁> "app"\n    bonus 5 points\n  }'), message: 'only be compared with == or !=' },
  { code: 'E052', title: 'a number used as a condition', src: prog('  rule "A" {\n    when ⁁order.items and first order\n    bonus 5 points\n  }'), message: 'needs a condition' },
  { code: 'E052', title: 'conditions compared with ==', src: prog('  rule "A" {\n    when first order ⁁== first order\n    bonus 5 points\n  }'), message: 'compares values, not conditions' },

  // --- sections -----------------------------------------------------------------------------------
  { code: 'E060', title: 'tiers with no tier', src: prog('  ⁁tiers { }'), message: 'declares no tier' },
  { code: 'E060', title: 'redeem with no rate', src: prog('  ⁁redeem { min 5 points }'), message: 'has no rate' },
  { code: 'E060', title: 'expire with nothing', src: prog('  ⁁expire { }'), message: 'says nothing' },
  { code: 'E060', title: 'referral rewarding nobody', src: prog('  ⁁referral { within 30 days }'), message: 'rewards nobody' },
  { code: 'E060', title: 'an event with no bonus', src: prog('  on ⁁event "x" { limit once per day }'), message: 'has no bonus' },
  { code: 'E060', title: 'an empty unit', src: prog('  unit ⁁""'), message: 'needs a name' },
  { code: 'E061', title: 'qualify twice', src: prog('  tiers {\n    qualify spend\n    ⁁qualify points\n    tier A at 0\n  }'), message: 'qualify is given twice' },
  { code: 'E061', title: 'a club fee twice', src: prog('  club "C" {\n    fee 1 USD per month\n    ⁁fee 10 USD per year\n  }'), message: 'more than one fee' },
  { code: 'E061', title: 'referrer twice', src: prog('  referral {\n    referrer 1 point\n    ⁁referrer 2 points\n  }'), message: 'referrer is given twice' },
  { code: 'E061', title: 'two bonuses on an event', src: prog('  on event "x" { bonus 1 point  ⁁bonus 2 points }'), message: 'more than one bonus' },
  { code: 'E061', title: 'two afters in expire', src: prog('  expire {\n    after 1 day\n    ⁁after 2 days\n  }'), message: 'more than one' },
  { code: 'E062', title: 'within 0 days', src: prog('  referral {\n    referrer 1 point\n    within ⁁0 days\n  }'), message: 'cannot be 0 days' },
  { code: 'E062', title: 'expire after 0 months', src: prog('  expire { after ⁁0 months }'), message: 'cannot be 0 months' },
  { code: 'E062', title: 'keep 0 days', src: prog('  tiers {\n    tier A at 0\n    keep ⁁0 days\n  }'), message: 'cannot be 0 days' },
  { code: 'E062', title: 'pending 0 days', src: prog('  pending ⁁0 days'), message: 'pending cannot be 0 days', hint: 'remove the setting' },
  { code: 'E013', title: 'pending given twice', src: prog('  pending 14 days\n  ⁁pending 30 days'), message: 'setting "pending" is given twice' },
  { code: 'E017', title: 'pending after a section', src: prog('  rule "A" { bonus 1 point }\n  ⁁pending 14 days'), message: 'comes after a section' },

  // --- rewards (dsl.md 2.9, 3) ----------------------------------------------------------------------
  { code: 'E015', title: 'two rewards with one name', src: prog('  reward "R" { cost 1 point }\n  reward ⁁"R" { cost 2 points }'), message: 'reward "R" is declared twice', hint: 'its own name' },
  { code: 'E060', title: 'a reward without cost', src: prog('  reward ⁁"R" { value 1 USD }'), message: 'has no cost', hint: 'cost 450 points' },
  { code: 'E061', title: 'a reward with two costs', src: prog('  reward "R" {\n    cost 1 point\n    ⁁cost 2 points\n  }'), message: 'more than one cost', hint: 'exactly one cost' },
  { code: 'E061', title: 'a reward with two values', src: prog('  reward "R" { cost 1 point  value 1 USD  ⁁value 2 USD }'), message: 'more than one value', hint: 'keep one value' },
  { code: 'E063', title: 'a reward costing 0 points', src: prog('  reward "R" { cost ⁁0 points }'), message: 'costs 0 points', hint: 'more than 0 points' },
  { code: 'E045', title: 'a reward with two limits', src: prog('  reward "R" { cost 1 point  limit once per day  ⁁limit 2 times per year }'), message: 'more than one limit', hint: 'at most one limit' },
  { code: 'E046', title: 'a points limit on a reward', src: prog('  reward "R" { cost 1 point  ⁁limit 5 points per month }'), message: 'counts redemptions, not points', hint: 'limit 5 times per month' },
  { code: 'E046', title: 'a per order limit on a reward', src: prog('  reward "R" { cost 1 point  once per ⁁order }'), message: 'cannot be limited per order', hint: 'per day, week, month, year or member' },
  { code: 'E053', title: 'order.total in a reward condition', src: prog('  reward "R" {\n    cost 1 point\n    when ⁁order.total >= 5 USD\n  }'), message: "order.total cannot be used in a reward's when", hint: 'member.tier and member.club' },
  { code: 'E053', title: 'first order in a reward condition', src: prog('  reward "R" { cost 1 point  when not ⁁first order }'), message: '`first order` cannot be used', hint: 'member.tier' },
  { code: 'E050', title: 'an unknown tier in a reward condition', src: prog('  tiers {\n    tier Green at 0\n    tier Silver at 300 USD\n  }\n  reward "R" { cost 1 point  when member.tier >= ⁁Silvr }'), message: 'unknown tier "Silvr"', hint: 'did you mean "Silver"?' },
  { code: 'E051', title: 'an unknown club in a reward condition', src: prog('  club "Bean Club" { fee 5 USD per month }\n  reward "R" { cost 1 point  when member.club ⁁"Bean Clb" }'), message: 'unknown club "Bean Clb"', hint: 'did you mean "Bean Club"?' },
  { code: 'E011', title: 'a reward value in another currency', src: prog('  reward "R" { cost 1 point  value ⁁4.50 EUR }'), message: 'not in the program currency USD' },
  { code: 'W005', title: 'a reward limited to 0 times', src: prog('  reward "R" { cost 1 point  ⁁limit 0 times per month }'), message: 'can never be redeemed', hint: 'at least 1' },

  // --- challenges (dsl.md 2.10, 3) -------------------------------------------------------------------
  { code: 'E015', title: 'two challenges with one name', src: prog('  challenge "C" { orders 1 per day  bonus 1 point }\n  challenge ⁁"C" { orders 2 per day  bonus 2 points }'), message: 'challenge "C" is declared twice', hint: 'its own name' },
  { code: 'E060', title: 'a challenge without a goal', src: prog('  challenge ⁁"C" { category "coffee"  bonus 10 points }'), message: 'has no goal', hint: 'orders 3 per week' },
  { code: 'E061', title: 'a challenge with two goals', src: prog('  challenge "C" {\n    orders 3 per week\n    ⁁spend 50 USD per month\n    bonus 10 points\n  }'), message: 'more than one goal', hint: 'exactly one goal' },
  { code: 'E060', title: 'a challenge without a bonus', src: prog('  challenge ⁁"C" { orders 3 per week }'), message: 'has no bonus', hint: 'bonus 100 points' },
  { code: 'E061', title: 'a challenge with two bonuses', src: prog('  challenge "C" { orders 3 per week  bonus 1 point  ⁁bonus 2 points }'), message: 'more than one bonus', hint: 'exactly one bonus' },
  { code: 'E064', title: 'an orders goal of 0', src: prog('  challenge "C" { orders ⁁0 per week  bonus 10 points }'), message: 'has a goal of 0', hint: 'at least 1 order' },
  { code: 'E064', title: 'a spend goal of 0', src: prog('  challenge "C" { spend ⁁0.00 USD per month  bonus 10 points }'), message: 'has a goal of 0.00 USD', hint: 'more than 0' },
  { code: 'E064', title: 'a challenge bonus of 0', src: prog('  challenge "C" { orders 3 per week  bonus ⁁0 points }'), message: 'bonus of 0 points', hint: 'more than 0 points' },
  { code: 'E065', title: 'a challenge goal per order', src: prog('  challenge "C" { orders 2 per ⁁order  bonus 10 points }'), message: 'cannot be per order', hint: 'per day, week, month, year or member' },
  { code: 'E066', title: 'a challenge bonus per item', src: prog('  challenge "C" { orders 2 per week  ⁁bonus 10 points per item }'), message: '`per item` is not allowed', hint: 'bonus 10 points' },
  { code: 'E011', title: 'a spend goal in another currency', src: prog('  challenge "C" { spend ⁁50 EUR per month  bonus 10 points }'), message: 'not in the program currency USD' },
  { code: 'E004', title: 'a limit in a challenge', src: prog('  challenge "C" { orders 2 per week  bonus 10 points  ⁁limt 1 }'), message: 'unknown keyword "limt"' },

  // --- warnings ---------------------------------------------------------------------------------------
  { code: 'W001', title: 'a during range before --as-of', src: prog('  rule ⁁"Old" {\n    during 2020-01-01 to 2020-02-01\n    bonus 1 point\n  }'), message: 'ended before 2026-11-25', asOf: '2026-11-25' },
  { code: 'W001', title: 'days with no day in common', src: prog('  rule ⁁"Never" {\n    days sat\n    days mon\n    bonus 1 point\n  }'), message: 'can never apply' },
  { code: 'W001', title: 'during ranges that do not overlap', src: prog('  rule ⁁"Never" {\n    during 2026-01-01 to 2026-01-31\n    during 2026-03-01 to 2026-03-31\n    bonus 1 point\n  }'), message: 'do not overlap' },
  { code: 'W002', title: 'a multiplier without base', src: prog('  rule "M" {\n    ⁁multiplier 2x\n  }'), message: 'no base earning' },
  { code: 'W004', title: 'a discount shadowed by a larger one on everything', src: prog('  tiers {\n    tier A at 0 { ⁁discount 5% on category "coffee"  discount 10% on everything }\n  }'), message: 'never applies', hint: 'only the largest discount' },
  { code: 'W004', title: 'a club discount repeated', src: prog('  club "C" {\n    discount 8% on category "a", "b"\n    ⁁discount 8% on category "b"\n  }'), message: 'discount 8% on line 4' },
  { code: 'W004', title: 'a discount of 0%', src: prog('  club "C" { ⁁discount 0% on everything }'), message: 'takes nothing off', hint: 'above 0%' },
  { code: 'W003', title: 'a filter on excluded lines only', src: prog('  exclude category "gift"\n  rule "G" {\n    ⁁category "gift"\n    bonus 1 point\n  }'), message: 'excluded program-wide' },
];

describe('every diagnostic code', () => {
  it.each(CASES.map((c) => [`${c.code}: ${c.title}`, c] as const))('%s', (_, c) => {
    const { src, line, column } = mark(c.src);
    const r = compile(src, FILE, c.asOf ? { asOf: c.asOf } : {});
    const mine = r.diagnostics.filter((d) => d.code === c.code);
    expect(mine.length, `no ${c.code} in ${JSON.stringify(r.diagnostics, null, 1)}`).toBeGreaterThan(0);
    const d = mine.find((x) => x.line === line && x.column === column);
    expect(d, `${c.code} at ${line}:${column}; got ${mine.map((x) => `${x.line}:${x.column} ${x.message}`).join('; ')}`).toBeDefined();
    expect(d!.severity).toBe(c.code.startsWith('W') ? 'warning' : 'error');
    expect(d!.file).toBe(FILE);
    if (typeof c.message === 'string') expect(d!.message).toContain(c.message);
    else expect(d!.message).toMatch(c.message);
    if (c.hint !== undefined) {
      if (typeof c.hint === 'string') expect(d!.hint ?? '').toContain(c.hint);
      else expect(d!.hint ?? '').toMatch(c.hint);
    }
    // The span starts at the token and does not run backwards.
    expect(d!.endLine > d!.line || (d!.endLine === d!.line && d!.endColumn > d!.column)).toBe(true);
    // Errors stop compilation; warnings do not.
    if (d!.severity === 'error') expect(r.program).toBeUndefined();
    else {
      expect(errorsOf(r.diagnostics)).toEqual([]);
      expect(r.program).toBeDefined();
    }
  });

  it('the cases cover every code in CODES', () => {
    const covered = new Set(CASES.map((c) => c.code));
    const missing = Object.keys(CODES).filter((k) => !covered.has(k));
    expect(missing).toEqual([]);
  });

  it('every code a diagnostic carries is in CODES', () => {
    for (const c of CASES) for (const d of diagnose(mark(c.src).src, c.asOf)) expect(Object.keys(CODES)).toContain(d.code);
  });

  it('a rule with an unknown keyword and nothing else reports the keyword, not only a missing effect', () => {
    const ds = diagnose(prog('  base 1 point per 1 USD\n  rule "A" {\n    multipler 2x\n  }'));
    expect(ds.map((d) => d.code)).toContain('E004');
  });
});

// ---------------------------------------------------------------------------

describe('did you mean', () => {
  const hintOf = (src: string, code: string) => diagnose(src).find((d) => d.code === code)?.hint ?? '';

  it('multipler → multiplier', () => {
    expect(hintOf(prog('  base 1 point per 1 USD\n  rule "A" { multipler 2x }'), 'E004')).toMatch(/did you mean "multiplier"/);
  });
  it('Silvr → Silver', () => {
    const src = prog('  tiers {\n    tier Green at 0\n    tier Silver at 300 USD\n    tier Gold at 900 USD\n  }\n  rule "A" {\n    when member.tier >= Silvr\n    bonus 1 point\n  }');
    expect(hintOf(src, 'E050')).toMatch(/did you mean "Silver"/);
  });
  it('an unknown tier far from every tier lists the declared tiers', () => {
    const src = prog('  tiers {\n    tier Green at 0\n    tier Silver at 300 USD\n  }\n  rule "A" {\n    when member.tier >= Platinum\n    bonus 1 point\n  }');
    const h = hintOf(src, 'E050');
    expect(h).not.toMatch(/did you mean/);
    expect(h).toContain('Green');
    expect(h).toContain('Silver');
  });
  it('unknown club → the declared club', () => {
    const src = prog('  club "Bean Club" { multiplier 2x }\n  club "Tea Club" { multiplier 2x }\n  rule "A" {\n    when member.club "Bean Clu"\n    bonus 1 point\n  }');
    expect(hintOf(src, 'E051')).toMatch(/did you mean "Bean Club"/);
  });
  it('America/New_Yrok → America/New_York', () => {
    expect(hintOf(prog('  timezone "America/New_Yrok"'), 'E019')).toMatch(/did you mean "America\/New_York"/);
  });
  it('Europe/Londn → Europe/London', () => {
    expect(hintOf(prog('  timezone "Europe/Londn"'), 'E019')).toMatch(/did you mean "Europe\/London"/);
  });
  it('currency EUT → EUR and GPB → GBP', () => {
    expect(hintOf(`program "T" {\n  currency EUT\n}\n`, 'E012')).toMatch(/did you mean "EUR"/);
    expect(hintOf(`program "T" {\n  currency GPB\n}\n`, 'E012')).toMatch(/did you mean "GBP"/);
  });
  it('currency USX → USD', () => {
    expect(hintOf(`program "T" {\n  currency USX\n}\n`, 'E012')).toMatch(/did you mean "USD"/);
  });
  it('a money literal in USX → USD', () => {
    expect(hintOf(prog('  base 1 point per 1 USX'), 'E012')).toMatch(/did you mean "USD"/);
  });
  it('currency usd (lower case) → USD', () => {
    expect(hintOf(`program "T" {\n  currency usd\n}\n`, 'E012')).toMatch(/did you mean "USD"/);
  });
  it('misspelt keywords in several blocks', () => {
    expect(hintOf(`program "T" {\n  currncy USD\n}\n`, 'E004')).toMatch(/"currency"/);
    expect(hintOf(prog('  tiers { tier A at 0 { multipler 2x } }'), 'E004')).toMatch(/"multiplier"/);
    expect(hintOf(prog('  redeem { rat 1 point = 1 USD }'), 'E004')).toMatch(/"rate"/);
    expect(hintOf(prog('  expire { afer 1 day }'), 'E004')).toMatch(/"after"/);
    expect(hintOf(prog('  referral { referer 1 point }'), 'E004')).toMatch(/"referrer"|"referee"/);
  });
  it('a misspelt "points" (bonus 5 pints) is an unknown keyword with a hint', () => {
    const ds = diagnose(prog('  rule "A" { bonus 5 pints }'));
    const d = ds.find((x) => x.line === 3 && x.column === 22);
    expect(d, JSON.stringify(ds)).toBeDefined();
    expect(d!.code).toBe('E004');
    expect(d!.hint ?? '').toMatch(/"points"/);
  });
  it('no hint when nothing is close', () => {
    const d = diagnose(`program "T" {\n  currency QQQ\n}\n`).find((x) => x.code === 'E012')!;
    expect(d.hint ?? '').not.toMatch(/did you mean/);
  });
});

// ---------------------------------------------------------------------------

describe('all errors in one run', () => {
  const src = [
    'program "Many mistakes" {', //      1
    '  currency USD', //                 2
    '  timezone "Europe/Pariss"', //     3  E019
    '  base 1 point per 0 USD', //       4  E016
    '  rule "A" {', //                   5
    '    during 2026-12-24 to 2026-12-01', // 6  E030
    '    multiplier 0.5x', //            7  E042
    '  }', //                            8
    '  rule "B" {', //                   9
    '    hours 16:00 to 14:00', //       10 E032
    '    bonus 5 points', //             11
    '    extra 1 point per 1 USD', //    12 E041
    '  }', //                            13
    '  club "C" { discount 150% on category "x" }', // 14 E044
    '  tiers {', //                      15
    '    tier Green at 10 USD', //       16 E020
    '    tier Silver at 5 USD', //       17 E021
    '  }', //                            18
    '  rule "C" {', //                   19
    '    when member.tier >= Silvr', //  20 E050
    '    bonus 1 point', //              21
    '  }', //                            22
    '  on event "e" { bonus 1 point  limit once per order }', // 23 E046
    '  rule "D" {', //                   24
    '    category "x"', //               25
    '    ~', //                          26 E002
    '    bonus 1 point', //              27
    '  }', //                            28
    '}',
    '',
  ].join('\n');

  it('reports every mistake, each on its own line', () => {
    const errs = errorsOf(diagnose(src));
    const expected: [string, number][] = [
      ['E019', 3],
      ['E016', 4],
      ['E030', 6],
      ['E042', 7],
      ['E032', 10],
      ['E041', 12],
      ['E044', 14],
      ['E020', 16],
      ['E021', 17],
      ['E050', 20],
      ['E046', 23],
      ['E002', 26],
    ];
    for (const [code, line] of expected) {
      expect(errs.some((d) => d.code === code && d.line === line), `${code} on line ${line}; got ${errs.map((d) => `${d.code}@${d.line}`).join(' ')}`).toBe(true);
    }
    expect(new Set(errs.map((d) => d.code)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(errs.map((d) => d.line)).size).toBeGreaterThanOrEqual(5);
  });

  it('sorts diagnostics by position', () => {
    const ds = diagnose(src);
    for (let i = 1; i < ds.length; i++) {
      const a = ds[i - 1]!;
      const b = ds[i]!;
      expect(a.line < b.line || (a.line === b.line && a.column <= b.column)).toBe(true);
    }
  });

  it('a syntax error does not hide later checker errors', () => {
    const s = prog('  rule "A" { bonus 5 points ) }\n  rule "B" { multiplier 0.5x }\n  tiers { tier A at 5 USD }');
    const codes = diagnose(s).map((d) => d.code);
    expect(codes).toContain('E001');
    expect(codes).toContain('E042');
    expect(codes).toContain('E020');
  });
});

// ---------------------------------------------------------------------------

describe('unterminated strings', () => {
  it('point at the string and parsing goes on to report later errors', () => {
    const src = prog('  unit "Beans\n  rule "A" {\n    bonus 5 points\n  }\n  rule "B" {\n    multiplier 0.5x\n  }\n  tiers { tier A at 3 USD }');
    const ds = diagnose(src);
    const e3 = ds.find((d) => d.code === 'E003');
    expect(e3).toMatchObject({ line: 3, column: 8, endLine: 3, endColumn: 14 });
    expect(ds.some((d) => d.code === 'E042' && d.line === 8)).toBe(true);
    expect(ds.some((d) => d.code === 'E020' && d.line === 10)).toBe(true);
  });
  it('one ending in a backslash is still one unterminated string', () => {
    const ds = diagnose(prog('  unit "Beans\\\n  rule "A" { bonus 1 point }'));
    expect(ds.filter((d) => d.code === 'E003')).toHaveLength(1);
    expect(ds.find((d) => d.code === 'E003')).toMatchObject({ line: 3, column: 8 });
  });
  it('a string cannot run across lines', () => {
    const ds = diagnose(prog('  rule "A {\n    bonus 1 point\n  }'));
    expect(ds.some((d) => d.code === 'E003' && d.line === 3 && d.column === 8)).toBe(true);
  });
});

// ---------------------------------------------------------------------------

describe('rendering', () => {
  const src = prog('  base 1 point per 1 USD\n  rule "A" {\n    multiplier 0.5x\n  }');

  it('file:line:col: error CODE message, the source line, a caret line under the token', () => {
    const d = diagnose(src).find((x) => x.code === 'E042')!;
    expect(d).toMatchObject({ line: 5, column: 16, endLine: 5, endColumn: 20 });
    const out = renderDiagnostic(d, src).split('\n');
    expect(out[0]).toBe(`test.loyalty:5:16: error E042 ${d.message}`);
    expect(out[1]).toBe('5 |     multiplier 0.5x');
    const caretAt = out[2]!.indexOf('^');
    expect(out[2]!.slice(0, 4)).toBe('  | ');
    expect(caretAt).toBe(out[1]!.indexOf('0.5x'));
    expect(out[2]!.slice(caretAt)).toBe('^^^^');
    expect(out[3]).toBe(`hint: ${d.hint}`);
  });

  it('warnings render as warning', () => {
    const s = prog('  rule "M" {\n    multiplier 2x\n  }');
    const d = diagnose(s).find((x) => x.code === 'W002')!;
    expect(renderDiagnostic(d, s).split('\n')[0]).toBe(`test.loyalty:4:5: warning W002 ${d.message}`);
  });

  it('the caret lines up under a token on a line with tabs', () => {
    const s = 'program "T" {\n\tcurrency USD\n\trule "A" {\tbonus 5 points\tonce per day\t~ }\n}\n';
    const d = diagnose(s).find((x) => x.code === 'E002')!;
    expect(d).toMatchObject({ line: 3, column: s.split('\n')[2]!.indexOf('~') + 1 });
    const [, text, caret] = renderDiagnostic(d, s).split('\n');
    const prefix = '3 | ';
    expect(text!.startsWith(prefix)).toBe(true);
    // Same visual column: the lead before the caret keeps every tab.
    const lead = caret!.slice(prefix.length, caret!.indexOf('^'));
    expect(lead).toBe(text!.slice(prefix.length, text!.indexOf('~')).replace(/[^\t]/g, ' '));
  });

  it('a multi-digit line number widens the gutter of the caret line', () => {
    const body = Array.from({ length: 12 }, (_, i) => `  rule "R${i}" { bonus 1 point }`).join('\n');
    const s = prog(`${body}\n  rule "X" { bonus 5 points per item extra }`);
    const d = diagnose(s).find((x) => x.line === 15)!;
    const [, text, caret] = renderDiagnostic(d, s).split('\n');
    expect(text!.startsWith('15 | ')).toBe(true);
    expect(caret!.startsWith('   | ')).toBe(true);
    expect(caret!.indexOf('^')).toBe('15 | '.length + d.column - 1);
  });

  it('colour is off by default and on when asked', () => {
    const d = diagnose(src).find((x) => x.code === 'E042')!;
    expect(renderDiagnostic(d, src)).not.toContain('\x1b[');
    expect(renderDiagnostic(d, src, { color: true })).toContain('\x1b[31m');
  });
});

// ---------------------------------------------------------------------------

describe('the compiled program is deeply frozen', () => {
  const all = [...examplePrograms(), ...conformancePrograms()];

  function walk(v: unknown, path: string, seen: Set<unknown>, visit: (v: object, path: string) => void): void {
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    visit(v, path);
    if (v instanceof Map) for (const [k, x] of v) walk(x, `${path}.get(${JSON.stringify(k)})`, seen, visit);
    else if (v instanceof Set) for (const x of v) walk(x, `${path}{}`, seen, visit);
    else for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, seen, visit);
  }

  it('every object and array in it is frozen', () => {
    for (const f of all) {
      const p = mustCompile(f.source, f.path);
      walk(p, f.name, new Set(), (o, path) => expect(Object.isFrozen(o), path).toBe(true));
    }
  });

  it('assigning to it throws in strict mode', () => {
    const p = mustCompile(examplePrograms().find((f) => f.name.endsWith('coffee-chain.loyalty'))!.source) as { -readonly [K in keyof Program]: Program[K] };
    expect(() => {
      p.currency = 'EUR';
    }).toThrow(TypeError);
    expect(() => {
      (p.rules as unknown as unknown[]).push(1);
    }).toThrow(TypeError);
    expect(() => {
      (p.rules[0] as { name: string }).name = 'x';
    }).toThrow(TypeError);
    expect(p.currency).toBe('USD');
  });

  it('its Sets and Maps cannot be changed either', () => {
    for (const f of all) {
      const p = mustCompile(f.source, f.path);
      walk(p, f.name, new Set(), (o, path) => {
        if (o instanceof Set) {
          const before = [...o];
          try {
            o.add('__mutated__');
          } catch {
            /* refusing is fine */
          }
          try {
            o.clear();
          } catch {
            /* refusing is fine */
          }
          expect([...o], `${path} changed`).toEqual(before);
        } else if (o instanceof Map) {
          const before = [...o.entries()];
          try {
            o.set('__mutated__', 1);
          } catch {
            /* refusing is fine */
          }
          try {
            o.clear();
          } catch {
            /* refusing is fine */
          }
          expect([...o.entries()], `${path} changed`).toEqual(before);
        }
      });
    }
  });
});

// ---------------------------------------------------------------------------
// The spec's "these are the same" rules: the compiled programs are equal.

function expectSame(a: string, b: string): void {
  const pa = mustCompile(a);
  const pb = mustCompile(b);
  const { a: ca, b: cb } = sameMeaning(pa, pb, a + '\n' + b);
  expect(cb).toEqual(ca);
}
function expectDifferent(a: string, b: string): void {
  const pa = mustCompile(a);
  const pb = mustCompile(b);
  const { a: ca, b: cb } = sameMeaning(pa, pb, a + '\n' + b);
  expect(cb).not.toEqual(ca);
}

describe('spec equivalences', () => {
  it('point and points are interchangeable everywhere', () => {
    const a = prog(
      '  base 1 point per 1 USD\n  rule "A" { extra 2 point per 1 USD }\n  rule "B" { bonus 1 points }\n  rule "C" { bonus 5 point per item\n limit 10 point per day }\n' +
        '  on signup { bonus 1 points }\n  tiers { qualify point over 12 months\n tier A at 0\n tier B at 10 }\n  club "K" { bonus 1 points on join }\n' +
        '  referral { referrer 1 points  referee 7 point }\n  redeem { rate 1 points = 1 USD  min 1 points }',
    );
    const b = prog(
      '  base 1 points per 1 USD\n  rule "A" { extra 2 points per 1 USD }\n  rule "B" { bonus 1 point }\n  rule "C" { bonus 5 points per item\n limit 10 points per day }\n' +
        '  on signup { bonus 1 point }\n  tiers { qualify points over 12 months\n tier A at 0\n tier B at 10 }\n  club "K" { bonus 1 point on join }\n' +
        '  referral { referrer 1 point  referee 7 points }\n  redeem { rate 1 point = 1 USD  min 1 point }',
    );
    expectSame(a, b);
    expect(mustCompile(a).metric).toBe('points');
  });

  it('singular and plural durations are interchangeable', () => {
    for (const [one, many] of [
      ['day', 'days'],
      ['week', 'weeks'],
      ['month', 'months'],
      ['year', 'years'],
    ] as const) {
      const a = prog(`  tiers { qualify spend over 2 ${one}  tier A at 0  keep 1 ${many} }\n  referral { referee 1 point  within 3 ${one} }\n  expire { after 4 ${many} }`);
      const b = prog(`  tiers { qualify spend over 2 ${many}  tier A at 0  keep 1 ${one} }\n  referral { referee 1 point  within 3 ${many} }\n  expire { after 4 ${one} }`);
      expectSame(a, b);
      const p = mustCompile(a);
      expect(p.window).toEqual({ kind: 'rolling', duration: { amount: 2, unit: one } });
      expect(p.keep).toEqual({ amount: 1, unit: one });
      expect(p.expire?.after).toEqual({ amount: 4, unit: one });
    }
  });

  it('20USD is 20 USD', () => {
    const a = prog('  base 1 point per 1USD\n  rule "A" {\n    when order.total >= 20USD\n    extra 1 point per 2.50USD\n  }\n  tiers { tier A at 0USD  tier B at 300USD }\n  referral { referee 1 point  min order 10USD }\n  redeem { rate 100 points = 1USD }');
    const b = prog('  base 1 point per 1 USD\n  rule "A" {\n    when order.total >= 20 USD\n    extra 1 point per 2.50 USD\n  }\n  tiers { tier A at 0 USD  tier B at 300 USD }\n  referral { referee 1 point  min order 10 USD }\n  redeem { rate 100 points = 1 USD }');
    expectSame(a, b);
    expect(mustCompile(a).tiers[1]!.threshold).toBe(30000);
  });

  it('a club fee written 49USD reads the same as 49 USD (fee text included)', () => {
    const a = mustCompile(prog('  club "K" { fee 49USD per year }'));
    const b = mustCompile(prog('  club "K" { fee 49 USD per year }'));
    expect(a.clubs[0]!.fee).toEqual(b.clubs[0]!.fee);
    expect(a.clubs[0]!.fee!.amount).toBe(4900);
  });

  it('a tab may separate the amount from the currency, a newline may not', () => {
    expectSame(prog('  base 1 point per 1\tUSD'), prog('  base 1 point per 1 USD'));
    expect(errorsOf(diagnose(prog('  base 1 point per 1\n USD'))).length).toBeGreaterThan(0);
  });

  it('# and // comments are ignored, also at the ends of lines and between tokens', () => {
    const plain = prog('  base 1 point per 1 USD\n  rule "A" {\n    category "x"\n    multiplier 2x\n  }');
    const commented =
      '# leading\n// another\nprogram "T" { // after the brace\n  currency USD # money\n  base 1 point # in the middle\n per 1 USD\n' +
      '  rule "A" {\n    category "x"// tight\n    multiplier 2x#tight\n  } # closing\n}\n# trailing\n// trailing';
    expectSame(plain, commented);
  });

  it('# and // inside a string are not comments', () => {
    const p = mustCompile(prog('  rule "A # not a comment // either" {\n    category "a#b", "c//d"\n    bonus 1 point\n  }'));
    expect(p.rules[0]!.name).toBe('A # not a comment // either');
    expect(p.rules[0]!.matches!('a#b', 'any')).toBe(true);
    expect(p.rules[0]!.matches!('c//d', 'any')).toBe(true);
    expect(p.rules[0]!.matches!('a', 'any')).toBe(false);
  });

  it('string escapes \\" and \\\\', () => {
    const p = mustCompile(prog('  unit "\\"Beans\\""\n  rule "say \\"hi\\" \\\\o/" {\n    category "a\\"b", "c\\\\d"\n    bonus 1 point\n  }'));
    expect(p.unit).toBe('"Beans"');
    expect(p.rules[0]!.name).toBe('say "hi" \\o/');
    expect(p.rules[0]!.matches!('a"b', 'x')).toBe(true);
    expect(p.rules[0]!.matches!('c\\d', 'x')).toBe(true);
    expect(p.rules[0]!.matches!('a\\"b', 'x')).toBe(false);
  });

  it('once per day == limit once per day == limit 1 times per day == limit 1 time per day', () => {
    const r = (lim: string) => prog(`  rule "A" {\n    bonus 5 points\n    ${lim}\n  }`);
    const base = r('once per day');
    for (const other of ['limit once per day', 'limit 1 times per day', 'limit 1 time per day']) expectSame(base, r(other));
    expect(mustCompile(base).rules[0]!.limit).toEqual({ unit: 'times', amount: 1, period: 'day' });
    expectDifferent(base, r('limit 1 point per day'));
    expectDifferent(base, r('once per week'));
  });

  it('every limit period compiles', () => {
    for (const period of ['order', 'day', 'week', 'month', 'year', 'member']) {
      const p = mustCompile(prog(`  rule "A" {\n    bonus 5 points\n    limit 3 times per ${period}\n  }\n  on event "e" { bonus 1 point  limit 50 points per ${period === 'order' ? 'day' : period} }`));
      expect(p.rules[0]!.limit).toEqual({ unit: 'times', amount: 3, period });
    }
  });

  it('whitespace and newlines between tokens are insignificant', () => {
    const a = prog('  rule "A" {\n    when order.total >= 20 USD and not first order\n    bonus 5 points\n  }');
    const b = 'program\n"T"\n{currency\nUSD\nrule\n"A"{when\norder\n.\ntotal>=20 USD\nand\nnot\nfirst\norder\nbonus\n5\npoints}}';
    expectSame(a, b);
  });

  it('settings have their defaults', () => {
    const p = mustCompile(prog('  rule "A" { bonus 1 point }'));
    expect(p.timezone).toBe('UTC');
    expect(p.unit).toBe('points');
    expect(p.base).toBeNull();
    expect(p.tiers).toEqual([]);
    expect(p.metric).toBeNull();
    expect(p.redeem).toBeNull();
    expect(p.hasRedeem).toBe(false);
  });

  it('tiers without qualify qualify on spend over lifetime', () => {
    const p = mustCompile(prog('  tiers { tier A at 0  tier B at 10 USD }'));
    expect(p.metric).toBe('spend');
    expect(p.window).toEqual({ kind: 'lifetime' });
    expect(p.tiers.map((t) => t.threshold)).toEqual([0, 1000]);
  });

  it('a bare 0 is fine as the first threshold whatever the metric', () => {
    for (const q of ['qualify spend', 'qualify points', 'qualify orders']) {
      const next = q === 'qualify spend' ? '5 USD' : '5';
      expect(errorsOf(diagnose(prog(`  tiers { ${q}  tier A at 0  tier B at ${next} }`)))).toEqual([]);
    }
  });

  it('minor units follow the currency: JPY 0, KWD 3, USD 2', () => {
    expect(mustCompile(prog('  base 1 point per 500 JPY', 'currency JPY')).currencyExponent).toBe(0);
    expect(mustCompile(prog('  base 1 point per 1.250 KWD', 'currency KWD')).currencyExponent).toBe(3);
    expect(errorsOf(diagnose(prog('  base 1 point per 1.2505 KWD', 'currency KWD'))).map((d) => d.code)).toEqual(['E018']);
    expect(errorsOf(diagnose(prog('  rule "A" {\n    when order.total >= 9.5 JPY\n    bonus 1 point\n  }', 'currency JPY'))).map((d) => d.code)).toEqual(['E018']);
  });

  it('multiplier 1x is allowed; 0.99x is not', () => {
    expect(errorsOf(diagnose(prog('  base 1 point per 1 USD\n  rule "A" { multiplier 1x }')))).toEqual([]);
    expect(errorsOf(diagnose(prog('  base 1 point per 1 USD\n  rule "A" { multiplier 0.99x }'))).map((d) => d.code)).toEqual(['E042']);
  });

  it('discount 100% and max 100% of order are allowed', () => {
    expect(errorsOf(diagnose(prog('  club "C" { discount 100% on category "a" }\n  redeem { rate 1 point = 1 USD  max 100% of order }')))).toEqual([]);
  });

  it('hours may end at 24:00', () => {
    expect(errorsOf(diagnose(prog('  rule "A" {\n    hours 22:00 to 24:00\n    bonus 1 point\n  }')))).toEqual([]);
  });

  it('2024-02-29 exists and 2026-02-29 does not', () => {
    expect(errorsOf(diagnose(prog('  rule "A" {\n    during 2024-02-29 to 2024-03-01\n    bonus 1 point\n  }')))).toEqual([]);
    expect(errorsOf(diagnose(prog('  rule "A" {\n    during 2026-02-29 to 2026-03-01\n    bonus 1 point\n  }'))).map((d) => d.code)).toEqual(['E031']);
  });

  it('an event with no on event section is no error; one on event per name', () => {
    expect(errorsOf(diagnose(prog('  on event "a" { bonus 1 point }\n  on event "b" { bonus 1 point }')))).toEqual([]);
    expect(errorsOf(diagnose(prog('  on event "a" { bonus 1 point }\n  on event "a" { bonus 2 points }'))).map((d) => d.code)).toEqual(['E015']);
    expect(errorsOf(diagnose(prog('  on signup { bonus 1 point }\n  on signup { bonus 2 points }'))).map((d) => d.code)).toEqual(['E014']);
  });

  it('several clubs may be declared', () => {
    const p = mustCompile(prog('  club "A" { multiplier 2x }\n  club "B" { fee 1 USD per month }\n  club "C" { }'));
    expect(p.clubs.map((c) => c.name)).toEqual(['A', 'B', 'C']);
    expect([...p.clubIndex.entries()]).toEqual([
      ['A', 0],
      ['B', 1],
      ['C', 2],
    ]);
  });
});

// ---------------------------------------------------------------------------
// What the compiled closures answer (dsl.md 2.2 and 2.8).

function facts(over: Partial<OrderFacts> = {}): OrderFacts {
  return { total: 0, items: 0, channel: null, tier: -1, clubs: [], firstOrder: false, localDay: 20_000, weekday: 0, msOfDay: 0, ...over };
}

describe('compiled filters and conditions', () => {
  it('filters: union of category lists, union of sku lists, minus excludes', () => {
    const p = mustCompile(prog('  rule "A" {\n    category "a"\n    category "b", "c"\n    sku "S1"\n    sku "S2"\n    exclude sku "S2"\n    exclude category "c"\n    bonus 1 point\n  }'));
    const m = p.rules[0]!.matches!;
    expect(m('a', 'S1')).toBe(true);
    expect(m('b', 'S1')).toBe(true);
    expect(m('c', 'S1')).toBe(false);
    expect(m('a', 'S2')).toBe(false);
    expect(m('d', 'S1')).toBe(false);
    expect(m('a', 'S3')).toBe(false);
  });

  it('a rule without filters has matches null, without conditions has condition null', () => {
    const p = mustCompile(prog('  rule "A" { bonus 1 point }'));
    expect(p.rules[0]!.matches).toBeNull();
    expect(p.rules[0]!.condition).toBeNull();
  });

  it('not binds tighter than and, and tighter than or', () => {
    const p = mustCompile(
      prog(
        '  club "Oat Club" { }\n  rule "A" {\n    when order.items >= 5 or order.channel == "kiosk" and not member.club "Oat Club"\n    bonus 1 point\n  }\n' +
          '  rule "B" {\n    when not first order and first order\n    bonus 1 point\n  }\n' +
          '  rule "C" {\n    when (order.items >= 5 or order.channel == "kiosk") and not member.club "Oat Club"\n    bonus 1 point\n  }',
      ),
    );
    const [a, b, c] = p.rules.map((r) => r.condition!);
    // items >= 5 alone is enough for A even in the club, but not for C.
    expect(a!(facts({ items: 5, clubs: [true] }))).toBe(true);
    expect(c!(facts({ items: 5, clubs: [true] }))).toBe(false);
    expect(a!(facts({ channel: 'kiosk', clubs: [true] }))).toBe(false);
    expect(a!(facts({ channel: 'kiosk', clubs: [false] }))).toBe(true);
    // (not first) and first is never true; not (first and first) would be.
    expect(b!(facts({ firstOrder: false }))).toBe(false);
    expect(b!(facts({ firstOrder: true }))).toBe(false);
  });

  it('a missing channel: == is false and != is true', () => {
    const p = mustCompile(prog('  rule "A" {\n    when order.channel == "app"\n    bonus 1 point\n  }\n  rule "B" {\n    when order.channel != "app"\n    bonus 1 point\n  }'));
    expect(p.rules[0]!.condition!(facts({ channel: null }))).toBe(false);
    expect(p.rules[1]!.condition!(facts({ channel: null }))).toBe(true);
    expect(p.rules[0]!.condition!(facts({ channel: 'app' }))).toBe(true);
    expect(p.rules[1]!.condition!(facts({ channel: 'app' }))).toBe(false);
  });

  it('order.total compares in minor units; member.tier by tier order', () => {
    const p = mustCompile(prog('  tiers { tier A at 0  tier B at 10 USD  tier C at 20 USD }\n  rule "R" {\n    when order.total >= 20.50 USD and member.tier > B\n    bonus 1 point\n  }\n  rule "S" {\n    when C <= member.tier\n    bonus 1 point\n  }'));
    const r = p.rules[0]!.condition!;
    expect(r(facts({ total: 2050, tier: 2 }))).toBe(true);
    expect(r(facts({ total: 2049, tier: 2 }))).toBe(false);
    expect(r(facts({ total: 2050, tier: 1 }))).toBe(false);
    expect(p.rules[1]!.condition!(facts({ tier: 2 }))).toBe(true);
    expect(p.rules[1]!.condition!(facts({ tier: 1 }))).toBe(false);
  });

  it('during is inclusive; hours start inclusive, end exclusive; 24:00 ends the day', () => {
    const p = mustCompile(prog('  rule "D" {\n    during 2026-12-01 to 2026-12-24\n    bonus 1 point\n  }\n  rule "H" {\n    hours 14:00 to 16:00\n    bonus 1 point\n  }\n  rule "N" {\n    hours 22:00 to 24:00\n    bonus 1 point\n  }\n  rule "W" {\n    days sat, sun\n    bonus 1 point\n  }'));
    const day = (s: string) => Math.round(Date.parse(s + 'T00:00:00Z') / 86_400_000);
    const [d, h, n, w] = p.rules.map((r) => r.condition!);
    expect(d!(facts({ localDay: day('2026-12-01') }))).toBe(true);
    expect(d!(facts({ localDay: day('2026-12-24') }))).toBe(true);
    expect(d!(facts({ localDay: day('2026-11-30') }))).toBe(false);
    expect(d!(facts({ localDay: day('2026-12-25') }))).toBe(false);
    expect(h!(facts({ msOfDay: 14 * 3_600_000 }))).toBe(true);
    expect(h!(facts({ msOfDay: 16 * 3_600_000 - 1 }))).toBe(true);
    expect(h!(facts({ msOfDay: 16 * 3_600_000 }))).toBe(false);
    expect(h!(facts({ msOfDay: 14 * 3_600_000 - 1 }))).toBe(false);
    expect(n!(facts({ msOfDay: 86_400_000 - 1 }))).toBe(true);
    expect(w!(facts({ weekday: 5 }))).toBe(true);
    expect(w!(facts({ weekday: 6 }))).toBe(true);
    expect(w!(facts({ weekday: 4 }))).toBe(false);
    expect(p.rules.every((r) => r.usesLocalTime)).toBe(true);
  });

  it('two conditions of the same kind must both hold', () => {
    const p = mustCompile(prog('  rule "A" {\n    hours 10:00 to 14:00\n    hours 12:00 to 16:00\n    bonus 1 point\n  }'));
    const c = p.rules[0]!.condition!;
    expect(c(facts({ msOfDay: 11 * 3_600_000 }))).toBe(false);
    expect(c(facts({ msOfDay: 13 * 3_600_000 }))).toBe(true);
    expect(c(facts({ msOfDay: 15 * 3_600_000 }))).toBe(false);
  });

  it('rates are points per minor unit', () => {
    const p = mustCompile(prog('  base 10 points per 1 MXN\n  rule "A" { extra 1 point per 10 MXN }', 'currency MXN'));
    expect(p.base!.rate).toEqual({ n: 1, d: 10 });
    expect(p.rules[0]!.effect).toEqual({ kind: 'extra', rate: { n: 1, d: 1000 } });
  });
});

// ---------------------------------------------------------------------------

describe('numbers the compiler cannot represent are errors, not internal errors', () => {
  const cases: [string, string][] = [
    ['a base rate with ten decimals', prog('  base 1.0000000001 points per 1 USD')],
    ['an extra rate of 10^20 points', prog('  rule "A" { extra 99999999999999999999 points per 1 USD }')],
    ['a when number of 10^20', prog('  rule "A" {\n    when order.items >= 99999999999999999999\n    bonus 1 point\n  }')],
    ['a when number with ten decimals', prog('  rule "A" {\n    when order.items >= 1.0000000001\n    bonus 1 point\n  }')],
    ['a discount with eleven decimals', prog('  club "C" { discount 10.00000000001% on category "a" }')],
    ['a redemption max of 10^20 %', prog('  redeem {\n    rate 1 point = 1 USD\n    max 99999999999999999999% of order\n  }')],
  ];
  it.each(cases)('%s', (_, src) => {
    const r = compile(src, FILE);
    expect(r.diagnostics.map((d) => d.code)).not.toContain('E999');
    // Either it is refused with a positioned error, or it compiles to exact values.
    if (r.program) {
      const p = r.program;
      for (const c of p.clubs) for (const d of c.discounts) expect(d.percent).not.toBeNull();
      if (p.redeem && /max/.test(src)) expect(p.redeem.maxPercent).not.toBeNull();
    } else expect(errorsOf(r.diagnostics).every((d) => d.line > 1)).toBe(true);
  });
});

describe('canonical form (test helper)', () => {
  it('tells programs apart that differ only inside a closure', () => {
    const a = mustCompile(prog('  rule "A" {\n    when order.total >= 20 USD\n    bonus 1 point\n  }'));
    const b = mustCompile(prog('  rule "A" {\n    when order.total > 20 USD\n    bonus 1 point\n  }'));
    const probes = probesFor(a.source, a);
    expect(canonical(a, probes)).not.toEqual(canonical(b, probes));
  });
  it('tells programs apart that differ only in a filter', () => {
    expectDifferent(prog('  rule "A" {\n    category "a"\n    bonus 1 point\n  }'), prog('  rule "A" {\n    exclude category "a"\n    bonus 1 point\n  }'));
  });
});

describe('an over-precise multiplier', () => {
  it('is refused, but not as "below 1x" (1.00000000001x is above 1x)', () => {
    const ds = errorsOf(diagnose(prog('  base 1 point per 1 USD\n  rule "A" { multiplier 1.00000000001x }')));
    expect(ds.length).toBeGreaterThan(0);
    for (const d of ds) expect(d.message).not.toMatch(/below 1x/);
  });
});

// ---------------------------------------------------------------------------

describe('rewards catalog (dsl.md 2.9)', () => {
  const src = prog(
    '  tiers {\n    tier Member at 0\n    tier Silver at 50 USD\n  }\n  club "Plus" { fee 5 USD per month }\n' +
      '  reward "Free latte" {\n    cost 450 points\n    when member.tier >= Silver\n    when not member.club "Plus" or member.tier == Silver\n    limit 1 times per month\n    value 4.50 USD\n  }\n' +
      '  reward "Sticker" { cost 100 points  once per member }\n  reward "Mug" { cost 1 point }',
  );
  it('compiles into Program.rewards, in source order, with their cost, conditions, limit and value', () => {
    const p = mustCompile(src);
    expect(p.rewards.map((r) => r.name)).toEqual(['Free latte', 'Sticker', 'Mug']);
    expect([...p.rewardIndex.entries()]).toEqual([['Free latte', 0], ['Sticker', 1], ['Mug', 2]]);
    const [latte, sticker, mug] = p.rewards;
    expect(latte!.rule).toBe('reward:Free latte');
    expect(latte!.cost).toBe(450);
    expect(latte!.value).toBe(450);
    expect(latte!.limit).toEqual({ amount: 1, period: 'month' });
    expect(latte!.conditions.map((c) => c.text)).toEqual(['member.tier >= Silver', 'not member.club "Plus" or member.tier == Silver']);
    expect(latte!.conditions[0]!.test({ tier: 0, clubs: [false] })).toBe(false);
    expect(latte!.conditions[0]!.test({ tier: 1, clubs: [false] })).toBe(true);
    expect(latte!.conditions[1]!.test({ tier: 0, clubs: [true] })).toBe(false);
    expect(sticker!.limit).toEqual({ amount: 1, period: 'member' });
    expect(mug!.limit).toBeNull();
    expect(mug!.value).toBeNull();
    expect(mug!.conditions).toEqual([]);
  });
  it('reward, cost and value inside a string are not keywords', () => {
    expect(errorsOf(diagnose(prog('  rule "value cost reward" { bonus 1 point }')))).toEqual([]);
  });
  it('every reward error is reported in one run', () => {
    const codes = errorsOf(diagnose(prog('  reward "A" { cost 0 points  limit 1 points per order  when order.items > 2 }\n  reward "A" { value 1 USD  value 2 USD }'))).map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['E063', 'E046', 'E053', 'E015', 'E060', 'E061']));
  });
});

// ---------------------------------------------------------------------------

describe('challenges (dsl.md 2.10)', () => {
  const src = prog(
    '  exclude category "gift-card"\n' +
      '  challenge "Three visits a week" {\n    orders 3 per week\n    category "coffee", "tea"\n    exclude sku "DECAF"\n    bonus 100 points\n  }\n' +
      '  challenge "Big month" { spend 50.25 USD per month  bonus 200 points }\n  challenge "First pastry" { orders 1 per member  category "pastry"  bonus 50 points }',
  );
  it('compiles into Program.challenges, in source order, with goal, filters and bonus', () => {
    const p = mustCompile(src);
    expect(p.challenges.map((c) => c.name)).toEqual(['Three visits a week', 'Big month', 'First pastry']);
    const [visits, month, pastry] = p.challenges;
    expect(visits!.rule).toBe('challenge:Three visits a week');
    expect(visits!.goal).toEqual({ metric: 'orders', amount: 3, period: 'week', text: 'orders 3 per week' });
    expect(visits!.bonus).toBe(100);
    expect(visits!.bonusLine).toBe(8);
    expect(visits!.matches!('coffee', 'LATTE')).toBe(true);
    expect(visits!.matches!('tea', 'DECAF')).toBe(false);
    expect(visits!.matches!('pastry', 'SCONE')).toBe(false);
    expect(month!.goal).toEqual({ metric: 'spend', amount: 5025, period: 'month', text: 'spend 50.25 USD per month' });
    expect(month!.matches).toBeNull();
    expect(pastry!.goal.period).toBe('member');
  });
  it('challenge, orders and spend inside a string are not keywords', () => {
    expect(errorsOf(diagnose(prog('  rule "challenge orders spend" { bonus 1 point }')))).toEqual([]);
  });
  it('every challenge error is reported in one run', () => {
    const codes = errorsOf(diagnose(prog('  challenge "A" { orders 0 per order  bonus 5 points per item  bonus 0 points }\n  challenge "A" { category "x" }\n  challenge "B" { spend 1 USD per week  orders 2 per day  bonus 1 point }'))).map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['E064', 'E065', 'E066', 'E061', 'E015', 'E060']));
    expect(codes.filter((c) => c === 'E060')).toHaveLength(2); // "A" again: no goal, no bonus
  });
});
