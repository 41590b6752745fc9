// Expected failures. Services throw these: the typed ones become members of
// result unions; DomainErrors are GraphQLErrors carrying `extensions.code`,
// which error masking lets through. Anything else is a bug: masked and logged.
import { GraphQLError } from 'graphql';
import type { Diagnostic, Refusal } from '../engine.ts';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'COST_LIMIT_EXCEEDED'
  | 'SERVICE_UNAVAILABLE'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'NO_ACTIVE_PROGRAM'
  | 'CURRENCY_CHANGE'
  | 'IDEMPOTENCY_CONFLICT'
  | 'WRITE_CONFLICT';

/** An expected failure reported as a GraphQL error with `extensions.code`. */
export class DomainError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...details } });
  }
}

/** The program does not compile; nothing was changed. A typed result. */
export class ProgramInvalidError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], readonly source: string) {
    super(`the program has ${diagnostics.filter((d) => d.severity === 'error').length} error(s)`);
    this.name = 'ProgramInvalidError';
  }
}

/** The engine refused the event (unknown member, too few points...). A typed result. */
export class EventRefusedError extends Error {
  constructor(
    readonly refusal: Refusal,
    /** The program's currency, for the figures that are money. */
    readonly currency: { currency: string; currencyExponent: number },
  ) {
    super(refusal.message);
    this.name = 'EventRefusedError';
  }
}
