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
    edgesFieldOptions: {
      nullable: false,
      complexity: { field: 0, multiplier: 1 },
      description: 'The items of this page, each with its cursor.',
    },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Pass as `after` to get the items after this one.' },
    pageInfoFieldOptions: { description: 'Where this page is in the whole list.' },
    pageInfoTypeOptions: { description: 'Relay page information: whether there are more items, and the cursors at both ends.' },
    hasNextPageFieldOptions: { description: 'True when items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'True when items come before this page.' },
    startCursorFieldOptions: { description: 'The cursor of the first item on this page.' },
    endCursorFieldOptions: { description: 'The cursor of the last item on this page: pass it as `after` for the next page.' },
    firstArgOptions: { description: 'At most this many items (default 20, at most 100).' },
    afterArgOptions: { description: 'Only items after this cursor (`endCursor` of the previous page).' },
    lastArgOptions: { description: 'At most this many items, counted from the end.' },
    beforeArgOptions: { description: 'Only items before this cursor.' },
    defaultConnectionTypeOptions: { description: 'A page of a list (a Relay connection).' },
    defaultEdgeTypeOptions: { description: 'One item of a page and its cursor.' },
  },
  errors: {
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${upperFirst(fieldName)}Result`,
      description: 'The result of the operation: its payload, or the typed error that says why nothing was done.',
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

builder.queryType({ description: 'Reads. Every query sees only the merchant of the credential that calls it.' });
builder.mutationType({ description: 'Writes. Each mutation is one transaction for the merchant of the key that calls it.' });
builder.subscriptionType({ description: 'Live feeds over Server-Sent Events (`Accept: text/event-stream`), for the merchant of the credential that calls.' });
