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
import type { AuditAction, AuditLog } from '../../core/audit/audit-log.js';
import type { Access, AccessControl } from '../../core/grants/grants.js';
import type { Logger } from '../../core/log.js';
import type { LightboxMetrics } from '../../core/ops/metrics.js';
import type { IngestQueue } from '../../core/queue/ingest-queue.js';
import type { Spool } from '../../core/spool/spool.js';
import { channelOf, principalOf } from '../auth.js';

export interface DicomWebDeps {
  index: IndexStore;
  objects: ObjectStore;
  layouts: InstanceLayouts;
  spool: Spool;
  queue: IngestQueue;
  /** core/grants: every read decision. */
  access: AccessControl;
  /** Every query and retrieve is recorded (who, what, how). */
  audit: AuditLog;
  config: ViewerApiConfig;
  log: Logger;
  metrics?: LightboxMetrics;
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
  deps: Pick<DicomWebDeps, 'access' | 'audit'>,
  access: Access = 'read',
  action: AuditAction = 'retrieve',
): Promise<RetrieveTarget> {
  const StudyInstanceUID = uidParam(ctx, 'study', 'StudyInstanceUID')!;
  const SeriesInstanceUID = uidParam(ctx, 'series', 'SeriesInstanceUID');
  const SOPInstanceUID = uidParam(ctx, 'instance', 'SOPInstanceUID');
  return narrowTarget(
    ctx,
    deps,
    { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID },
    access,
    action,
  );
}

/**
 * A target narrowed to the readable series; NotFound when none (or not the one it names). The
 * attempt is audited, refused ones too: a patient sees who tried to reach their studies.
 */
export async function narrowTarget(
  ctx: Koa.Context,
  deps: Pick<DicomWebDeps, 'access' | 'audit'>,
  target: RetrieveTarget,
  access: Access,
  action: AuditAction = 'retrieve',
): Promise<RetrieveTarget> {
  const principal = principalOf(ctx);
  const series = await deps.access.readableSeries(principal, target.StudyInstanceUID, access);
  const named = target.SeriesInstanceUID;
  const allowed = series.length > 0 && (named === undefined || series.includes(named));
  if (principal) {
    deps.audit.record({
      action,
      principal,
      via: channelOf(ctx),
      outcome: allowed ? 'ok' : 'denied',
      StudyInstanceUID: target.StudyInstanceUID,
      SeriesInstanceUID: named,
      SOPInstanceUID: target.SOPInstanceUID,
      detail: { resource: resourceOf(ctx), access },
    });
  }
  if (!allowed) throw new LightboxError('NotFound', 'not found');
  return { ...target, SeriesInstanceUIDs: named === undefined ? series : [named] };
}

/** The route pattern below the DICOMweb root (no UIDs, no token): what kind of resource. */
export function resourceOf(ctx: Koa.Context): string {
  return String(ctx._matchedRoute ?? '').replace(/^.*\/dicom-web/, '') || 'unknown';
}

/** Like readTarget, for a search resource whose study and series are optional. */
export async function searchTarget(
  ctx: Koa.Context,
  deps: Pick<DicomWebDeps, 'access' | 'audit'>,
): Promise<Partial<RetrieveTarget>> {
  if ((ctx.params as Record<string, string | undefined>).study === undefined) return {};
  const { StudyInstanceUID, SeriesInstanceUID } = await readTarget(ctx, deps, 'read', 'query');
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
