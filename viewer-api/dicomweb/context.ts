/**
 * What every DICOMweb resource needs: its dependencies, the target UIDs of the path (validated, PS3.5
 * §9.1) with the read check of core/grants, and absolute URLs for RetrieveURL (0008,1190) and
 * BulkDataURI (PS3.18 §8.6.1.1), built from the configured public URL or the request's own origin.
 */
import type Koa from 'koa';
import type { ViewerApiConfig } from '../../config/schema.js';
import type { IndexStore, RetrieveTarget } from '../../core/archive/index-store.js';
import type { InstanceLayouts } from '../../core/archive/instance-layout.js';
import type { ObjectStore } from '../../core/archive/object-store.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { LightboxError } from '../../core/errors.js';
import type { Access, AccessControl } from '../../core/grants/grants.js';
import type { Logger } from '../../core/log.js';
import type { IngestQueue } from '../../core/queue/ingest-queue.js';
import type { Spool } from '../../core/spool/spool.js';
import { principalOf } from '../auth.js';

export interface DicomWebDeps {
  index: IndexStore;
  objects: ObjectStore;
  layouts: InstanceLayouts;
  spool: Spool;
  queue: IngestQueue;
  /** core/grants: every read decision. */
  access: AccessControl;
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
 * The study, series and instance the path names, narrowed to the series the principal may access
 * at `access` level (core/grants). Throws InvalidUID for a malformed UID and NotFound (never
 * Forbidden) when nothing of it may be accessed: a series grant never reaches a sibling series.
 */
export async function readTarget(
  ctx: Koa.Context,
  deps: Pick<DicomWebDeps, 'access'>,
  access: Access = 'read',
): Promise<RetrieveTarget> {
  const StudyInstanceUID = uidParam(ctx, 'study', 'StudyInstanceUID')!;
  const SeriesInstanceUID = uidParam(ctx, 'series', 'SeriesInstanceUID');
  const SOPInstanceUID = uidParam(ctx, 'instance', 'SOPInstanceUID');
  return narrowTarget(ctx, deps, { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID }, access);
}

/** A target narrowed to the readable series; NotFound when none (or not the one it names). */
export async function narrowTarget(
  ctx: Koa.Context,
  deps: Pick<DicomWebDeps, 'access'>,
  target: RetrieveTarget,
  access: Access,
): Promise<RetrieveTarget> {
  const series = await deps.access.readableSeries(
    principalOf(ctx),
    target.StudyInstanceUID,
    access,
  );
  const named = target.SeriesInstanceUID;
  if (series.length === 0 || (named !== undefined && !series.includes(named))) {
    throw new LightboxError('NotFound', 'not found');
  }
  return { ...target, SeriesInstanceUIDs: named === undefined ? series : [named] };
}

/** Like readTarget, for a search resource whose study and series are optional. */
export async function searchTarget(
  ctx: Koa.Context,
  deps: Pick<DicomWebDeps, 'access'>,
): Promise<Partial<RetrieveTarget>> {
  if ((ctx.params as Record<string, string | undefined>).study === undefined) return {};
  const { StudyInstanceUID, SeriesInstanceUID } = await readTarget(ctx, deps);
  return { StudyInstanceUID, SeriesInstanceUID };
}

/** Absolute base URL of the DICOMweb service for this request. */
export function serviceUrl(ctx: Koa.Context, config: ViewerApiConfig): string {
  const origin = config.publicUrl?.replace(/\/+$/, '') ?? `${ctx.protocol}://${ctx.host}`;
  return origin + dicomWebRootOf(ctx);
}

/**
 * The DICOMweb root this request came through: /dicom-web, or a share link's own root
 * (/share/<token>/dicom-web), so that RetrieveURL and BulkDataURI stay inside the link.
 */
export function dicomWebRootOf(ctx: Koa.Context): string {
  return (ctx.state.dicomWebRoot as string | undefined) ?? DICOMWEB_ROOT;
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
