/**
 * Loading a Part 10 object into dcmjs-imaging, which parses it with dcmjs and decodes pixel data with
 * the WASM codecs shipped in its npm package (RLE, JPEG baseline/extended/lossless, JPEG-LS,
 * JPEG 2000, HTJ2K, JPEG XL). Decoding needs the whole object in memory, so objects above a limit are
 * refused before they are parsed.
 */
import imaging from 'dcmjs-imaging';
import { RenderError } from './errors.js';
import { assertRenderableSize, type RenderLimits } from './render-options.js';

export type DicomImage = InstanceType<typeof imaging.DicomImage>;
/** dcmjs naturalized data set: keywords → values (sequences are arrays of item objects). */
export type Elements = Record<string, unknown>;

export interface LoadedImage {
  image: DicomImage;
  elements: Elements;
  TransferSyntaxUID: string;
}

const RENDERABLE = new Set<string>(Object.values(imaging.constants.TransferSyntax));

let decoders: Promise<void> | undefined;

/** Loads the WASM decoders once per process (≈50 ms); a failed load is retried on the next call. */
export function initializeDecoders(): Promise<void> {
  decoders ??= imaging.NativePixelDecoder.initializeAsync().then(
    () => imaging.log.setLevel('silent'),
    (error: unknown) => {
      decoders = undefined;
      throw new RenderError('RenderFailed', 'the image decoders could not be loaded', {
        cause: error,
      });
    },
  );
  return decoders;
}

/** The bytes as an ArrayBuffer, without a copy when the Buffer spans its whole ArrayBuffer. */
function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) {
    return buffer; // dcmjs and dcmjs-imaging read it and copy what they change (checked in tests)
  }
  return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}

/**
 * Parses a Part 10 object that has pixel data. Throws RenderError: 413 above the limit, 400
 * NoPixelData for objects without Pixel Data (SR, RT Plan, presentation states…), 406 for a transfer
 * syntax no decoder handles (MPEG-2/4, HEVC, JPIP…), 500 when the object cannot be parsed.
 */
export async function loadImage(bytes: Buffer, limits?: RenderLimits): Promise<LoadedImage> {
  assertRenderableSize(bytes.byteLength, limits);
  await initializeDecoders();
  let image: DicomImage;
  try {
    image = new imaging.DicomImage(toArrayBuffer(bytes));
  } catch (cause) {
    throw new RenderError('RenderFailed', 'the object cannot be parsed as DICOM', { cause });
  }
  const elements = image.getElements();
  if (elements.PixelData === undefined && elements.FloatPixelData === undefined) {
    const other = elements.DoubleFloatPixelData !== undefined;
    throw other
      ? new RenderError('UnsupportedPixelData', 'Double Float Pixel Data is not rendered')
      : new RenderError('NoPixelData', 'the instance has no pixel data to render');
  }
  const TransferSyntaxUID = image.getTransferSyntaxUid();
  if (!RENDERABLE.has(TransferSyntaxUID)) {
    throw new RenderError(
      'UnsupportedPixelData',
      `pixel data in transfer syntax ${TransferSyntaxUID} cannot be rendered`,
    );
  }
  return { image, elements, TransferSyntaxUID };
}

/** A numeric attribute (US, IS, DS, first value of a multi-valued one), or undefined. */
export function numberOf(value: unknown): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null || first === '') return undefined;
  const n = Number(first);
  return Number.isFinite(n) ? n : undefined;
}

/** Number of Frames (0028,0008), 1 when absent (PS3.3 §C.7.6.6). */
export function numberOfFrames(elements: Elements): number {
  const n = numberOf(elements.NumberOfFrames);
  return n !== undefined && n >= 1 ? Math.floor(n) : 1;
}

/** Photometric Interpretation (0028,0004), trimmed and upper case; '' when absent. */
export function photometricInterpretation(elements: Elements): string {
  const value = elements.PhotometricInterpretation;
  return typeof value === 'string' ? value.trim().toUpperCase() : '';
}
