/**
 * WADO-RS Retrieve Bulkdata (PS3.18 §10.4.1.1.4): the value a BulkDataURI of the metadata points at,
 * read from the stored object where the header says it lies. multipart/related; type=
 * "application/octet-stream" (PS3.18 §8.7.3.3.2) or, when asked for, a single application/octet-
 * stream body. One byte range (RFC 9110 §14.2) is honoured: 206 with Content-Range; several are
 * ignored (the whole value, 200), a range past the end is 416. Values are little endian (PS3.18
 * §F.2.7): words of a big endian object are swapped. Encapsulated pixel data is sent as its frames.
 */
import type Koa from 'koa';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import type { StoredInstance } from '../../core/archive/index-store.js';
import {
  openValueRange,
  type InstanceLayout,
  type ValueLocation,
} from '../../core/archive/instance-layout.js';
import { SwapBytes, wordSize } from '../../core/dicom/pixel-frames.js';
import { LightboxError } from '../../core/errors.js';
import { negotiate, type Offer } from './accept.js';
import { readTarget, type DicomWebDeps } from './context.js';
import { multipartBody, multipartContentType, newBoundary } from './multipart.js';
import { ExplicitVRLittleEndian } from './transfer-syntax.js';
import { sendFrames } from './wado-rs-frames.js';

const PATH = /^[0-9A-F]{8}(\.\d{1,6}\.[0-9A-F]{8})*$/;

const OFFERS: Offer[] = [
  {
    mediaType: 'multipart/related',
    partType: 'application/octet-stream',
    transferSyntaxes: [ExplicitVRLittleEndian],
  },
  { mediaType: 'application/octet-stream', transferSyntaxes: [ExplicitVRLittleEndian] },
];

interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one range of a Range header within a value of `length` bytes; undefined for none (or several,
 * which may be ignored); RangeNotSatisfiable when it starts past the end.
 */
export function parseRange(header: string, length: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, length - Number(match[2])); // suffix: the last n bytes
    end = length - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? length - 1 : Math.min(Number(match[2]), length - 1);
    if (match[2] !== '' && Number(match[2]) < start) return undefined; // invalid: ignored
  }
  if (start >= length || end < start) {
    throw new LightboxError('RangeNotSatisfiable', 'the range lies outside the value');
  }
  return { start, end };
}

/** Keeps `take` bytes after the first `skip`. */
class Slice extends Transform {
  constructor(
    private toSkip: number,
    private toKeep: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const from = Math.min(this.toSkip, chunk.length);
    this.toSkip -= from;
    const part = chunk.subarray(from, from + this.toKeep);
    this.toKeep -= part.length;
    done(null, part.length > 0 ? part : undefined);
  }
}

/** Bytes [range] of a value, little endian; big endian words are read whole and swapped. */
async function valueStream(
  deps: DicomWebDeps,
  instance: StoredInstance,
  layout: InstanceLayout,
  value: ValueLocation,
  range: ByteRange,
): Promise<Readable> {
  const word = layout.littleEndian ? 1 : wordSize(value.vr);
  const start = range.start - (range.start % word);
  const end = Math.min(value.length - 1, range.end + (word - 1 - (range.end % word)));
  const { offset } = value;
  const stream = await openValueRange(deps.objects, instance, layout, offset + start, offset + end);
  if (word === 1) return stream;
  const slice = new Slice(range.start - start, range.end - range.start + 1);
  pipeline(stream, new SwapBytes(word), slice, () => undefined);
  return slice;
}

export function wadoRsBulkdata(deps: DicomWebDeps) {
  const retrieveBulkdata: Koa.Middleware = async (ctx) => {
    const target = await readTarget(ctx, deps);
    const path = String(ctx.params.path).toUpperCase();
    if (!PATH.test(path)) throw new LightboxError('BadRequest', 'malformed bulk data path');
    const [instance] = await deps.index.findStoredInstances(target);
    if (!instance) throw new LightboxError('NotFound', 'not found');
    const layout = await deps.layouts.get(instance);
    const pixelData = layout.pixelData;
    if (pixelData && path === pixelData.tag && pixelData.length === undefined) {
      return sendFrames(ctx, deps, instance, layout, 'all');
    }
    const value: ValueLocation | undefined =
      pixelData && path === pixelData.tag
        ? { vr: pixelData.vr, offset: pixelData.offset, length: pixelData.length! }
        : layout.bulkData.get(path);
    if (!value) throw new LightboxError('NotFound', 'no bulk data at this path');
    const offer = negotiate(ctx.get('Accept') || undefined, OFFERS);
    ctx.set('Accept-Ranges', 'bytes');
    let range: ByteRange | undefined;
    try {
      range = ctx.get('Range') ? parseRange(ctx.get('Range'), value.length) : undefined;
    } catch (error) {
      ctx.set('Content-Range', `bytes */${value.length}`);
      throw error;
    }
    const whole = { start: 0, end: value.length - 1 };
    const selected = range ?? whole;
    const length = value.length === 0 ? 0 : selected.end - selected.start + 1;
    const headers: Record<string, string> = { 'Content-Length': String(length) };
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${value.length}`;
    const body = async () =>
      length === 0 ? Readable.from([]) : valueStream(deps, instance, layout, value, selected);
    ctx.status = range ? 206 : 200;
    if (offer.mediaType === 'application/octet-stream') {
      for (const [name, field] of Object.entries(headers)) ctx.set(name, field);
      ctx.set('Content-Type', 'application/octet-stream');
      ctx.body = await body();
      return;
    }
    const boundary = newBoundary();
    ctx.set('Content-Type', multipartContentType('application/octet-stream', boundary));
    if (range) ctx.set('Content-Range', headers['Content-Range']);
    ctx.body = multipartBody(
      (async function* () {
        yield {
          headers: {
            'Content-Type': `application/octet-stream; transfer-syntax=${ExplicitVRLittleEndian}`,
            ...headers,
          },
          body,
        };
      })(),
      boundary,
    );
  };
  return {
    /** GET /studies/{study}/series/{series}/instances/{instance}/bulkdata/{path} */
    retrieveBulkdata,
  };
}
