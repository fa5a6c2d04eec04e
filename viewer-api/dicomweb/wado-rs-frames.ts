/**
 * WADO-RS Retrieve Frames (PS3.18 §10.4.1.1.3, §8.7.3.3.2): multipart/related, one part per frame in
 * the order asked. Native pixel data: application/octet-stream, little endian (big endian words
 * swapped, 1-bit frames aligned to a byte). Encapsulated: the frame's fragment bytes as stored, typed
 * image/jpeg, image/jls, image/jp2, image/dicom-rle… (PS3.18 Table 8.7.3-5) or application/octet-
 * stream, the transfer-syntax parameter naming the bitstream. Nothing is decoded or transcoded.
 */
import type Koa from 'koa';
import { Readable, pipeline } from 'node:stream';
import type { Fragment } from '../../core/archive/encapsulated.js';
import type { StoredInstance } from '../../core/archive/index-store.js';
import { openValueRange, type InstanceLayout } from '../../core/archive/instance-layout.js';
import {
  SwapBytes,
  frameGeometry,
  nativeFrameSpan,
  realignBits,
  wordSize,
  type FrameSpan,
} from '../../core/dicom/pixel-frames.js';
import { LightboxError } from '../../core/errors.js';
import { negotiate, type Offer } from './accept.js';
import { readTarget, type DicomWebDeps } from './context.js';
import {
  multipartBody,
  multipartContentType,
  newBoundary,
  type OutgoingPart,
} from './multipart.js';
import { ExplicitVRLittleEndian, frameMediaTypes, isNative } from './transfer-syntax.js';

const MAX_FRAMES_PER_REQUEST = 10_000;

/** "1,3,5" → [1, 3, 5] (PS3.18 §8.3.3.1: a comma-separated list of 1-based frame numbers). */
export function parseFrameList(text: string): number[] {
  const numbers = text.split(',').map((part) => (/^\d{1,9}$/.test(part.trim()) ? Number(part) : 0));
  if (numbers.length > MAX_FRAMES_PER_REQUEST || numbers.some((n) => n < 1)) {
    throw new LightboxError(
      'BadRequest',
      'frame list must be 1-based frame numbers, comma separated',
    );
  }
  return numbers;
}

/** Offers for native frames: octet-stream, labelled Explicit VR Little Endian (or Implicit, same bytes). */
const NATIVE_OFFERS: Offer[] = [ExplicitVRLittleEndian, '1.2.840.10008.1.2'].map((ts) => ({
  mediaType: 'multipart/related',
  partType: 'application/octet-stream',
  transferSyntaxes: [ts],
}));

function encapsulatedOffers(ts: string): Offer[] {
  return [...frameMediaTypes(ts), 'application/octet-stream'].map((partType) => ({
    mediaType: 'multipart/related',
    partType,
    transferSyntaxes: [ts],
  }));
}

/** The bytes of fragments one after another, each read as a range of the object. */
function fragmentStream(deps: DicomWebDeps, key: string, fragments: Fragment[]): Readable {
  async function* read(): AsyncGenerator<Buffer> {
    for (const f of fragments) {
      if (f.length === 0) continue;
      const stream = await deps.objects.getObject(key, {
        start: f.offset,
        end: f.offset + f.length - 1,
      });
      try {
        for await (const chunk of stream) yield chunk as Buffer;
      } finally {
        stream.destroy();
      }
    }
  }
  return Readable.from(read(), { objectMode: false });
}

async function nativeFrame(
  deps: DicomWebDeps,
  instance: StoredInstance,
  layout: InstanceLayout,
  span: FrameSpan,
): Promise<Readable> {
  const stream = await openValueRange(deps.objects, instance, layout, span.start, span.end);
  if (span.bitShift !== 0 || span.end - span.start + 1 !== span.bytes) {
    // 1-bit pixels: the frame starts inside a byte; small enough to realign in memory.
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Readable.from([realignBits(Buffer.concat(chunks), span.bitShift, span.bytes)]);
  }
  const word = wordSize(layout.pixelData!.vr);
  if (layout.littleEndian || word === 1) return stream;
  const swapped = new SwapBytes(word);
  pipeline(stream, swapped, () => undefined); // an error destroys `swapped`, which the reader sees
  return swapped;
}

/**
 * Sends frames `frameNumbers` of an instance (also the bulk data of encapsulated pixel data, which
 * PS3.18 §8.7.3.3.2 types like frames). NotFound for a frame the instance does not have.
 */
export async function sendFrames(
  ctx: Koa.Context,
  deps: DicomWebDeps,
  instance: StoredInstance,
  layout: InstanceLayout,
  frameNumbers: number[] | 'all',
): Promise<void> {
  const pixelData = layout.pixelData;
  if (!pixelData) throw new LightboxError('NotFound', 'the instance has no pixel data');
  const accept = ctx.get('Accept') || undefined;
  let offer: Offer;
  let bodies: Array<() => Promise<Readable>>;
  if (isNative(layout.TransferSyntaxUID) && pixelData.length !== undefined) {
    offer = negotiate(accept, NATIVE_OFFERS);
    const geometry = frameGeometry(layout.dataset);
    const numbers = frameNumbers === 'all' ? range(geometry.numberOfFrames) : frameNumbers;
    const value = { offset: pixelData.offset, length: pixelData.length };
    const spans = numbers.map((n) => nativeFrameSpan(geometry, value, n));
    bodies = spans.map((span) => () => nativeFrame(deps, instance, layout, span));
  } else {
    offer = negotiate(accept, encapsulatedOffers(layout.TransferSyntaxUID));
    const frames = await deps.layouts.encapsulatedFrames(instance, layout);
    const numbers = frameNumbers === 'all' ? range(frames.length) : frameNumbers;
    bodies = numbers.map((n) => {
      const fragments = frames[n - 1];
      if (!fragments) throw new LightboxError('NotFound', 'frame not found');
      return async () => fragmentStream(deps, instance.objectKey, fragments);
    });
  }
  const partType = offer.partType!;
  const contentType = `${partType}; transfer-syntax=${offer.transferSyntaxes[0]}`;
  async function* parts(): AsyncGenerator<OutgoingPart> {
    for (const body of bodies) yield { headers: { 'Content-Type': contentType }, body };
  }
  const boundary = newBoundary();
  ctx.status = 200;
  ctx.set('Content-Type', multipartContentType(partType, boundary));
  ctx.body = multipartBody(parts(), boundary);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

export function wadoRsFrames(deps: DicomWebDeps) {
  const retrieveFrames: Koa.Middleware = async (ctx) => {
    const target = await readTarget(ctx, deps);
    const frameNumbers = parseFrameList(String(ctx.params.frames));
    const [instance] = await deps.index.findStoredInstances(target);
    if (!instance) throw new LightboxError('NotFound', 'not found');
    await sendFrames(ctx, deps, instance, await deps.layouts.get(instance), frameNumbers);
  };
  return {
    /** GET /studies/{study}/series/{series}/instances/{instance}/frames/{frames} */
    retrieveFrames,
  };
}
