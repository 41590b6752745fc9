// The GraphQL server as a fetch handler: `app.fetch(request)` in tests,
// node:http in server.ts. Its HTTP plumbing is a list of yoga plugins (health,
// authentication, body size, armor limits, error codes); routes added by
// other modules go in the same list and are protected by listing their path
// in `protectedPaths`.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { pino, type Logger } from 'pino';
import type { Database } from './db/index.ts';
import { createContext, type Context } from './graphql/context.ts';
import { schema } from './graphql/schema.ts';
import { authentication, credentialOf, keyToVerifyOf } from './http/authentication.ts';
import { bodyLimit } from './http/body-limit.ts';
import { merchantConsole } from './http/console.ts';
import { isDatabaseUnavailable, isUnstorableText, serviceUnavailable } from './http/database-errors.ts';
import { graphiqlOptions, renderBundledGraphiQL } from './http/graphiql.ts';
import { EVENTS_PATH, eventsExport } from './http/events-export.ts';
import { health } from './http/health.ts';
import { jitExecution } from './graphql/jit.ts';
import { observe } from './http/observe.ts';
import { rateLimit, type RateLimitOptions } from './http/rate-limit.ts';
import { KeyUsage } from './services/auth.ts';

export const GRAPHQL_ENDPOINT = '/graphql';

export interface AppOptions {
  /** Largest accepted request body in bytes. */
  maxBodyBytes?: number;
  /** Also told of every unexpected (masked) error; yoga's logger logs them in any case. */
  logError?: (error: unknown) => void;
  /** Origins that browsers may call the API from (CORS); empty = no cross-origin calls. */
  corsOrigins?: readonly string[];
  /** Serve GraphiQL on GET /graphql (default true). */
  graphiql?: boolean;
  /** Records when keys were last used; the caller starts and stops it (default: one that flushes every 10 s). */
  keyUsage?: KeyUsage;
  /** Requests per credential (token bucket, per process); absent = no limit. */
  rateLimit?: RateLimitOptions | null;
  /** True while the process drains for shutdown: /health answers 503. */
  isDraining?: () => boolean;
  /** Structured logs: a line per request, errors (default: silent). */
  logger?: Logger;
  /** Serve Prometheus metrics on GET /metrics (default true). */
  metrics?: boolean;
  /** How far ahead of the server's clock a write may be dated (default 5 minutes); sandbox merchants have no limit. */
  maxFutureMs?: number;
  /** Serve the merchant console on GET /console (default true); a string is the build directory to serve. */
  console?: boolean | string;
  /** How often a notifications subscription polls the outbox (ms; default 500). */
  feedPollMs?: number;
  /** Further plugins (routes, hooks), run after the built-in ones. */
  plugins?: Plugin[];
  /** Paths besides the GraphQL endpoint that need a credential. */
  protectedPaths?: readonly string[];
}

export type App = YogaServerInstance<Record<string, never>, Context>;

/**
 * A client's malformed input that a library rejects with a plain error: a
 * connection cursor Pothos cannot decode, or one that decodes to a value the
 * column cannot hold (Prisma P2023, PostgreSQL 22P02: e.g. not a uuid).
 */
function malformedInput(error: unknown): string | null {
  if (error instanceof PothosValidationError && /cursor/i.test(error.message)) return 'malformed cursor: pass a cursor the API returned';
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'P2023' || code === '22P02') return 'malformed cursor or id: pass a cursor the API returned';
  }
  if (isUnstorableText(error)) return 'an argument contains U+0000 or a lone surrogate: text must be valid Unicode without NUL characters';
  return null;
}

/**
 * Errors that GraphQL itself raises carry no code; every error a client sees
 * has one. The code is added to the error itself: yoga logs every error that
 * masking replaces, and these are the client's mistakes, not the server's.
 */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (!error.extensions.code) (error.extensions as Record<string, unknown>).code = code;
  return error;
}

/** Validation errors (unknown fields, wrong argument types, armor limits) get GRAPHQL_VALIDATION_FAILED. */
function validationCodes(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
  };
}

/** Armor's limits throw their errors out of validation (and parsing), past validationCodes(). */
const rejectedByArmor = (_context: unknown, error: GraphQLError) => void withCode(error, 'GRAPHQL_VALIDATION_FAILED');

export function createApp(db: Database, options: AppOptions = {}): App {
  const logger = options.logger ?? pino({ level: 'silent' });
  const logError = (error: unknown) => {
    logger.error({ err: error }, 'unexpected error');
    options.logError?.(error);
  };
  const keyUsage = options.keyUsage ?? new KeyUsage(db.prisma, logError);
  if (!options.keyUsage) keyUsage.start(10_000);
  const graphiql = options.graphiql !== false;
  const corsOrigins = options.corsOrigins ?? [];
  const auth = authentication({
    prisma: db.prisma,
    paths: [GRAPHQL_ENDPOINT, EVENTS_PATH, ...(options.protectedPaths ?? [])],
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: graphiql ? { endpoint: GRAPHQL_ENDPOINT } : null,
    usage: keyUsage,
    onError: logError,
  });
  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    // GET /health is answered by the health() plugin, which also asks the database.
    healthCheckEndpoint: '/_yoga/health',
    landingPage: false,
    // bodyLimit() below limits bodies (413 PAYLOAD_TOO_LARGE): yoga's own limit
    // would pipe every request's body through a TransformStream to count it
    // (~0.1 ms of CPU per request), where node:http already stops a body at its
    // content-length and bodyLimit counts the bodies that have none.
    maxRequestBodySize: false,
    // yoga's own messages (it logs masked errors too) go to the same structured log.
    logging: {
      debug: (...args: unknown[]) => logger.debug({ args }, 'yoga'),
      info: (...args: unknown[]) => logger.info({ args }, 'yoga'),
      warn: (...args: unknown[]) => logger.warn({ args }, 'yoga'),
      error: (...args: unknown[]) => logger.error({ err: args[0] }, 'yoga'),
    },
    graphiql: graphiql ? graphiqlOptions() : false,
    renderGraphiQL: renderBundledGraphiQL,
    cors: corsOrigins.length
      ? {
          origin: [...corsOrigins],
          methods: ['GET', 'POST'],
          allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
          exposedHeaders: ['x-request-id', 'retry-after'],
          credentials: false,
          maxAge: 600,
        }
      : false,
    context: ({ request }) =>
      createContext(db.prisma, credentialOf(request) ?? null, {
        maxFutureMs: options.maxFutureMs,
        logger,
        feedPollMs: options.feedPollMs,
        keyToVerify: () => keyToVerifyOf(request),
      }),
    maskedErrors: {
      // Expected failures are GraphQLErrors (DomainError, validation, limits):
      // they pass. A database that is down is SERVICE_UNAVAILABLE. Anything
      // else is a bug: logged, and masked for the client.
      maskError(error: unknown, message: string) {
        if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
          return withCode(error, 'BAD_USER_INPUT');
        }
        const original = error instanceof GraphQLError ? error.originalError : error;
        const path = error instanceof GraphQLError ? error.path : undefined;
        const malformed = malformedInput(original);
        if (malformed) return new GraphQLError(malformed, { path, extensions: { code: 'BAD_USER_INPUT' } });
        if (isDatabaseUnavailable(original)) {
          const unavailable = serviceUnavailable();
          return new GraphQLError(unavailable.message, { path, extensions: unavailable.extensions });
        }
        // yoga's logger logs it (with the request's log); the caller is told too.
        options.logError?.(original);
        return new GraphQLError(message, { path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      },
    },
    plugins: [
      auth.refusal,
      observe({ logger, metricsPath: options.metrics === false ? null : '/metrics' }),
      health(db.prisma, options.isDraining ?? (() => false)),
      // Static and keyless (the page asks for the key): before authentication.
      ...(options.console === false ? [] : [merchantConsole(typeof options.console === 'string' ? { dir: options.console } : {})]),
      auth.plugin,
      ...(options.rateLimit ? [rateLimit(options.rateLimit)] : []),
      eventsExport(db.prisma, { maxFutureMs: options.maxFutureMs, embedded: db.embedded }),
      bodyLimit(options.maxBodyBytes ?? 1_000_000),
      // Before armor: the hook then sees the errors armor's rules add as well.
      validationCodes(),
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true, onReject: [rejectedByArmor] },
        maxAliases: { n: 15, onReject: [rejectedByArmor] },
        maxDirectives: { n: 20, onReject: [rejectedByArmor] },
        maxTokens: { n: 10_000, onReject: [rejectedByArmor] },
        // Cost is limited by @pothos/plugin-complexity, which knows connection page sizes and input sizes.
        costLimit: { enabled: false },
        // Only authenticated requests get this far, and they get graphql-js's "did you mean".
        blockFieldSuggestion: { enabled: false },
      }),
      // Compiled execution (graphql-jit); answers as graphql-js's executor gives them.
      jitExecution(),
      ...(options.plugins ?? []),
    ],
  });
}
