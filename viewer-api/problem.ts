/**
 * THE error → HTTP map of viewer-api: every failure leaves as RFC 9457 application/problem+json
 * ({ type, title, status, detail }), whatever raised it. Only 4xx carry a detail (our messages name
 * attributes, never values: no patient data); 5xx say nothing beyond their title, like Koa's
 * `expose`. Forbidden is answered as NotFound so that existence never leaks (PS3.18 has no
 * "exists but not for you"). No route writes an error body of its own.
 */
import type Koa from 'koa';
import { STATUS_CODES } from 'node:http';
import { isLightboxError, type LightboxErrorCode } from '../core/errors.js';
import { isRenderError } from '../core/imaging/errors.js';
import type { Logger } from '../core/log.js';

const STATUS: Record<LightboxErrorCode, number> = {
  InvalidUID: 400,
  InvalidDataset: 400,
  BadRequest: 400,
  DatasetDoesNotMatchSOPClass: 400,
  Unauthorized: 401,
  NotFound: 404,
  Forbidden: 404,
  NotAcceptable: 406,
  Conflict: 409,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  RangeNotSatisfiable: 416,
  Locked: 423,
  StorageUnavailable: 503,
  Busy: 503,
  Internal: 500,
};

/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_SECONDS = 1;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

/** The problem document for an error (or for a bare status a middleware left without a body). */
export function toProblem(error: unknown): Problem {
  let status = 500;
  let detail: string | undefined;
  if (isLightboxError(error)) {
    status = STATUS[error.code] ?? 500;
    detail = error.code === 'Forbidden' ? 'not found' : error.message;
  } else if (isRenderError(error)) {
    // core/imaging's errors carry their PS3.18 status and a message safe to show.
    status = error.status;
    detail = error.message;
  } else {
    // Koa and the router raise http-errors (e.g. a malformed URL): their 4xx are the client's.
    const candidate = (error as { status?: unknown; expose?: unknown; message?: unknown }) ?? {};
    if (typeof candidate.status === 'number' && candidate.status >= 400 && candidate.status < 500) {
      status = candidate.status;
      if (candidate.expose === true && typeof candidate.message === 'string')
        detail = candidate.message;
    }
  }
  return problemFor(status, status < 500 ? detail : undefined);
}

function problemFor(status: number, detail?: string): Problem {
  const problem: Problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status };
  if (detail) problem.detail = detail;
  return problem;
}

function send(ctx: Koa.Context, problem: Problem): void {
  ctx.status = problem.status;
  ctx.type = 'application/problem+json';
  ctx.body = problem;
  // RFC 9110 §10.2.3: a 503 says when to come back (a full rendering pool, an index restarting).
  if (problem.status === 503) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  if (problem.status === 401) {
    const presented = ctx.get('Authorization') !== '';
    ctx.set(
      'WWW-Authenticate',
      presented ? 'Bearer realm="lightbox", error="invalid_token"' : 'Bearer realm="lightbox"',
    );
  }
}

/**
 * Catches everything below it (so Koa's own error handler, which would drop the CORS headers already
 * set, never runs) and turns bodiless error statuses (router 404/405) into problem documents too.
 */
export function problems(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status >= 400 && ctx.body == null) send(ctx, problemFor(ctx.status));
    } catch (error) {
      const problem = toProblem(error);
      if (problem.status >= 500) {
        const code = isLightboxError(error) ? error.code : undefined;
        log.error(
          { err: error, code, method: ctx.method, route: ctx._matchedRoute },
          'request failed',
        );
      }
      // A streamed body already under way cannot become a problem document: the socket is cut.
      if (ctx.headerSent) return;
      send(ctx, problem);
    }
  };
}
