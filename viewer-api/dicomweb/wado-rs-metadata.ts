/**
 * WADO-RS Retrieve Metadata of a study, series or instance (PS3.18 §10.4.1.1.2, §8.7.3.2): the
 * DICOM JSON of every instance, bulk values as absolute BulkDataURIs (PS3.18 §F.2.6) of the bulkdata
 * resource. A light query lists the instances with their versions; only the headers the metadata
 * cache does not hold are read from instance.metadata (a second query). ETag: a hash of the
 * instances' SHA-256s and row versions, so If-None-Match answers 304 (RFC 9110 §13.1.2) and a
 * rectified header gets a new tag. The first request of a target reads the headers in one query.
 */
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type {
  InstanceVersion,
  RetrieveTarget,
  StoredInstanceMetadata,
} from '../../core/archive/index-store.js';
import { instanceMetadataJson } from '../../core/dicom/dicom-json.js';
import { LightboxError } from '../../core/errors.js';
import { negotiateDicomJson } from './accept.js';
import { instanceUrl, readTarget, serviceUrl, type DicomWebDeps } from './context.js';
import { MetadataCache } from './metadata-cache.js';
import { isNative } from './transfer-syntax.js';

/** Bump when the metadata encoding changes, so that cached copies are not revalidated. */
const METADATA_VERSION = 'lightbox-metadata-2';

function entityTag(instances: InstanceVersion[], base: string): string {
  const hash = createHash('sha256').update(`${METADATA_VERSION}\n${base}\n`);
  for (const instance of instances) hash.update(`${instance.sha256} ${instance.version}\n`);
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

export function wadoRsMetadata(deps: DicomWebDeps, cache = new MetadataCache()) {
  /** An instance's JSON text, built from its stored header and kept in the cache. */
  const cachedText = (instance: StoredInstanceMetadata & InstanceVersion, base: string) => {
    const uri = instanceUrl(base, instance);
    const text = instanceMetadataJson(
      instance.metadata,
      `${uri}/bulkdata`,
      pixelDataAttribute(instance, uri),
    );
    cache.set(MetadataCache.key(base, instance), text);
    return text;
  };

  /** Each instance's JSON text, from the cache or (for the others, in one query) the index. */
  const metadataTexts = async (
    target: RetrieveTarget,
    versions: InstanceVersion[],
    base: string,
  ) => {
    const texts = versions.map((v) => cache.get(MetadataCache.key(base, v)));
    const missing = versions.filter((_, i) => texts[i] === undefined).map((v) => v.SOPInstanceUID);
    if (missing.length === 0) return texts as string[];
    const rows = await deps.index.retrieveMetadata(
      target,
      missing.length === versions.length ? undefined : missing,
    );
    const read = new Map(rows.map((row) => [row.SOPInstanceUID, row]));
    versions.forEach((v, i) => {
      const row = texts[i] === undefined ? read.get(v.SOPInstanceUID) : undefined;
      if (row) texts[i] = cachedText(row, base);
    });
    // An instance removed between the two queries is left out.
    return texts.filter((t): t is string => t !== undefined);
  };

  const retrieveMetadata: Koa.Middleware = async (ctx) => {
    const mediaType = negotiateDicomJson(ctx.get('Accept') || undefined);
    const target = await readTarget(ctx, deps);
    const base = serviceUrl(ctx, deps.config);
    const targetKey = `${base} ${JSON.stringify(target)}`;
    let versions: InstanceVersion[];
    let texts: string[] | undefined;
    if (cache.knowsTarget(targetKey)) {
      versions = await deps.index.instanceVersions(target);
    } else {
      // First read of this target: nothing is cached, so the headers (which carry their versions)
      // are read at once, one query instead of two.
      const rows = await deps.index.retrieveMetadata(target);
      versions = rows;
      texts = rows.map((row) => cachedText(row, base));
      cache.rememberTarget(targetKey);
    }
    if (versions.length === 0) throw new LightboxError('NotFound', 'not found');
    const etag = entityTag(versions, base);
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', 'private, no-cache');
    if (notModified(ctx.get('If-None-Match'), etag)) {
      ctx.status = 304;
      return;
    }
    texts ??= await metadataTexts(target, versions, base);
    ctx.status = 200;
    ctx.set('Content-Type', mediaType);
    ctx.body = `[${texts.join(',')}]`;
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
