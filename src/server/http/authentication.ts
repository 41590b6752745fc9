// Authenticates every request to the protected paths (the GraphQL endpoint,
// and routes that other modules add) before anything is parsed: a missing,
// unknown, expired or revoked credential is HTTP 401 UNAUTHENTICATED for any
// operation, `{ __typename }` and introspection included. Other plugins and
// the GraphQL context read the result with `credentialOf(request)`.
import type { PrismaClient } from '@prisma/client';
import { shouldRenderGraphiQL, type Plugin } from 'graphql-yoga';
import { authenticate, type Credential, type KeyUsage } from '../services/auth.ts';
import { isDatabaseUnavailable, UNAVAILABLE_MESSAGE } from './database-errors.ts';
import { errorResponse } from './respond.ts';

const credentials = new WeakMap<Request, Credential>();

/** The credential of an authenticated request (undefined for paths this plugin does not protect). */
export function credentialOf(request: Request): Credential | undefined {
  return credentials.get(request);
}

export interface AuthenticationOptions {
  prisma: PrismaClient;
  /** Paths that need a credential. */
  paths: readonly string[];
  /** GET text/html on the GraphQL endpoint is GraphiQL's page, served without one. */
  graphiql: { endpoint: string } | null;
  usage: KeyUsage;
  onError?: (error: unknown) => void;
}

export function authentication(options: AuthenticationOptions): Plugin {
  const paths = new Set(options.paths);
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!paths.has(url.pathname) || request.method === 'OPTIONS') return;
      if (options.graphiql && url.pathname === options.graphiql.endpoint && shouldRenderGraphiQL(request)) return;
      let result;
      try {
        result = await authenticate(options.prisma, request.headers.get('authorization'));
      } catch (error) {
        if (!isDatabaseUnavailable(error)) options.onError?.(error);
        // Without the database no credential can be checked: unavailable, not unauthenticated.
        endResponse(
          isDatabaseUnavailable(error)
            ? errorResponse(fetchAPI, 503, 'SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE, { headers: { 'retry-after': '5' } })
            : errorResponse(fetchAPI, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.'),
        );
        return;
      }
      if (!result.ok) {
        endResponse(
          errorResponse(fetchAPI, 401, 'UNAUTHENTICATED', result.message, {
            headers: { 'www-authenticate': 'Bearer realm="loyalty"' },
            details: { reason: result.failure },
          }),
        );
        return;
      }
      credentials.set(request, result.credential);
      if (result.credential.kind === 'key') options.usage.touch(result.credential.keyId);
    },
  };
}
