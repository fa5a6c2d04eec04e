/**
 * THE route table of viewer-api. Every path the API serves is listed here.
 */
import Router from '@koa/router';
import type { Services } from '../core/services.js';

export function routes(services: Services): Router {
  const router = new Router();
  /** Liveness: the process answers. */
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  /** Readiness: the index and object store answer. */
  router.get('/readyz', async (ctx) => {
    try {
      await services.index?.ping();
      await services.objects?.ping();
      ctx.body = { status: 'ready', queueDepth: await services.queue.depth() };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable' };
    }
  });
  return router;
}
