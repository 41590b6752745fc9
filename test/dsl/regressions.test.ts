// Mistakes found in review, kept from coming back.
import { describe, expect, it } from 'vitest';
import { compile } from '../../dsl/index.ts';

const codes = (src: string) => compile(src, 't.loyalty').diagnostics.map((d) => [d.code, d.line, d.column, d.hint ?? '']);

describe('checker regressions', () => {
  it('requires a condition at the top of a when', () => {
    expect(codes('program "T" {\n  currency USD\n  rule "R" {\n    when order.total\n    bonus 5 points\n  }\n}')).toEqual([['E052', 4, 10, 'compare it, e.g. when order.total >= 20 USD']]);
    expect(codes('program "T" {\n  currency USD\n  rule "R" {\n    when (order.channel)\n    bonus 5 points\n  }\n}')[0]?.[0]).toBe('E052');
  });
  it('suggests the currency code a lower-case one means', () => {
    expect(codes('program "T" {\n  currency usd\n}')).toEqual([['E012', 2, 12, 'did you mean "USD"?']]);
  });
  it('warns that a rule with a limit of 0 never applies', () => {
    expect(codes('program "T" {\n  currency USD\n  rule "R" {\n    bonus 5 points\n    limit 0 times per day\n  }\n}').map((d) => d[0])).toEqual(['W001']);
  });
});
