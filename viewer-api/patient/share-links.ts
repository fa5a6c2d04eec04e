/**
 * A patient's share links: POST /api/share-links (the token is in this response only),
 * GET /api/share-links, DELETE /api/share-links/:id (link and grant revoked at once).
 */
import type Koa from 'koa';
import { LightboxError } from '../../core/errors.js';
import { parseAccess, parseExpiresAt, parseGrantScope } from '../../core/grants/grant-scope.js';
import type { GrantServices } from '../../core/grants/grant-services.js';
import { PIN } from '../../core/grants/share-token.js';
import { scopeTarget } from './grants.js';
import { jsonBody } from './json-body.js';
import { requireKind } from './principals.js';

/** The DICOMweb root of a share link (a full DICOMweb service for any viewer). */
export function shareDicomWebRoot(token: string): string {
  return `/share/${token}/dicom-web`;
}

export function shareLinksApi(grants: GrantServices) {
  return {
    async createShareLink(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      const body = await jsonBody(ctx);
      if (body.pin !== undefined && (typeof body.pin !== 'string' || !PIN.test(body.pin))) {
        throw new LightboxError('BadRequest', 'pin must be 4 to 12 digits');
      }
      const { link, token } = await grants.shareLinks.create(patient.accountId, {
        scope: parseGrantScope(body.scope),
        access: parseAccess(body.access),
        expiresAt: parseExpiresAt(body.expiresAt),
        pin: body.pin as string | undefined,
      });
      grants.audit.record({
        action: 'share-link-create',
        principal: patient,
        via: 'api',
        outcome: 'ok',
        ...scopeTarget(link.scope),
        detail: { shareLinkId: link.shareLinkId, access: link.access, pin: link.pinProtected },
      });
      ctx.status = 201;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        ...link,
        token,
        dicomWebRoot: shareDicomWebRoot(token),
        portalUrl: `/portal/share/${token}`,
      };
    },

    async listShareLinks(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      ctx.body = await grants.shareLinks.list(patient.accountId);
    },

    async revokeShareLink(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      const link = await grants.shareLinks.revoke(patient.accountId, String(ctx.params.id));
      grants.audit.record({
        action: 'share-link-revoke',
        principal: patient,
        via: 'api',
        outcome: 'ok',
        ...scopeTarget(link.scope),
        detail: { shareLinkId: link.shareLinkId },
      });
      ctx.status = 204;
    },
  };
}
