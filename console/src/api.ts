// The console's GraphQL client: the typed operations from graphql-codegen
// (console/operations/*.graphql → generated/operations.ts), sent with the API
// key from sessionStorage. The key is never put in a URL or in the page.
import type { TypedDocumentString } from './generated/operations.ts';

const KEY = 'loyalty.console.apiKey';

export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(key: string): void {
    sessionStorage.setItem(KEY, key);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface GraphQLResponse<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs an operation; throws ApiError on an HTTP or GraphQL error. */
export async function gql<R, V>(doc: TypedDocumentString<R, V>, variables: V, key: string | null = session.key()): Promise<R> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query: doc.toString(), variables }),
  });
  let body: GraphQLResponse<R>;
  try {
    body = (await response.json()) as GraphQLResponse<R>;
  } catch {
    throw new ApiError(`The server answered ${response.status} ${response.statusText}`, response.status, undefined);
  }
  const first = body.errors?.[0];
  if (first) throw new ApiError(first.message, response.status, first.extensions?.code);
  if (!body.data) throw new ApiError('The server sent no data', response.status, undefined);
  return body.data;
}
