// Scalars, money, and the error types shared by every domain type.
import { GraphQLError, Kind } from 'graphql';
import { parseInstant, renderDiagnostic, type Diagnostic } from '../../engine.ts';
import { EventRefusedError, ProgramInvalidError } from '../../services/errors.ts';
import { KEYS, KEYS_AND_MEMBERS } from '../access.ts';
import { builder } from '../builder.ts';

/** ISO 8601 in UTC with `Z`, whole seconds unless the instant has milliseconds. */
export function isoInstant(value: Date | number | string): string {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/** The input as given, once the engine's instant parser accepts it. */
function checkedInstant(text: string): string {
  const parsed = parseInstant(text);
  if (parsed.ok) return text;
  throw new GraphQLError(`DateTime ${JSON.stringify(text)} ${parsed.error}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.scalarType('DateTime', {
  description:
    'An instant. Output: ISO 8601 in UTC (`2026-03-01T09:30:00Z`). Input: `YYYY-MM-DDTHH:MM[:SS[.fff]]` then `Z` or `±HH:MM`.',
  serialize: (value) => isoInstant(value),
  parseValue: (value) => {
    if (typeof value !== 'string') throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return checkedInstant(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return checkedInstant(ast.value);
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function literal(ast): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map((v) => literal(v));
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        throw new GraphQLError('JSON literals cannot hold variables', { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

export interface MoneyShape {
  minor: number;
  currency: string;
  exponent: number;
}

export function money(minor: number, program: { currency: string; currencyExponent: number }): MoneyShape {
  return { minor, currency: program.currency, exponent: program.currencyExponent };
}

export function formatMoney(m: MoneyShape): string {
  const sign = m.minor < 0 ? '-' : '';
  const digits = String(Math.abs(m.minor)).padStart(m.exponent + 1, '0');
  return m.exponent === 0 ? sign + digits : `${sign}${digits.slice(0, -m.exponent)}.${digits.slice(-m.exponent)}`;
}

export const Money = builder.objectRef<MoneyShape>('Money').implement({
  authScopes: KEYS_AND_MEMBERS,
  description: 'An exact amount of money in the program currency.',
  fields: (t) => ({
    amount: t.string({ description: 'Decimal string, e.g. "4.50".', resolve: (m) => formatMoney(m) }),
    minorUnits: t.int({ description: 'Integer minor units (cents for USD).', resolve: (m) => m.minor }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code.' }),
  }),
});

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  authScopes: KEYS,
  description: 'An expected failure; query `message` on any of them.',
  fields: (t) => ({ message: t.exposeString('message', { description: 'What went wrong, for a person to read.' }) }),
});

builder.objectType(EventRefusedError, {
  authScopes: KEYS,
  name: 'EventRefused',
  description: 'The engine refused the event: nothing about it was written (entries that fell due before it were).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    code: t.string({ description: 'A stable code to act on (see docs/api.md).', resolve: () => 'EVENT_REFUSED' }),
  }),
});

export const DiagnosticRef = builder.objectRef<Diagnostic & { source: string }>('Diagnostic').implement({
  authScopes: KEYS,
  description: 'A compiler error or warning with its 1-based position.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'A stable code, e.g. "E_UNKNOWN_TIER" (docs/dsl.md lists them).' }),
    severity: t.string({ description: '"error" or "warning".', resolve: (d) => d.severity }),
    file: t.exposeString('file', { description: 'The file name the program was checked as.' }),
    line: t.exposeInt('line', { description: 'First line of the span, from 1.' }),
    column: t.exposeInt('column', { description: 'First column of the span, from 1.' }),
    endLine: t.exposeInt('endLine', { description: 'Last line of the span, from 1.' }),
    endColumn: t.exposeInt('endColumn', { description: 'Column after the span, from 1.' }),
    message: t.exposeString('message', { description: 'What is wrong.' }),
    hint: t.string({ nullable: true, description: 'How to fix it, when the compiler knows.', resolve: (d) => d.hint ?? null }),
    rendered: t.string({
      description: 'The diagnostic as `loyalty check` prints it: position, message, source line and caret.',
      resolve: ({ source, ...d }) => renderDiagnostic(d, source, { color: false }),
    }),
  }),
});

export function withSource(diagnostics: readonly Diagnostic[], source: string) {
  return diagnostics.map((d) => ({ ...d, source }));
}

builder.objectType(ProgramInvalidError, {
  authScopes: KEYS,
  name: 'ProgramInvalid',
  description: 'The program does not compile; nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    diagnostics: t.field({ type: [DiagnosticRef], description: 'Errors and warnings, in source order.', resolve: (e) => withSource(e.diagnostics, e.source) }),
  }),
});

/** Connection `first` as a complexity multiplier. */
export const pageComplexity = (args: { first?: number | null; last?: number | null }) => ({
  field: 1,
  multiplier: Math.max(1, Math.min(100, args.first ?? args.last ?? 20)),
});
