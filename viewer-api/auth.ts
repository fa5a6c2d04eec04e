/**
 * Who is calling: `Authorization: Bearer <token>` (RFC 6750) resolved to a Principal (core/grants).
 * Interim, until the grants issue brings JWTs: one kind of principal, the archive reader of the
 * configured API token. No token, or a wrong one, is 401 with WWW-Authenticate (problem.ts). What a
 * principal may read is decided in core/grants, never here.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import { LightboxError } from '../core/errors.js';
import type { Principal } from '../core/grants/grants.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The principal of a request's Authorization header, or undefined. Tokens are compared as SHA-256
 * digests with timingSafeEqual: equal lengths, and no timing difference on where they differ.
 */
export function resolvePrincipal(
  authorization: string | undefined,
  apiToken: string | undefined,
): Principal | undefined {
  const match = authorization ? BEARER.exec(authorization) : null;
  if (!match || !apiToken) return undefined;
  return timingSafeEqual(digest(match[1]), digest(apiToken))
    ? { kind: 'archive-reader' }
    : undefined;
}

/** Sets ctx.state.principal, or refuses the request (401). With no token configured: refuses all. */
export function authenticate(apiToken: string | undefined): Koa.Middleware {
  return async (ctx, next) => {
    const principal = resolvePrincipal(ctx.get('Authorization') || undefined, apiToken);
    if (!principal) throw new LightboxError('Unauthorized', 'a valid bearer token is required');
    ctx.state.principal = principal;
    await next();
  };
}

/** The principal authenticate() resolved (handlers run only after it). */
export function principalOf(ctx: Koa.Context): Principal | undefined {
  return ctx.state.principal as Principal | undefined;
}
