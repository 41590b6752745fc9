// GET /health: readiness. 200 when the database answers; 503 while the
// process drains for shutdown (so that a load balancer stops sending it
// requests) or when the database does not answer.
import type { PrismaClient } from '@prisma/client';
import type { Plugin } from 'graphql-yoga';

export function health(prisma: PrismaClient, isDraining: () => boolean): Plugin {
  return {
    // Not async: other paths return nothing, and yoga runs the next hook without a promise in between.
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/health') return;
      if (isDraining()) {
        endResponse(fetchAPI.Response.json({ status: 'draining' }, { status: 503 }));
        return;
      }
      return prisma.$queryRaw`SELECT 1`.then(
        () => endResponse(fetchAPI.Response.json({ status: 'ok' })),
        () => endResponse(fetchAPI.Response.json({ status: 'database unavailable' }, { status: 503 })),
      );
    },
  };
}
