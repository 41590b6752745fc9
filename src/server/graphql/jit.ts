// Queries and mutations run by graphql-jit: each operation is compiled once
// (per parsed document, which yoga's parse cache shares between requests of
// the same text) into a function, instead of graphql-js walking the document
// on every request. The profile of recordOrder at 16 in flight put ~0.17 ms
// of the server's ~1.6 ms per order in the executor's walk and variable
// coercion (bench/README.md, "Server benchmark").
//
// Answers stay graphql-js's: a request whose variables graphql-jit refuses
// (its result has no `data`: nothing executed) is run again by the normal
// executor, whose coercion errors are the ones clients are told (with their
// codes, yoga.ts); a document graphql-jit cannot compile runs on the normal
// executor too. Subscriptions are not compiled (onSubscribe is untouched).
// graphql-jit's errors carry their locations as line and column only, which
// yoga drops when it serializes them: they are made graphql-js errors again,
// positioned in the document's source, as graphql-js's executor makes them.
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema, type Source } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/** The offset in `body` of a 1-based line and column. */
function offsetOf(body: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = body.indexOf('\n', offset);
    if (next < 0) break;
    offset = next + 1;
  }
  return offset + column - 1;
}

/** A graphql-jit error as graphql-js's executor makes it: positioned in the source, with the same path, cause and extensions. */
function located(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.nodes || !source) return error;
  const positions = error.locations?.map(({ line, column }) => offsetOf(source.body, line, column));
  return new GraphQLError(error.message, {
    source,
    positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

/** A compiled operation, or null: the normal executor runs it. */
type Compiled = CompiledQuery | null;

export function jitExecution(): Plugin {
  // By schema (one in practice), document and operation name.
  const compiled = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, Compiled>>>();
  const compiledFor = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Compiled => {
    let bySchema = compiled.get(schema);
    if (!bySchema) compiled.set(schema, (bySchema = new WeakMap()));
    let byName = bySchema.get(document);
    if (!byName) bySchema.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let query = byName.get(name);
    if (query === undefined) {
      // Leaves are serialized as graphql-js does (customJSONSerializer off: yoga writes the JSON).
      const result = compileQuery(schema, document, operationName ?? undefined, { customJSONSerializer: false });
      query = isCompiledQuery(result) ? result : null;
      byName.set(name, query);
    }
    return query;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const query = compiledFor(args.schema, args.document, args.operationName);
      if (!query) return;
      setExecuteFn((execution) => {
        const fallback = (result: ExecutionResult) => {
          if (!('data' in result)) return executeFn(execution);
          if (result.errors) result.errors = result.errors.map((error) => located(error, execution.document.loc?.source));
          return result;
        };
        const result = query.query(execution.rootValue, execution.contextValue, execution.variableValues);
        return result instanceof Promise ? result.then(fallback) : fallback(result);
      });
    },
  };
}
