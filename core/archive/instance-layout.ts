/**
 * Where the values of a stored instance are inside its object: the pixel data element and every value
 * the header left out as bulk data (PS3.18 §8.6.1.1 BulkDataURI). The index keeps no offsets, so the
 * header is parsed again from the object (a few KiB, ranged reads) the first time a frame or bulk
 * value of an instance is asked for, and the layout is kept in a small LRU keyed by the object's
 * SHA-256 (objects never change under a key).
 */
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import type { DicomJson, DicomJsonAttribute, StoredInstance } from './index-store.js';
import { decodeFileMetaInformation } from '../dicom/part10-meta.js';
import type { ByteSource } from '../dicom/part10/byte-source.js';
import { DataSetParser, DONE } from '../dicom/part10/dataset-parser.js';
import { InflateSource } from '../dicom/part10/inflate-source.js';
import { transferSyntax } from '../dicom/part10-header.js';
import { VRS } from '../dicom/part10/vr.js';
import { LightboxError, isLightboxError } from '../errors.js';
import { groupFrames, scanItems, type Fragment } from './encapsulated.js';
import { ObjectSource, readObjectRange } from './object-source.js';
import type { ObjectStore } from './object-store.js';

/** The bytes of one value: [offset, offset + length) of the object. */
export interface ValueLocation {
  vr: string;
  offset: number;
  length: number;
}

export interface PixelDataLocation {
  /** "7FE00010", or FloatPixelData / DoubleFloatPixelData. */
  tag: string;
  vr: string;
  /** First byte of the value: pixels (native) or the Basic Offset Table item (encapsulated). */
  offset: number;
  /** Value length; undefined for encapsulated pixel data (PS3.5 §A.4, undefined length). */
  length?: number;
}

export interface InstanceLayout {
  TransferSyntaxUID: string;
  littleEndian: boolean;
  /** Where the data set starts (after the meta group). */
  datasetOffset: number;
  /**
   * Deflated (PS3.5 §A.5): offsets are positions in the inflated data set (counted from the start
   * of the file as if it were not deflated); openValueRange inflates to reach them.
   */
  deflated: boolean;
  /** The header as parsed (Rows, Columns, BitsAllocated…). */
  dataset: DicomJson;
  pixelData?: PixelDataLocation;
  /** Bulk values by path: "GGGGEEEE", or "GGGGEEEE.<item>.GGGGEEEE" inside sequences. */
  bulkData: Map<string, ValueLocation>;
}

const MAX_HEADER_BYTES = 64 * 1024 * 1024;
const FIRST_PIXEL_TAG = 0x7fe00008;
const PIXEL_TAGS = new Set([0x7fe00008, 0x7fe00009, 0x7fe00010]);

/** Parses the header of a stored object, noting where each bulk value and the pixel data are. */
export async function readInstanceLayout(
  objects: ObjectStore,
  instance: Pick<StoredInstance, 'objectKey' | 'size'>,
): Promise<InstanceLayout> {
  const source = new ObjectSource(objects, instance.objectKey, instance.size, MAX_HEADER_BYTES);
  await source.fill(0, 64 * 1024);
  const { meta, datasetOffset } = decodeFileMetaInformation(source.buf);
  const { syntax, deflated } = transferSyntax(meta.TransferSyntaxUID);
  const layout: InstanceLayout = {
    TransferSyntaxUID: meta.TransferSyntaxUID,
    littleEndian: syntax.littleEndian,
    datasetOffset,
    deflated,
    dataset: {},
    bulkData: new Map(),
  };
  const data = deflated ? new InflateSource(source, datasetOffset, MAX_HEADER_BYTES) : source;
  const locations = new Map<DicomJsonAttribute, ValueLocation>();
  const parser = new DataSetParser({
    start: datasetOffset,
    syntax,
    stopAt: (tag) => tag >= FIRST_PIXEL_TAG,
    onBulkData: (attribute, offset, length) => {
      if (length !== undefined) locations.set(attribute, { vr: attribute.vr, offset, length });
    },
  });
  try {
    for (let need = parser.run(data); need !== DONE; need = parser.run(data)) {
      await data.fill(parser.pos, need);
    }
    layout.dataset = parser.dataset;
    collectPaths(parser.dataset, '', locations, layout.bulkData);
    if (parser.stoppedAt !== undefined && PIXEL_TAGS.has(parser.stoppedAt)) {
      layout.pixelData = await pixelDataElement(data, parser.pos, syntax);
    }
  } finally {
    await data.close();
  }
  return layout;
}

function collectPaths(
  dataset: DicomJson,
  prefix: string,
  locations: Map<DicomJsonAttribute, ValueLocation>,
  out: Map<string, ValueLocation>,
): void {
  for (const [tag, attribute] of Object.entries(dataset)) {
    const location = locations.get(attribute);
    if (location) out.set(prefix + tag, location);
    if (attribute.vr === 'SQ') {
      (attribute.Value as DicomJson[] | undefined)?.forEach((item, index) =>
        collectPaths(item, `${prefix}${tag}.${index}.`, locations, out),
      );
    }
  }
}

/** The pixel data element header at `at` (PS3.5 §7.1.2): its VR and where and how long its value is. */
async function pixelDataElement(
  source: ByteSource,
  at: number,
  syntax: { explicitVR: boolean; littleEndian: boolean },
): Promise<PixelDataLocation> {
  await source.fill(at, 12);
  const o = at - source.start;
  const b = source.buf;
  if (b.length - o < 8)
    throw new LightboxError('InvalidDataset', 'pixel data element is truncated');
  const le = syntax.littleEndian;
  const group = le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  const element = le ? b.readUInt16LE(o + 2) : b.readUInt16BE(o + 2);
  const tag = (group.toString(16) + element.toString(16).padStart(4, '0')).toUpperCase();
  let vr = tag === '7FE00008' ? 'OF' : tag === '7FE00009' ? 'OD' : 'OW';
  let lengthAt = o + 4;
  let headerLength = 8;
  if (syntax.explicitVR) {
    vr = b.toString('latin1', o + 4, o + 6);
    const long = VRS.get(vr)?.longLength === true;
    lengthAt = long ? o + 8 : o + 6;
    headerLength = long ? 12 : 8;
    if (long && b.length - o < 12) {
      throw new LightboxError('InvalidDataset', 'pixel data element is truncated');
    }
    if (!long) {
      const length = le ? b.readUInt16LE(lengthAt) : b.readUInt16BE(lengthAt);
      return { tag, vr, offset: at + headerLength, length };
    }
  }
  const length = le ? b.readUInt32LE(lengthAt) : b.readUInt32BE(lengthAt);
  return {
    tag,
    vr,
    offset: at + headerLength,
    length: length === 0xffffffff ? undefined : length,
  };
}

/**
 * Bytes [start, end] (inclusive, positions as in InstanceLayout) of a stored object: a ranged read,
 * or for a deflated object the inflated data set streamed up to the range (PS3.5 §A.5 gives no way
 * to seek in a deflate stream; deflated instances are rare and small).
 */
export async function openValueRange(
  objects: ObjectStore,
  instance: Pick<StoredInstance, 'objectKey' | 'size'>,
  layout: InstanceLayout,
  start: number,
  end: number,
): Promise<Readable> {
  if (!layout.deflated) return objects.getObject(instance.objectKey, { start, end });
  const compressed = await objects.getObject(instance.objectKey, {
    start: layout.datasetOffset,
    end: instance.size - 1,
  });
  const inflated = compressed.pipe(createInflateRaw());
  compressed.once('error', (error) => inflated.destroy(error));
  async function* slice(): AsyncGenerator<Buffer> {
    let position = layout.datasetOffset;
    try {
      for await (const chunk of inflated as AsyncIterable<Buffer>) {
        const from = Math.max(0, start - position);
        const to = Math.min(chunk.length, end + 1 - position);
        position += chunk.length;
        if (to > from) yield chunk.subarray(from, to);
        if (position > end) return;
      }
    } finally {
      compressed.destroy();
      inflated.destroy();
    }
  }
  return Readable.from(slice(), { objectMode: false });
}

/** Layouts of recently served instances, by SHA-256 (an object's bytes never change). */
export class InstanceLayouts {
  private readonly cache = new Map<string, Promise<InstanceLayout>>();
  private readonly frames = new WeakMap<InstanceLayout, Promise<Fragment[][]>>();

  /**
   * The fragments of each frame of encapsulated pixel data, found once per cached layout (one
   * streamed pass over the pixel data, see encapsulated.ts).
   */
  encapsulatedFrames(instance: StoredInstance, layout: InstanceLayout): Promise<Fragment[][]> {
    let frames = this.frames.get(layout);
    if (!frames) {
      frames = this.findFrames(instance, layout).catch(storedObjectError);
      this.frames.set(layout, frames);
      frames.catch(() => this.frames.delete(layout));
    }
    return frames;
  }

  private async findFrames(
    instance: StoredInstance,
    layout: InstanceLayout,
  ): Promise<Fragment[][]> {
    const pixelData = layout.pixelData;
    if (!pixelData || pixelData.length !== undefined) {
      throw new LightboxError('Internal', 'pixel data is not encapsulated');
    }
    const items = await scanItems(
      this.objects,
      instance.objectKey,
      pixelData.offset,
      instance.size,
    );
    const numberOfFrames = Number(layout.dataset['00280008']?.Value?.[0] ?? 1) || 1;
    return groupFrames(items, numberOfFrames, await this.extendedOffsetTable(instance, layout));
  }

  /** ExtendedOffsetTable (7FE0,0001), 64-bit offsets (PS3.3 §C.7.6.3.1.8), when the header has one. */
  private async extendedOffsetTable(
    instance: StoredInstance,
    layout: InstanceLayout,
  ): Promise<number[] | undefined> {
    const attribute = layout.dataset['7FE00001'];
    let bytes: Buffer | undefined;
    if (attribute?.InlineBinary) bytes = Buffer.from(attribute.InlineBinary, 'base64');
    const bulk = layout.bulkData.get('7FE00001');
    if (bulk) {
      const { offset, length } = bulk;
      bytes = await readObjectRange(this.objects, instance.objectKey, offset, offset + length - 1);
    }
    if (!bytes || bytes.length < 8) return undefined;
    const offsets: number[] = [];
    for (let o = 0; o + 8 <= bytes.length; o += 8) offsets.push(Number(bytes.readBigUInt64LE(o)));
    return offsets;
  }

  constructor(
    private readonly objects: ObjectStore,
    private readonly capacity = 2000,
  ) {}

  get(instance: StoredInstance): Promise<InstanceLayout> {
    const cached = this.cache.get(instance.sha256);
    if (cached) {
      this.cache.delete(instance.sha256); // move to the most recent end
      this.cache.set(instance.sha256, cached);
      return cached;
    }
    const layout = readInstanceLayout(this.objects, instance).catch(storedObjectError);
    this.cache.set(instance.sha256, layout);
    layout.catch(() => this.cache.delete(instance.sha256));
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return layout;
  }
}

/**
 * A stored object that cannot be read as DICOM is the archive's fault, not the caller's: Internal
 * (500), not InvalidDataset (400, which the HTTP edge keeps for what a client sent).
 */
function storedObjectError(error: unknown): never {
  if (isLightboxError(error, 'InvalidDataset')) {
    throw new LightboxError('Internal', `stored object unreadable: ${error.message}`, {
      cause: error,
    });
  }
  throw error;
}
