/**
 * createApp(services) → Koa application, no listen (tests call app.callback()). Middleware, outside
 * in: request log → CORS (so that every response, errors included, carries its headers) →
 * problems (every error as application/problem+json) → the route table (routes.ts).
 */
import Koa from 'koa';
import type { ViewerApiConfig } from '../config/schema.js';
import { RenderPool } from '../core/imaging/render-pool.js';
import type { Logger } from '../core/log.js';
import type { ArchiveServices } from '../core/services.js';
import { cors } from './cors.js';
import { problems } from './problem.js';
import { routes } from './routes.js';

/** The rendering pool of `config` (threads start on the first rendered request). */
export function createRenderPool(config: ViewerApiConfig): RenderPool {
  return new RenderPool({ threads: config.renderThreads, maxQueued: config.renderQueue });
}

export function createApp(
  services: ArchiveServices,
  log: Logger,
  config: ViewerApiConfig,
  renderPool: RenderPool = createRenderPool(config),
): Koa {
  const app = new Koa();
  app.proxy = false;
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    await next();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.debug({ method: ctx.method, route: ctx._matchedRoute, status: ctx.status, ms }, 'http');
  });
  app.use(cors(config));
  app.use(problems(log));
  const router = routes(services, config, log, renderPool);
  app.use(router.routes());
  app.use(router.allowedMethods());
  // A streamed response that fails after its header was sent is cut; a client leaving early is normal.
  app.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET') return;
    log.warn({ err: error }, 'response stream failed');
  });
  return app;
}
