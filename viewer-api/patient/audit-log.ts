/** GET /api/audit?limit&offset: a patient reads who did what on their records, newest first. */
import type Koa from 'koa';
import type { GrantServices } from '../../core/grants/grant-services.js';
import { page, requireKind } from './principals.js';

export function auditApi(grants: GrantServices) {
  return {
    async readAudit(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      const { limit, offset } = page(ctx);
      await grants.audit.flush(); // the patient's own recent actions are part of the answer
      ctx.body = await grants.auditTrail.forPatient(patient.accountId, limit, offset);
    },
  };
}
