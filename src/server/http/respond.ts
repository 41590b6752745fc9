// JSON error responses written by HTTP plugins before GraphQL runs, in the
// shape of a GraphQL result, so that clients read every failure the same way.
import type { FetchAPI } from 'graphql-yoga';

export function errorResponse(
  fetchAPI: FetchAPI,
  status: number,
  code: string,
  message: string,
  options: { headers?: Record<string, string>; details?: Record<string, unknown> } = {},
): Response {
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code, ...options.details } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...options.headers },
  });
}
