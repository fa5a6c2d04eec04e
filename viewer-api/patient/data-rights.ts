/**
 * The data rights of the patient API (the brief's contract), for a patient on their own linked
 * records; "absent" and "not yours" are both 404 (problem.ts):
 *   POST /api/exports { patientKey } → 202 { exportId }; GET /api/exports/:id → progress;
 *   GET /api/exports/:id/download → application/zip (PS3.10 media with DICOMDIR);
 *   POST /api/erasure-requests { patientKey } → 201 receipt;
 *   PUT|DELETE /api/patient-records/:patientKey/restriction → 204;
 *   POST /api/patient-records/:patientKey/rectifications { attributes, reason } → 201;
 *   GET /api/patient-records/:patientKey/rectifications → the history;
 *   PUT|DELETE /api/patient-records/:patientKey/deidentification-consent { purpose } → 201 | 204;
 *   POST /api/deidentified-shares { patientKey, StudyInstanceUID } → 201 { shareId, instances }.
 * The work is in core/data-rights; this module only maps HTTP to it.
 */
import type Koa from 'koa';
import type { DataRights, Actor } from '../../core/data-rights/data-rights.js';
import type { PatientKeysOf } from '../../core/data-rights/patient-keys.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { LightboxError } from '../../core/errors.js';
import { principalOf } from '../auth.js';
import { jsonBody as readJsonBody } from './json-body.js';

export interface DataRightsRouteDeps {
  dataRights: DataRights;
  patientKeysOf: PatientKeysOf;
}

export function dataRightsRoutes(deps: DataRightsRouteDeps) {
  const { dataRights } = deps;

  /** The actor, when `patientKey` is one of their records; NotFound otherwise. */
  const ownRecord = async (ctx: Koa.Context, patientKey: unknown): Promise<Actor> => {
    const principal = principalOf(ctx);
    const keys = await deps.patientKeysOf(principal);
    if (!principal || typeof patientKey !== 'string' || !keys.includes(patientKey)) {
      throw new LightboxError('NotFound', 'not found');
    }
    return { principal, via: 'api' };
  };
  const ownExport = async (ctx: Koa.Context) => {
    const status = await dataRights.exports.status(String(ctx.params.id));
    if (!status) throw new LightboxError('NotFound', 'not found');
    await ownRecord(ctx, status.patientKey);
    return status;
  };

  return {
    startExport: (async (ctx) => {
      const { patientKey } = await readJsonBody(ctx);
      const actor = await ownRecord(ctx, patientKey);
      const { exportId } = await dataRights.startExport(patientKey as string, actor);
      ctx.status = 202;
      ctx.set('Location', `/api/exports/${exportId}`);
      ctx.body = { exportId };
    }) as Koa.Middleware,

    exportStatus: (async (ctx) => {
      const { exportId, state, done, total } = await ownExport(ctx);
      ctx.body = { exportId, state, done, total };
    }) as Koa.Middleware,

    downloadExport: (async (ctx) => {
      const { exportId } = await ownExport(ctx);
      const { stream, size } = await dataRights.exports.download(exportId);
      ctx.type = 'application/zip';
      ctx.length = size;
      ctx.set('Content-Disposition', `attachment; filename="imaging-${exportId}.zip"`);
      ctx.body = stream;
    }) as Koa.Middleware,

    requestErasure: (async (ctx) => {
      const { patientKey } = await readJsonBody(ctx);
      const actor = await ownRecord(ctx, patientKey);
      const receipt = await dataRights.erase(patientKey as string, actor);
      ctx.status = 201;
      ctx.body = receipt;
    }) as Koa.Middleware,

    restrict: (async (ctx) => {
      const actor = await ownRecord(ctx, ctx.params.patientKey);
      await dataRights.setRestriction(ctx.params.patientKey as string, true, actor);
      ctx.status = 204;
    }) as Koa.Middleware,

    liftRestriction: (async (ctx) => {
      const actor = await ownRecord(ctx, ctx.params.patientKey);
      await dataRights.setRestriction(ctx.params.patientKey as string, false, actor);
      ctx.status = 204;
    }) as Koa.Middleware,

    rectify: (async (ctx) => {
      const body = await readJsonBody(ctx);
      const actor = await ownRecord(ctx, ctx.params.patientKey);
      const entry = await dataRights.rectify(
        ctx.params.patientKey as string,
        body.attributes,
        body.reason,
        actor,
      );
      ctx.status = 201;
      ctx.body = entry;
    }) as Koa.Middleware,

    rectifications: (async (ctx) => {
      await ownRecord(ctx, ctx.params.patientKey);
      ctx.body = await dataRights.rectifications(ctx.params.patientKey as string);
    }) as Koa.Middleware,

    giveConsent: (async (ctx) => {
      const { purpose } = await readJsonBody(ctx);
      const actor = await ownRecord(ctx, ctx.params.patientKey);
      const key = ctx.params.patientKey as string;
      ctx.status = 201;
      ctx.body = await dataRights.giveDeidentificationConsent(key, purpose, actor);
    }) as Koa.Middleware,

    withdrawConsent: (async (ctx) => {
      await ownRecord(ctx, ctx.params.patientKey);
      await dataRights.withdrawDeidentificationConsent(ctx.params.patientKey as string);
      ctx.status = 204;
    }) as Koa.Middleware,

    createDeidentifiedShare: (async (ctx) => {
      const { patientKey, StudyInstanceUID } = await readJsonBody(ctx);
      const actor = await ownRecord(ctx, patientKey);
      const study = assertValidUID(StudyInstanceUID, 'StudyInstanceUID');
      const { shareId } = await dataRights.createDeidentifiedShare(
        patientKey as string,
        study,
        actor,
      );
      ctx.status = 201;
      ctx.body = { shareId, instances: `/deidentified/${shareId}/instances` };
    }) as Koa.Middleware,
  };
}
