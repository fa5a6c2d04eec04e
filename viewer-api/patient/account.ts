/**
 * Who am I, my patient records, and the doctors a patient may choose from:
 * GET /api/me, GET /api/patient-records, GET /api/doctors?q=.
 */
import type Koa from 'koa';
import type { GrantServices } from '../../core/grants/grant-services.js';
import { principalOf } from '../auth.js';
import { requireKind } from './principals.js';

export function accountApi(grants: GrantServices) {
  return {
    /** GET /api/me → { accountId, kind, displayName, organisationId? }; also the portal's sign-in. */
    async me(ctx: Koa.Context) {
      const principal = principalOf(ctx)!;
      grants.audit.record({ action: 'sign-in', principal, via: 'api', outcome: 'ok' });
      if ('accountId' in principal) {
        const account = await grants.accounts.get(principal.accountId);
        ctx.body = {
          accountId: principal.accountId,
          kind: principal.kind,
          displayName: account?.displayName ?? '',
          ...(account?.organisationId ? { organisationId: account.organisationId } : {}),
        };
        return;
      }
      if (principal.kind === 'organisation') {
        const org = grants.organisations.find((o) => o.id === principal.organisationId);
        ctx.body = {
          accountId: null,
          kind: principal.kind,
          displayName: org?.name ?? principal.organisationId,
          organisationId: principal.organisationId,
        };
        return;
      }
      ctx.body = { accountId: null, kind: principal.kind, displayName: 'Archive integration' };
    },

    /** GET /api/patient-records → the patient's own records. */
    async patientRecords(ctx: Koa.Context) {
      const patient = requireKind(ctx, 'patient');
      ctx.body = await grants.accounts.patientRecords(patient.accountId);
    },

    /** GET /api/doctors?q= → [{ accountId, displayName }] for a patient choosing a grantee. */
    async doctors(ctx: Koa.Context) {
      requireKind(ctx, 'patient');
      const q = typeof ctx.query.q === 'string' ? ctx.query.q.slice(0, 100) : '';
      ctx.body = await grants.accounts.searchDoctors(q);
    },
  };
}
