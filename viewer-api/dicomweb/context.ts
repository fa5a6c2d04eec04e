/**
 * What every DICOMweb resource needs: its dependencies, the target UIDs of the path (validated, PS3.5
 * §9.1) with the read check of core/grants, and absolute URLs for RetrieveURL (0008,1190) and
 * BulkDataURI (PS3.18 §8.6.1.1), built from the configured public URL or the request's own origin.
 */
import type Koa from 'koa';
import type { ViewerApiConfig } from '../../config/schema.js';
import type { IndexStore, RetrieveTarget } from '../../core/archive/index-store.js';
import type { InstanceLayouts } from '../../core/archive/instance-layout.js';
import type { RenderPool } from '../../core/imaging/render-pool.js';
import type { ObjectStore } from '../../core/archive/object-store.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { LightboxError } from '../../core/errors.js';
import { canRead } from '../../core/grants/grants.js';
import type { Logger } from '../../core/log.js';
import type { IngestQueue } from '../../core/queue/ingest-queue.js';
import type { Spool } from '../../core/spool/spool.js';
import { principalOf } from '../auth.js';

export interface DicomWebDeps {
  index: IndexStore;
  objects: ObjectStore;
  layouts: InstanceLayouts;
  /** Rendered and thumbnail images are made on its threads (core/imaging/render-pool.ts). */
  renderPool: RenderPool;
  spool: Spool;
  queue: IngestQueue;
  config: ViewerApiConfig;
  log: Logger;
}

/** The mount point of the DICOMweb service (PS3.18 §8.2: the base URL of the origin server). */
export const DICOMWEB_ROOT = '/dicom-web';

/** Path parameters named as in routes.ts. */
function uidParam(ctx: Koa.Context, name: string, keyword: string): string | undefined {
  const value = (ctx.params as Record<string, string | undefined>)[name];
  return value === undefined ? undefined : assertValidUID(value, keyword);
}

/**
 * The study, series and instance the path names. Throws InvalidUID for a malformed UID and
 * NotFound (never Forbidden) when the principal may not read the study.
 */
export function readTarget(ctx: Koa.Context): RetrieveTarget {
  const StudyInstanceUID = uidParam(ctx, 'study', 'StudyInstanceUID')!;
  const SeriesInstanceUID = uidParam(ctx, 'series', 'SeriesInstanceUID');
  const SOPInstanceUID = uidParam(ctx, 'instance', 'SOPInstanceUID');
  if (!canRead(principalOf(ctx), StudyInstanceUID)) {
    throw new LightboxError('NotFound', 'not found');
  }
  return { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID };
}

/** Like readTarget, for a search resource whose study and series are optional. */
export function searchTarget(ctx: Koa.Context): Partial<RetrieveTarget> {
  if ((ctx.params as Record<string, string | undefined>).study === undefined) return {};
  const { StudyInstanceUID, SeriesInstanceUID } = readTarget(ctx);
  return { StudyInstanceUID, SeriesInstanceUID };
}

/** Absolute base URL of the DICOMweb service for this request. */
export function serviceUrl(ctx: Koa.Context, config: ViewerApiConfig): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `${ctx.protocol}://${ctx.host}`;
  return origin + DICOMWEB_ROOT;
}

export function studyUrl(base: string, t: { StudyInstanceUID: string }): string {
  return `${base}/studies/${t.StudyInstanceUID}`;
}

export function seriesUrl(
  base: string,
  t: { StudyInstanceUID: string; SeriesInstanceUID: string },
): string {
  return `${studyUrl(base, t)}/series/${t.SeriesInstanceUID}`;
}

export function instanceUrl(
  base: string,
  t: { StudyInstanceUID: string; SeriesInstanceUID: string; SOPInstanceUID: string },
): string {
  return `${seriesUrl(base, t)}/instances/${t.SOPInstanceUID}`;
}
