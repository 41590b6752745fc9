// GraphiQL from the bundled assets of @graphql-yoga/render-graphiql (no CDN:
// the page works offline). The page never holds a key: its Headers tab shows
// where to put one.
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { YogaServerOptions } from 'graphql-yoga';

/** The query GraphiQL opens with; test/api/access.test.ts validates it against the schema. */
export const STARTER_QUERY = `# Put your API key in the Headers tab below, then run.
query Members {
  program { name version currency }
  members(first: 10) {
    edges { node { id balance tier { name progress { nextTier remaining } } } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

export const GRAPHIQL_HEADERS = JSON.stringify({ Authorization: 'Bearer <your API key>' }, null, 2);

type GraphiQLOptions = Exclude<NonNullable<YogaServerOptions<object, object>['graphiql']>, boolean | ((...args: never[]) => unknown)>;

export function graphiqlOptions(): GraphiQLOptions {
  return { title: 'loyalty', defaultQuery: STARTER_QUERY, headers: GRAPHIQL_HEADERS };
}

let rendered: { key: string; html: string } | null = null;

/** renderGraphiQL inlines ~9 MB of scripts: render once per set of options. */
export function renderBundledGraphiQL(options: Parameters<typeof renderGraphiQL>[0]): string {
  const key = JSON.stringify(options ?? {});
  if (rendered?.key !== key) rendered = { key, html: renderGraphiQL(options) };
  return rendered.html;
}
