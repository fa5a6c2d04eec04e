/**
 * CORS (Fetch standard §3.2) for browser viewers on another origin (OHIF). Preflights are answered
 * here without a credential: they carry none, by design. Every other response, errors included,
 * carries the CORS headers, so a page can read a 401 or 404 problem document instead of an opaque
 * network error: this middleware sits outside problems(), which never lets Koa reset the headers.
 */
import type Koa from 'koa';

/** Request headers a viewer sends: the bearer token, content negotiation, ranges, revalidation. */
const ALLOWED_HEADERS = 'Authorization, Accept, Content-Type, Range, If-None-Match';
const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
/** Response headers a page may read (the CORS-safelisted ones aside). */
const EXPOSED_HEADERS =
  'ETag, Content-Range, Content-Length, Content-Location, Location, Warning, WWW-Authenticate, Accept-Ranges';

export function cors(config: { corsOrigins: readonly string[] }): Koa.Middleware {
  const any = config.corsOrigins.includes('*');
  const allowed = new Set(config.corsOrigins);
  return async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (!any) ctx.vary('Origin');
    if (!origin || (!any && !allowed.has(origin))) return next();
    ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    await next();
  };
}
