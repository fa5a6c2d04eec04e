/**
 * WADO-RS Retrieve Metadata of a study, series or instance (PS3.18 §10.4.1.1.2, §8.7.3.2): the
 * DICOM JSON of every instance, bulk values as absolute BulkDataURIs (PS3.18 §F.2.6) of the bulkdata
 * resource. The first request of a target reads its headers and version in one query and keeps the
 * response (metadata-cache.ts); later requests read the target's version alone and send the kept
 * response while it is unchanged. ETag: a hash of that version, so If-None-Match answers 304 (RFC
 * 9110 §13.1.2) and a new instance or a rectified header gets a new tag.
 */
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type { StoredInstanceMetadata } from '../../core/archive/index-store.js';
import { instanceMetadataJson } from '../../core/dicom/dicom-json.js';
import { LightboxError } from '../../core/errors.js';
import { negotiateDicomJson } from './accept.js';
import { instanceUrl, readTarget, serviceUrl, type DicomWebDeps } from './context.js';
import { MetadataCache } from './metadata-cache.js';
import { isNative } from './transfer-syntax.js';

/** Bump when the metadata encoding changes, so that cached copies are not revalidated. */
const METADATA_VERSION = 'lightbox-metadata-3';

function entityTag(version: string, base: string): string {
  const hash = createHash('sha256').update(`${METADATA_VERSION}\n${base}\n${version}`);
  return `"${hash.digest('base64url').slice(0, 32)}"`;
}

/** If-None-Match (RFC 9110 §13.1.2): weak comparison, "*" matches any. */
function notModified(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Whether the instance has pixel data, which the stored header stops before: it has the Image Pixel
 * Module (Rows, Columns, BitsAllocated; PS3.3 §C.7.6.3 then requires Pixel Data) and, when native
 * and not deflated, an object large enough to hold one sample per pixel of every frame.
 */
function hasPixelData(instance: StoredInstanceMetadata): boolean {
  const { Rows, Columns, BitsAllocated, NumberOfFrames, TransferSyntaxUID: ts } = instance;
  if (!Rows || !Columns || !BitsAllocated) return false;
  if (!isNative(ts) || ts === '1.2.840.10008.1.2.1.99') return true;
  return instance.size >= (Rows * Columns * (NumberOfFrames || 1) * BitsAllocated) / 8;
}

/**
 * The pixel data attribute. Its VR follows PS3.5 §A.4 and §8.2: OB when encapsulated or 8-bit, OW
 * otherwise (and always in implicit VR, PS3.5 §A.1); a file may use OW for 8-bit pixels.
 */
function pixelDataAttribute(instance: StoredInstanceMetadata, uri: string) {
  if (!hasPixelData(instance)) return undefined;
  const { TransferSyntaxUID: ts, BitsAllocated: bits } = instance;
  const vr = ts === '1.2.840.10008.1.2' || (isNative(ts) && (bits ?? 16) > 8) ? 'OW' : 'OB';
  return { vr, BulkDataURI: `${uri}/bulkdata/7FE00010` };
}

/** An instance's JSON text, built from its stored header. */
function instanceText(instance: StoredInstanceMetadata, base: string): string {
  const uri = instanceUrl(base, instance);
  return instanceMetadataJson(
    instance.metadata,
    `${uri}/bulkdata`,
    pixelDataAttribute(instance, uri),
  );
}

export function wadoRsMetadata(deps: DicomWebDeps, cache = new MetadataCache()) {
  const retrieveMetadata: Koa.Middleware = async (ctx) => {
    const mediaType = negotiateDicomJson(ctx.get('Accept') || undefined);
    const target = await readTarget(ctx, deps);
    const base = serviceUrl(ctx, deps.config);
    const key = MetadataCache.key(base, target);
    const kept = cache.get(key);
    let version = kept && (await deps.index.targetVersion(target));
    let body = kept && version === kept.version ? kept.body : undefined;
    if (body === undefined) {
      // First read of this target, or it changed: headers and version in one query.
      const read = await deps.index.retrieveMetadata(target);
      version = read.version;
      if (version === null) {
        cache.delete(key);
      } else {
        body = Buffer.from(`[${read.instances.map((i) => instanceText(i, base)).join(',')}]`);
        cache.set(key, { version, body });
      }
    }
    if (!version || body === undefined) throw new LightboxError('NotFound', 'not found');
    const etag = entityTag(version, base);
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', 'private, no-cache');
    if (notModified(ctx.get('If-None-Match'), etag)) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    ctx.set('Content-Type', mediaType);
    ctx.body = body;
  };
  return {
    /** GET /studies/{study}/metadata */
    retrieveStudyMetadata: retrieveMetadata,
    /** GET /studies/{study}/series/{series}/metadata */
    retrieveSeriesMetadata: retrieveMetadata,
    /** GET /studies/{study}/series/{series}/instances/{instance}/metadata */
    retrieveInstanceMetadata: retrieveMetadata,
  };
}
