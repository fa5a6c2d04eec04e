/**
 * What a de-identified share serves, to whoever holds its id (a 192-bit capability, no account):
 *   GET /deidentified/:shareId/instances → [{ StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID }]
 *     (the de-identified UIDs);
 *   GET /deidentified/:shareId/instances/:SOPInstanceUID → application/dicom, a de-identified copy
 *     (PS3.15 Annex E Basic Profile), streamed.
 * 404 once the consent is withdrawn, the record restricted or erased, or for any unknown id.
 */
import type Koa from 'koa';
import type { DataRights } from '../../core/data-rights/data-rights.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { LightboxError } from '../../core/errors.js';

function shareIdParam(ctx: Koa.Context): string {
  const id = String(ctx.params.shareId);
  if (!/^[A-Za-z0-9_-]{32}$/.test(id)) throw new LightboxError('NotFound', 'not found');
  return id;
}

export function deidentifiedShareRoutes(dataRights: DataRights) {
  return {
    listInstances: (async (ctx) => {
      ctx.body = await dataRights.listDeidentifiedShare(shareIdParam(ctx));
    }) as Koa.Middleware,

    retrieveInstance: (async (ctx) => {
      const sop = assertValidUID(ctx.params.instance, 'SOPInstanceUID');
      ctx.body = await dataRights.openDeidentifiedInstance(shareIdParam(ctx), sop);
      ctx.type = 'application/dicom';
      ctx.set('Content-Disposition', `attachment; filename="${sop}.dcm"`);
    }) as Koa.Middleware,
  };
}
