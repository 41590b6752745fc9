// Per request: a request id (the client's `x-request-id` when it is sane,
// else a new one; echoed in the response), one structured log line (pino),
// and the Prometheus request count and latency by operation. The operation
// is named by its root fields (`member`, `recordOrder+signup`), which the
// schema bounds, not by the client's operation name, which nothing bounds.
import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Logger } from 'pino';
import { httpDuration, httpRequests, registry } from '../metrics.ts';
import { credentialOf } from './authentication.ts';

interface Seen {
  id: string;
  start: number;
  /** The request URL's path, as onRequest saw it (parsed once per request). */
  path: string;
  operation: string | null;
}

const seen = new WeakMap<Request, Seen>();
const SANE_ID = /^[\w.:-]{1,100}$/;

/** The request's id (for logs of errors raised while it runs). */
export function requestIdOf(request: Request): string | undefined {
  return seen.get(request)?.id;
}

function rootFields(operation: OperationDefinitionNode | undefined): string | null {
  if (!operation) return null;
  const names = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    names.add(selection.kind === Kind.FIELD ? selection.name.value : '(fragment)');
  }
  const list = [...names].sort();
  return list.length > 4 ? `${list.slice(0, 4).join('+')}+…` : list.join('+');
}

export function observe(options: { logger: Logger; metricsPath: string | null }): Plugin<{ request: Request }> {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const given = request.headers.get('x-request-id');
      seen.set(request, { id: given && SANE_ID.test(given) ? given : randomUUID(), start: performance.now(), path: url.pathname, operation: null });
      if (options.metricsPath && url.pathname === options.metricsPath && request.method === 'GET') {
        return registry.metrics().then((text) => endResponse(new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } })));
      }
    },
    onExecute({ args }) {
      const entry = seen.get(args.contextValue.request);
      if (!entry) return;
      const document = args.document as DocumentNode;
      const operation = document.definitions.find(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
      );
      entry.operation = operation ? `${operation.operation} ${rootFields(operation)}` : null;
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      if (!entry) return;
      response.headers.set('x-request-id', entry.id);
      const path = entry.path;
      if (path === options.metricsPath) return;
      const seconds = (performance.now() - entry.start) / 1000;
      const operation = entry.operation ?? path;
      httpRequests.inc({ operation, status: String(response.status) });
      httpDuration.observe({ operation }, seconds);
      // The line's object is built only for a logger that writes it.
      if (!options.logger.isLevelEnabled('info')) return;
      const credential = credentialOf(request);
      options.logger.info(
        {
          reqId: entry.id,
          method: request.method,
          path,
          operation: entry.operation,
          status: response.status,
          ms: Math.round(seconds * 10_000) / 10,
          merchant: credential?.merchant.id,
          key: credential?.kind === 'key' ? credential.prefix : undefined,
          member: credential?.kind === 'member' ? credential.memberId : undefined,
        },
        'request',
      );
    },
  };
}
