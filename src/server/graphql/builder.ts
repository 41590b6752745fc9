// Configures the Pothos builder and its plugins; types live in graphql/types/.
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type PrismaTypes from '../../generated/pothos-prisma-types.ts';
import { getDatamodel } from '../../generated/pothos-prisma-types.ts';
import { DomainError } from '../services/errors.ts';
import { forbidden, scopesOf, type AccessScopes } from './access.ts';
import type { Context } from './context.ts';

/** The cost one operation may have (connection page sizes multiply; see graphql/cost.ts for input sizes). */
export const COMPLEXITY_LIMIT = 25_000;

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: Context;
  AuthScopes: AccessScopes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: string; Output: Date | number | string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Scope checks first, so that no other plugin's wrapper runs for a refused field.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ComplexityPlugin, PrismaPlugin, RelayPlugin],
  scopeAuth: {
    authScopes: scopesOf,
    unauthorizedError: (_parent, ctx, info) => forbidden(ctx, info),
  },
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    defaultConnectionSize: 20,
    maxConnectionSize: 100,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // `edges` repeats what the connection's `first` already multiplies (pageComplexity).
    edgesFieldOptions: { nullable: false, complexity: { field: 0, multiplier: 1 } },
    nodeFieldOptions: { nullable: false },
  },
  errors: {
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${upperFirst(fieldName)}Result`,
    },
  },
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: { complexity: COMPLEXITY_LIMIT, depth: 12, breadth: 300 },
    complexityError: (kind, result) => {
      // kind is "Complexity", "Depth" or "Breadth"; result has `complexity` and `maxComplexity`, ...
      const measure = kind.toLowerCase() as 'complexity' | 'depth' | 'breadth';
      const limit = result[`max${kind}` as 'maxComplexity'] ?? null;
      return new DomainError('COST_LIMIT_EXCEEDED', `the operation's ${measure} is ${result[measure]}, over the limit of ${limit}`, {
        measure,
        value: result[measure],
        limit,
      });
    },
  },
});

builder.queryType({});
builder.mutationType({});
