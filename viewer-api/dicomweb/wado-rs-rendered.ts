/**
 * WADO-RS rendered and thumbnail resources (PS3.18 §10.4.1.1.5 Rendered, §10.4.1.1.6 Thumbnail) and
 * WADO-URI (PS3.18 §10.4.2 / §9), over the rendering engine of core/imaging, run on its thread
 * pool (render-pool.ts: 503 with Retry-After when full). The stored object is read whole (the codecs need it), after its size has
 * been checked against the rendering limit and the pool has admitted the job.
 *
 * - instance/rendered renders frame 1; frames/{n}/rendered renders frame n (one frame only: a list
 *   of frames is 400, since a single image is returned).
 * - thumbnails: an instance's middle frame; a series' middle instance; a study's first series that
 *   has an image, then its middle instance.
 */
import type Koa from 'koa';
import { buffer } from 'node:stream/consumers';
import type { StoredInstance } from '../../core/archive/index-store.js';
import { LightboxError } from '../../core/errors.js';
// Not the imaging barrel: that loads dcmjs-imaging and sharp, which only the render threads need.
import { isRenderError } from '../../core/imaging/errors.js';
import {
  assertRenderableSize,
  type RenderedImage,
  type RenderOptions,
} from '../../core/imaging/render-options.js';
import { parseRenderedQuery } from '../../core/imaging/rendered-query.js';
import { parseWadoUriQuery } from '../../core/imaging/wado-uri-query.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { narrowTarget, readTarget, type DicomWebDeps } from './context.js';
import { parseFrameList } from './wado-rs-frames.js';

type Query = Record<string, string | string[] | undefined>;

export function wadoRsRendered(deps: DicomWebDeps) {
  /** Reads the object once the pool has admitted the job (a refused job reads nothing). */
  const loaderOf = (instance: StoredInstance) => {
    assertRenderableSize(instance.size);
    return async () => buffer(await deps.objects.getObject(instance.objectKey));
  };
  const renderFrame = (instance: StoredInstance, frameNumber: number, options: RenderOptions) =>
    deps.renderPool.render({ kind: 'frame', load: loaderOf(instance), frameNumber, options });

  const instancesOf = async (ctx: Koa.Context): Promise<StoredInstance[]> => {
    const instances = await deps.index.findStoredInstances(await readTarget(ctx, deps));
    if (instances.length === 0) throw new LightboxError('NotFound', 'not found');
    return instances;
  };

  const send = (ctx: Koa.Context, image: RenderedImage) => {
    ctx.type = image.contentType;
    ctx.body = image.body;
  };

  /** Series in order, each with its instances; the middle instance of each first. */
  const thumbnailCandidates = (instances: StoredInstance[]): StoredInstance[] => {
    const bySeries = new Map<string, StoredInstance[]>();
    for (const i of instances) {
      bySeries.set(i.SeriesInstanceUID, [...(bySeries.get(i.SeriesInstanceUID) ?? []), i]);
    }
    return [...bySeries.values()].map((list) => list[Math.floor((list.length - 1) / 2)]!);
  };

  return {
    async retrieveRenderedInstance(ctx: Koa.Context) {
      const options = parseRenderedQuery(ctx.query as Query, ctx.get('Accept') || undefined);
      const [instance] = await instancesOf(ctx);
      send(ctx, await renderFrame(instance!, 1, options));
    },

    async retrieveRenderedFrame(ctx: Koa.Context) {
      const frames = parseFrameList(String((ctx.params as { frames: string }).frames));
      if (frames.length !== 1) {
        throw new LightboxError('BadRequest', 'a rendered frame request names exactly one frame');
      }
      const options = parseRenderedQuery(ctx.query as Query, ctx.get('Accept') || undefined);
      const [instance] = await instancesOf(ctx);
      send(ctx, await renderFrame(instance!, frames[0]!, options));
    },

    async retrieveThumbnail(ctx: Koa.Context) {
      const options = parseRenderedQuery(
        ctx.query as Query,
        ctx.get('Accept') || undefined,
        'thumbnail',
      );
      const frames = (ctx.params as { frames?: string }).frames;
      const frameNumber = frames === undefined ? undefined : parseFrameList(frames)[0];
      const candidates = thumbnailCandidates(await instancesOf(ctx));
      for (const candidate of candidates.slice(0, 8)) {
        try {
          const load = loaderOf(candidate);
          send(
            ctx,
            await deps.renderPool.render({ kind: 'thumbnail', load, frameNumber, options }),
          );
          return;
        } catch (error) {
          // A series of non-images (SR, RT plan…): try the next series.
          if (!(isRenderError(error) && error.code === 'NoPixelData' && candidates.length > 1)) {
            throw error;
          }
        }
      }
      throw new LightboxError('NotFound', 'no image to make a thumbnail of');
    },

    /**
     * WADO-URI (PS3.18 §9): /wado?requestType=WADO&studyUID&seriesUID&objectUID[&contentType…].
     * application/dicom returns the stored object unchanged; image/jpeg (default) and image/png render.
     */
    async wadoUri(ctx: Koa.Context) {
      const query = ctx.query as Query;
      const single = (name: string) =>
        typeof query[name] === 'string' ? (query[name] as string) : undefined;
      if (single('requestType') !== 'WADO') {
        throw new LightboxError('BadRequest', 'requestType must be WADO');
      }
      const StudyInstanceUID = assertValidUID(single('studyUID'), 'studyUID');
      const SeriesInstanceUID = assertValidUID(single('seriesUID'), 'seriesUID');
      const SOPInstanceUID = assertValidUID(single('objectUID'), 'objectUID');
      const dicom = single('contentType') === 'application/dicom';
      const target = { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID };
      // The stored file is a download; a rendered image is a read (core/grants/scope.ts).
      const narrowed = await narrowTarget(ctx, deps, target, dicom ? 'download' : 'read');
      const [instance] = await deps.index.findStoredInstances(narrowed);
      if (!instance) throw new LightboxError('NotFound', 'not found');
      if (dicom) {
        ctx.type = 'application/dicom';
        ctx.length = instance.size;
        ctx.body = await deps.objects.getObject(instance.objectKey);
        return;
      }
      const { options, frameNumber } = parseWadoUriQuery(query);
      send(ctx, await renderFrame(instance, frameNumber, options));
    },
  };
}
