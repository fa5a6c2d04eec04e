/**
 * Grants to doctors: GET /api/grants (given by a patient, received by a doctor), POST /api/grants
 * (a patient grants), DELETE /api/grants/:grantId (a patient revokes; effective at the next
 * request, nothing caches a grant). Every change is audited.
 */
import type Koa from 'koa';
import type { AuditEvent } from '../../core/audit/audit-log.js';
import { LightboxError } from '../../core/errors.js';
import {
  parseAccess,
  parseExpiresAt,
  parseGrantScope,
  type GrantScope,
} from '../../core/grants/grant-scope.js';
import type { GrantServices } from '../../core/grants/grant-services.js';
import { ACCOUNT_ID } from '../../core/grants/accounts.js';
import { jsonBody } from './json-body.js';
import { requireKind } from './principals.js';

/** The audit fields of a grant's scope. */
export function scopeTarget(
  scope: GrantScope,
): Pick<AuditEvent, 'patientKey' | 'StudyInstanceUID' | 'SeriesInstanceUID'> {
  return 'patientKey' in scope ? { patientKey: scope.patientKey } : { ...scope };
}

export function grantsApi(grants: GrantServices) {
  return {
    async listGrants(ctx: Koa.Context) {
      const principal = requireKind(ctx, 'patient', 'doctor');
      ctx.body =
        principal.kind === 'patient'
          ? await grants.grants.given(principal.accountId)
          : await grants.grants.received(principal.accountId);
    },

    async createGrant(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      const body = await jsonBody(ctx);
      const grantee = (body.grantee ?? {}) as { accountId?: unknown };
      if (typeof grantee.accountId !== 'string' || !ACCOUNT_ID.test(grantee.accountId)) {
        throw new LightboxError('BadRequest', 'grantee.accountId is required');
      }
      const scope = parseGrantScope(body.scope);
      const grant = await grants.grants.create(patient.accountId, {
        granteeAccountId: grantee.accountId,
        scope,
        access: parseAccess(body.access),
        expiresAt: parseExpiresAt(body.expiresAt),
      });
      grants.audit.record({
        action: 'grant-create',
        principal: patient,
        via: 'api',
        outcome: 'ok',
        ...scopeTarget(grant.scope),
        detail: { grantId: grant.grantId, access: grant.access, expires: grant.expiresAt !== null },
      });
      ctx.status = 201;
      ctx.body = grant;
    },

    async revokeGrant(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      const grant = await grants.grants.revoke(patient.accountId, String(ctx.params.grantId));
      grants.audit.record({
        action: 'grant-revoke',
        principal: patient,
        via: 'api',
        outcome: 'ok',
        ...scopeTarget(grant.scope),
        detail: { grantId: grant.grantId },
      });
      ctx.status = 204;
    },
  };
}
