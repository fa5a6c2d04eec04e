/**
 * WADO-RS Retrieve Metadata of a study, series or instance (PS3.18 §10.4.1.1.2, §8.7.3.2): the
 * DICOM JSON of every instance, bulk values as absolute BulkDataURIs (PS3.18 §F.2.6) of the bulkdata
 * resource. The first request of a target reads its headers and version in one query and keeps the
 * response (metadata-cache.ts); later requests read the target's version alone and send the kept
 * response while it is unchanged. ETag: a hash of that version, so If-None-Match answers 304 (RFC
 * 9110 §13.1.2) and a new instance or a rectified header gets a new tag. warmStudyMetadata builds a
 * whole study's response before anyone asks (metadata-warmer.ts: once a study has been stored).
 */
import { createHash, randomBytes } from 'node:crypto';
import type Koa from 'koa';
import type {
  IndexStore,
  RetrieveTarget,
  StoredInstanceMetadata,
} from '../../core/archive/index-store.js';
import type { AccessControl } from '../../core/grants/grants.js';
import { instanceMetadataJson } from '../../core/dicom/dicom-json.js';
import { LightboxError } from '../../core/errors.js';
import { negotiateDicomJson } from './accept.js';
import { instanceUrl, readTarget, serviceUrl, type DicomWebDeps } from './context.js';
import { MetadataBody, MetadataCache } from './metadata-cache.js';
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

/**
 * Stands for the base URL while a response is built (MetadataBody renders it for each base).
 * Random for each process and never sent: no stored header can hold it.
 */
const BASE_PLACEHOLDER = `lightbox-base-${randomBytes(16).toString('hex')}`;

/** The response for every stored instance of a target, its base URL left open. */
function metadataBody(instances: readonly StoredInstanceMetadata[]): MetadataBody {
  const text = `[${instances.map((i) => instanceText(i, BASE_PLACEHOLDER)).join(',')}]`;
  return MetadataBody.fromTemplate(text, BASE_PLACEHOLDER);
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
    const key = MetadataCache.key(target);
    const kept = cache.get(key);
    let version = kept && (await deps.index.targetVersion(target));
    let body = kept && version === kept.version ? kept.body.render(base) : undefined;
    if (body === undefined) {
      // First read of this target, or it changed: headers and version in one query.
      const read = await deps.index.retrieveMetadata(target);
      version = read.version;
      if (version === null) {
        cache.delete(key);
      } else {
        const built = metadataBody(read.instances);
        cache.set(key, { version, body: built });
        body = built.render(base);
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

/** Whom a warmed response is built for: every series of the study, as a reader of all. */
const READER_OF_ALL = { kind: 'archive-reader' } as const;

/**
 * Builds and keeps the metadata responses of a study before anyone asks for them: the whole study's
 * and each series' (OHIF reads a study series by series), so that the first viewer to open a study
 * just received does not wait for its headers to be read and printed. They serve whoever may read
 * every series of the study (the key names the series). Each is read with its version in one
 * query, as a request would, in the index's background (QueryOptions.background: behind every
 * request), and kept only in free room: a study nobody has asked for never evicts one somebody
 * opened. Returns how many responses were kept.
 */
export async function warmStudyMetadata(
  deps: { index: IndexStore; access: AccessControl },
  cache: MetadataCache,
  StudyInstanceUID: string,
): Promise<number> {
  const series = await deps.access.readableSeries(READER_OF_ALL, StudyInstanceUID);
  if (series.length === 0) return 0;
  const targets: RetrieveTarget[] = [
    { StudyInstanceUID, SeriesInstanceUIDs: series },
    ...series.map((SeriesInstanceUID) => ({
      StudyInstanceUID,
      SeriesInstanceUID,
      SeriesInstanceUIDs: [SeriesInstanceUID],
    })),
  ];
  let kept = 0;
  for (const target of targets) {
    if (cache.size.bytes >= cache.maxBytes) break;
    const key = MetadataCache.key(target);
    const current = cache.peek(key);
    if (current && current.version === (await deps.index.targetVersion(target))) continue;
    const read = await deps.index.retrieveMetadata(target, { background: true });
    if (read.version === null) continue;
    const entry = { version: read.version, body: metadataBody(read.instances) };
    if (cache.set(key, entry, { evict: false })) kept++;
  }
  return kept;
}
