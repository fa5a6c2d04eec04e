/**
 * Who is calling: `Authorization: Bearer <token>` (RFC 6750) resolved to a Principal by
 * core/grants/authenticator.ts: the archive reader's API token, or a JWT naming an account or an
 * organisation. No token, or an invalid one, is 401 with WWW-Authenticate (problem.ts). What a
 * principal may read is decided in core/grants, never here.
 */
import type Koa from 'koa';
import type { AuditChannel } from '../core/audit/audit-log.js';
import type { Authenticator } from '../core/grants/authenticator.js';
import { LightboxError } from '../core/errors.js';
import type { Principal } from '../core/grants/grants.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The bearer token of a request, if it has one. */
export function bearerToken(ctx: Koa.Context): string | undefined {
  const authorization = ctx.get('Authorization');
  return authorization ? BEARER.exec(authorization)?.[1] : undefined;
}

/** Sets ctx.state.principal, or refuses the request (401). */
export function authenticate(authenticator: Authenticator): Koa.Middleware {
  return async (ctx, next) => {
    const token = bearerToken(ctx);
    if (!token) throw new LightboxError('Unauthorized', 'a valid bearer token is required');
    ctx.state.principal = await authenticator.principalOf(token);
    await next();
  };
}

/** The principal authenticate() resolved (handlers run only after it). */
export function principalOf(ctx: Koa.Context): Principal | undefined {
  return ctx.state.principal as Principal | undefined;
}

/** How this request reached us, for the audit trail: a share link's root or the API. */
export function channelOf(ctx: Koa.Context): AuditChannel {
  return (ctx.state.via as AuditChannel | undefined) ?? 'dicomweb';
}
