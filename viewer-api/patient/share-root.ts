/**
 * The share-link root: /share/<token>/dicom-web/... is a DICOMweb service for any viewer, seeing
 * exactly the link's grant. A link without PIN needs no Authorization header (the token is the
 * credential); with a PIN, POST /share/<token>/unlock { pin } returns a short session token to send
 * as `Authorization: Bearer`. Absent, revoked and expired links are 404 alike; a wrong PIN is 401;
 * after MAX_PIN_FAILURES wrong PINs the link is locked (423), for good.
 */
import type Koa from 'koa';
import { LightboxError } from '../../core/errors.js';
import type { GrantServices } from '../../core/grants/grant-services.js';
import type { Principal } from '../../core/grants/principal.js';
import type { ResolvedShareLink } from '../../core/grants/share-links.js';
import { PIN } from '../../core/grants/share-token.js';
import { bearerToken } from '../auth.js';
import { jsonBody } from './json-body.js';
import { shareDicomWebRoot } from './share-links.js';

async function liveLink(grants: GrantServices, ctx: Koa.Context): Promise<ResolvedShareLink> {
  const link = await grants.shareLinks.resolve(String(ctx.params.token));
  if (!link) throw new LightboxError('NotFound', 'not found');
  return link;
}

export function shareRoot(grants: GrantServices) {
  return {
    /** Middleware of /share/:token/dicom-web: the share-link principal, or 404 / 401 / 423. */
    authenticate: (async (ctx, next) => {
      const link = await liveLink(grants, ctx);
      if (link.locked) throw new LightboxError('Locked', 'this link is locked');
      if (link.pinProtected) {
        const session = bearerToken(ctx);
        if (!session) throw new LightboxError('Unauthorized', 'this link needs its PIN');
        if ((await grants.tokens.verifyShareSession(session)) !== link.shareLinkId) {
          throw new LightboxError('Unauthorized', 'invalid bearer token');
        }
      }
      const principal: Principal = { kind: 'share-link', shareLinkId: link.shareLinkId };
      ctx.state.principal = principal;
      ctx.state.via = 'share-link';
      ctx.state.dicomWebRoot = shareDicomWebRoot(String(ctx.params.token));
      await next();
    }) as Koa.Middleware,

    /** GET /share/:token → { pinRequired, locked, expiresAt } (what the portal shows first). */
    async describe(ctx: Koa.Context) {
      const link = await liveLink(grants, ctx);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { pinRequired: link.pinProtected, locked: link.locked, expiresAt: link.expiresAt };
    },

    /** POST /share/:token/unlock { pin } → { accessToken, expiresAt }. */
    async unlock(ctx: Koa.Context) {
      const body = await jsonBody(ctx);
      const pin = typeof body.pin === 'string' && PIN.test(body.pin) ? body.pin : '';
      const result = await grants.shareLinks.unlock(String(ctx.params.token), pin);
      if (!result) throw new LightboxError('NotFound', 'not found');
      const principal: Principal = { kind: 'share-link', shareLinkId: result.link.shareLinkId };
      const audit = (outcome: 'ok' | 'denied', detail: Record<string, unknown>) =>
        grants.audit.record({
          action: 'share-link-unlock',
          principal,
          via: 'share-link',
          outcome,
          patientKey: result.link.patientKey,
          detail,
        });
      if (result.outcome === 'locked') {
        audit('denied', { locked: true });
        throw new LightboxError('Locked', 'this link is locked after too many wrong PINs');
      }
      if (result.outcome === 'wrong-pin') {
        audit('denied', { remainingAttempts: result.remainingAttempts });
        throw new LightboxError(
          'Unauthorized',
          `wrong PIN: ${result.remainingAttempts} attempt(s) left`,
        );
      }
      audit('ok', {});
      const session = await grants.tokens.signShareSession(
        result.link.shareLinkId,
        result.link.expiresAt,
      );
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { accessToken: session.token, expiresAt: session.expiresAt };
    },
  };
}
