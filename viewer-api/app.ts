/**
 * createApp(services) → Koa application, no listen (tests call app.callback()). Middleware, outside
 * in: request log → CORS (so that every response, errors included, carries its headers) →
 * problems (every error as application/problem+json) → the route table (routes.ts).
 */
import Koa from 'koa';
import type { ViewerApiConfig } from '../config/schema.js';
import { RenderPool } from '../core/imaging/render-pool.js';
import type { Logger } from '../core/log.js';
import { createMetrics } from '../core/ops/metrics.js';
import type { OpsEndpoints } from '../core/ops/ops-server.js';
import { readinessChecks } from '../core/ops/readiness.js';
import type { ArchiveServices } from '../core/services.js';
import { cors } from './cors.js';
import type { MetadataCache } from './dicomweb/metadata-cache.js';
import { problems } from './problem.js';
import { routes } from './routes.js';

/** The rendering pool of `config` (threads start on the first rendered request). */
export function createRenderPool(config: ViewerApiConfig): RenderPool {
  return new RenderPool({ threads: config.renderThreads, maxQueued: config.renderQueue });
}

/**
 * `ops`: the process's metrics and readiness checks (/metrics, /readyz); by default a registry of
 * its own and the checks of viewer-api alone (index and object store).
 */
export function createApp(
  services: ArchiveServices,
  log: Logger,
  config: ViewerApiConfig,
  ops: OpsEndpoints = defaultOps(services),
  renderPool: RenderPool = createRenderPool(config),
  metadataCache?: MetadataCache,
): Koa {
  const app = new Koa();
  app.proxy = false;
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The matched route pattern (…/studies/:study), never the URL: a URL holds UIDs.
      const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
      ops.metrics.httpRequest(ctx.method, route, ctx.status, seconds);
      log.debug({ method: ctx.method, route, status: ctx.status, ms: seconds * 1000 }, 'http');
    }
  });
  app.use(cors(config));
  app.use(problems(log));
  const router = routes(services, config, log, ops, renderPool, metadataCache);
  app.use(router.routes());
  app.use(router.allowedMethods());
  // A streamed response that fails after its header was sent is cut; a client leaving early is normal.
  app.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') return;
    log.warn({ err: error }, 'response stream failed');
  });
  return app;
}

function defaultOps(services: ArchiveServices): OpsEndpoints {
  return {
    metrics: createMetrics('viewer-api'),
    readiness: readinessChecks({ index: services.index, objects: services.objects }),
  };
}
