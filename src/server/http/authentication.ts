// Authenticates every request to the protected paths (the GraphQL endpoint,
// and routes that other modules add): a missing, unknown, expired or revoked
// credential is HTTP 401 UNAUTHENTICATED for any operation, `{ __typename }`
// and introspection included. Other plugins and the GraphQL context read the
// result with `credentialOf(request)`.
//
// A credential is checked before anything is parsed, with one exception: an
// API key that this process has already found valid (KnownKeys), sent to the
// GraphQL endpoint, is checked again only when the request is about to do
// something. Before an operation executes, its key row is read again (the
// same lookup); an operation that is one recordOrder instead reads it in its
// own lock statement (KeyToVerify), so that the hot write is two round trips,
// not three. A request that ends without either (a parse or validation
// error, a refusal before execution) is checked as it answers. Whenever the
// check fails, the answer is replaced by the 401 (or 503) that checking
// first would have given: a revoked key is refused at once, by every process.
import type { PrismaClient } from '@prisma/client';
import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { shouldRenderGraphiQL, type FetchAPI, type Plugin } from 'graphql-yoga';
import { authenticate, fail, KnownKeys, type AuthResult, type Credential, type KeyCredential, type KeyToVerify, type KeyUsage } from '../services/auth.ts';
import { isDatabaseUnavailable, UNAVAILABLE_MESSAGE } from './database-errors.ts';
import { errorResponse } from './respond.ts';

const credentials = new WeakMap<Request, Credential>();
const lazyChecks = new WeakMap<Request, LazyKeyCheck>();

/** The credential of an authenticated request (undefined for paths this plugin does not protect). */
export function credentialOf(request: Request): Credential | undefined {
  return credentials.get(request);
}

/** The key a recordOrder of this request verifies in its lock statement (null: the key was checked already, or is checked elsewhere). */
export function keyToVerifyOf(request: Request): KeyToVerify | null {
  const check = lazyChecks.get(request);
  return check?.deferred && !check.settled ? check : null;
}

export interface AuthenticationOptions {
  prisma: PrismaClient;
  /** Paths that need a credential. */
  paths: readonly string[];
  /** The GraphQL endpoint: known keys sent to it are checked lazily (see above). */
  graphqlEndpoint: string;
  /** GET text/html on the GraphQL endpoint is GraphiQL's page, served without one. */
  graphiql: { endpoint: string } | null;
  usage: KeyUsage;
  onError?: (error: unknown) => void;
}

/**
 * The check of a known key for one request: settled by a lookup (before
 * execution, or as the request answers) or by recordOrder's statement.
 */
class LazyKeyCheck implements KeyToVerify {
  /** The operation is one recordOrder: its lock statement reads the key row. */
  deferred = false;
  private result: AuthResult | null = null;
  private lookup: Promise<AuthResult> | null = null;

  constructor(
    readonly credential: KeyCredential,
    private readonly authorization: string,
    private readonly verifyNow: (authorization: string) => Promise<AuthResult>,
  ) {}

  get keyId(): string {
    return this.credential.keyId;
  }

  get settled(): boolean {
    return this.result !== null;
  }

  /** The outcome when it is known (settled), without waiting. */
  get known(): AuthResult | null {
    return this.result;
  }

  found(state: 'valid' | 'revoked' | 'unknown'): void {
    this.result = state === 'valid' ? { ok: true, credential: this.credential } : fail(state);
  }

  /** The outcome, reading the key row now unless a statement did; a database error propagates. */
  async outcome(): Promise<AuthResult> {
    if (this.result) return this.result;
    this.lookup ??= this.verifyNow(this.authorization);
    this.result = await this.lookup;
    return this.result;
  }
}

/** The operation of `document` that executes, when it is exactly one recordOrder (any selection beneath it). */
function isOneRecordOrder(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== 'mutation' || operation.directives?.length) return false;
  const [only, ...more] = operation.selectionSet.selections;
  return more.length === 0 && only?.kind === Kind.FIELD && only.name.value === 'recordOrder' && !only.directives?.length;
}

export interface Authentication {
  /** Authenticates requests; goes after observe(). */
  plugin: Plugin;
  /**
   * Replaces the answer of a request whose known key turned out not to be
   * valid: goes before every other plugin, so that their onResponse hooks
   * (observe's log and metrics) see the answer the client gets.
   */
  refusal: Plugin;
}

export function authentication(options: AuthenticationOptions): Authentication {
  const paths = new Set(options.paths);
  const known = new KnownKeys();
  const onError = (error: unknown) => {
    if (!isDatabaseUnavailable(error)) options.onError?.(error);
  };
  /** The key row read (or the token verified), remembering a valid key. */
  const lookup = async (authorization: string | null): Promise<AuthResult> => {
    const result = await authenticate(options.prisma, authorization);
    if (authorization !== null) {
      if (result.ok && result.credential.kind === 'key') known.remember(authorization, result.credential);
      else known.forget(authorization);
    }
    return result;
  };
  /** The answer for a credential that could not be checked (the database) or was refused; null when it is valid. */
  const refusalOf = (fetchAPI: FetchAPI, outcome: AuthResult | { error: unknown }): Response | null => {
    if ('error' in outcome) {
      // Without the database no credential can be checked: unavailable, not unauthenticated.
      return isDatabaseUnavailable(outcome.error)
        ? errorResponse(fetchAPI, 503, 'SERVICE_UNAVAILABLE', UNAVAILABLE_MESSAGE, { headers: { 'retry-after': '5' } })
        : errorResponse(fetchAPI, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error.');
    }
    if (outcome.ok) return null;
    return errorResponse(fetchAPI, 401, 'UNAUTHENTICATED', outcome.message, {
      headers: { 'www-authenticate': 'Bearer realm="loyalty"' },
      details: { reason: outcome.failure },
    });
  };
  /** What a settled outcome means for the request: a refused credential is no longer the request's. */
  const settled = (request: Request, outcome: AuthResult | { error: unknown }): AuthResult | { error: unknown } => {
    if ('error' in outcome || !outcome.ok) credentials.delete(request);
    return outcome;
  };
  /** A lazy check's outcome, or the error that kept it from one (logged). */
  const settle = async (request: Request, check: LazyKeyCheck): Promise<AuthResult | { error: unknown }> => {
    try {
      return settled(request, await check.outcome());
    } catch (error) {
      onError(error);
      return settled(request, { error });
    }
  };
  /**
   * Before an operation executes: read the key row now, unless the operation
   * is one recordOrder. Not async: when there is nothing to read (the hot
   * path), yoga goes on without a promise in between.
   */
  const beforeExecution = (request: Request, document: DocumentNode, operationName: string | null | undefined, stop: () => void): Promise<void> | void => {
    const check = lazyChecks.get(request);
    if (!check || check.settled) return;
    if (isOneRecordOrder(document, operationName)) {
      check.deferred = true;
      return;
    }
    return settle(request, check).then((outcome) => {
      // The answer is replaced by the refusal (the `refusal` plugin); nothing runs.
      if ('error' in outcome || !outcome.ok) stop();
    });
  };
  const stopped = { errors: [] };
  /** The key row read (or the token verified) before anything else runs: the request is refused, or its credential recorded. */
  const authenticateNow = async (request: Request, authorization: string | null, endResponse: (response: Response) => void, fetchAPI: FetchAPI): Promise<void> => {
    let result: AuthResult;
    try {
      result = await lookup(authorization);
    } catch (error) {
      onError(error);
      endResponse(refusalOf(fetchAPI, { error })!);
      return;
    }
    const refusal = refusalOf(fetchAPI, result);
    if (refusal || !result.ok) {
      endResponse(refusal!);
      return;
    }
    credentials.set(request, result.credential);
    if (result.credential.kind === 'key') options.usage.touch(result.credential.keyId);
  };
  const plugin: Plugin<{ request: Request }> = {
    // Not async: a known key (the hot path) is recorded without a promise; yoga then runs the next hook at once.
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!paths.has(url.pathname) || request.method === 'OPTIONS') return;
      if (options.graphiql && url.pathname === options.graphiql.endpoint && shouldRenderGraphiQL(request)) return;
      const authorization = request.headers.get('authorization');
      const cached = url.pathname === options.graphqlEndpoint ? known.get(authorization) : undefined;
      if (cached) {
        credentials.set(request, cached);
        lazyChecks.set(request, new LazyKeyCheck(cached, authorization!, lookup));
        return;
      }
      return authenticateNow(request, authorization, endResponse, fetchAPI);
    },
    onExecute({ args, setResultAndStopExecution }) {
      return beforeExecution(args.contextValue.request, args.document, args.operationName, () => setResultAndStopExecution(stopped));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      return beforeExecution(args.contextValue.request, args.document, args.operationName, () => setResultAndStopExecution(stopped));
    },
  };
  const refusal: Plugin = {
    // Not async: a request without a lazy check, or whose check its statement settled (recordOrder), answers without a promise.
    onResponse({ request, setResponse, fetchAPI }) {
      const check = lazyChecks.get(request);
      if (!check) return;
      const answer = (outcome: AuthResult | { error: unknown }) => {
        const refused = refusalOf(fetchAPI, outcome);
        if (refused) setResponse(refused);
        else options.usage.touch(check.keyId);
      };
      const outcome = check.known;
      if (outcome) return answer(settled(request, outcome));
      return settle(request, check).then(answer);
    },
  };
  return { plugin: plugin as Plugin, refusal };
}
