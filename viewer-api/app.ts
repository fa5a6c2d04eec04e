/**
 * createApp(services) → Koa application, no listen (tests call app.callback()). The DICOMweb and patient
 * API routes are in routes.ts; until grants exist nothing is served but health: default deny.
 */
import Koa from 'koa';
import type { Logger } from '../core/log.js';
import type { Services } from '../core/services.js';
import { routes } from './routes.js';

export function createApp(services: Services, log: Logger): Koa {
  const app = new Koa();
  app.proxy = false;
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    await next();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.debug({ method: ctx.method, route: ctx._matchedRoute, status: ctx.status, ms }, 'http');
  });
  const router = routes(services);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
