// The GraphQL server as a fetch handler: `app.fetch(request)` in tests,
// node:http in server.ts. Masks unexpected errors, maps expected ones to
// `extensions.code`, and limits depth, aliases, tokens, cost and body size.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Database } from './db/index.ts';
import { createContext, type Context } from './graphql/context.ts';
import { schema } from './graphql/schema.ts';
import { authenticate } from './services/auth.ts';

export interface AppOptions {
  /** Largest accepted request body in bytes. */
  maxBodyBytes?: number;
  /** Pre-filled in GraphiQL's headers (the demo merchant's key on first start). */
  graphiqlApiKey?: string | null;
  /** Also told of every unexpected (masked) error; yoga's logger logs them in any case. */
  logError?: (error: unknown) => void;
}

export type App = YogaServerInstance<Record<string, never>, Context>;

const DEFAULT_QUERY = `# Send your API key: Authorization: Bearer <key> (Headers tab below).
query Members {
  program { name version currency }
  members(first: 10) {
    edges { node { id balance tier { name } progress { nextTier remaining } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/** Rejects bodies larger than `max` bytes before they are parsed. */
function bodyLimit(max: number): Plugin {
  return {
    async onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const tooLarge = () =>
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: `request body over ${max} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }), {
            status: 413,
            headers: { 'content-type': 'application/json' },
          }),
        );
      const declared = Number(request.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared)) {
        if (declared > max) tooLarge();
        return;
      }
      // No length given (chunked): count the bytes of a copy as they stream.
      const reader = request.clone().body?.getReader();
      if (!reader) return;
      let seen = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value.byteLength;
        if (seen > max) {
          await reader.cancel();
          tooLarge();
          return;
        }
      }
    },
  };
}

/** GET /health: 200 when the database answers. */
function health(db: Database): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/health') return;
      try {
        await db.prisma.$queryRaw`SELECT 1`;
        endResponse(fetchAPI.Response.json({ status: 'ok' }));
      } catch {
        endResponse(fetchAPI.Response.json({ status: 'database unavailable' }, { status: 503 }));
      }
    },
  };
}

export function createApp(db: Database, options: AppOptions = {}): App {
  const logError = options.logError ?? (() => {});
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // GET /health is answered by the health() plugin, which also asks the database.
    healthCheckEndpoint: '/_yoga/health',
    landingPage: false,
    graphiql: {
      title: 'loyalty',
      defaultQuery: DEFAULT_QUERY,
      headers: JSON.stringify({ Authorization: `Bearer ${options.graphiqlApiKey ?? '<your API key>'}` }),
    },
    context: async ({ request }) => createContext(db.prisma, await authenticate(db.prisma, request.headers.get('authorization'))),
    maskedErrors: {
      // Expected failures are GraphQLErrors (DomainError, validation, limits):
      // they pass. Anything else is a bug: logged, and masked for the client.
      maskError(error: unknown, message: string) {
        if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
          return error;
        }
        logError(error instanceof GraphQLError ? error.originalError : error);
        return new GraphQLError(message, {
          path: error instanceof GraphQLError ? error.path : undefined,
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
      },
    },
    plugins: [
      health(db),
      bodyLimit(options.maxBodyBytes ?? 1_000_000),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true },
        maxAliases: { n: 15 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 10_000 },
        // Cost is limited by @pothos/plugin-complexity, which knows connection page sizes.
        costLimit: { enabled: false },
        blockFieldSuggestion: { enabled: true },
      }),
    ],
  });
}
