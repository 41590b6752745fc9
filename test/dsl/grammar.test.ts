// The lexer and parser run with Chevrotain's validations off (to start
// faster); here they are built with them on, so a grammar mistake (an
// ambiguity, an unreachable token) fails a test instead.
import { describe, expect, it } from 'vitest';
import { validatedLexer } from '../../dsl/lexer.ts';
import { LoyaltyParser } from '../../dsl/parser.ts';

describe('grammar', () => {
  it('passes Chevrotain’s token validations', () => {
    expect(validatedLexer().lexerDefinitionErrors).toEqual([]);
  });
  it('passes Chevrotain’s grammar validations (no ambiguity, no left recursion)', () => {
    expect(() => new LoyaltyParser(true)).not.toThrow();
  });
});
