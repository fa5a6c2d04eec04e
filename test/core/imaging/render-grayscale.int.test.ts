/**
 * Grayscale rendering of real files (MONOCHROME1/2, signed and unsigned, BitsStored < BitsAllocated,
 * uncompressed and compressed), checked pixel by pixel against PS3.3 §C.11.2.1.2 computed from
 * values pydicom decoded (reference.ts).
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { renderFrame, type RenderOptions } from '../../../core/imaging/index.js';
import {
  at,
  dcmtkFrame,
  decodeImage,
  file,
  linear,
  linearExact,
  probeDcmtk,
  probePoints,
  pydicomEdit,
  pydicomFrame,
  requirePydicom,
  sigmoid,
  type ReferenceFrame,
} from './reference.js';
import { requireService } from '../../helpers/tools.js';

type Vo = (x: number) => number;

async function png(bytes: Buffer, options: Partial<RenderOptions> = {}, frameNumber = 1) {
  const rendered = await renderFrame({ bytes, frameNumber }, { accept: 'image/png', ...options });
  return decodeImage(rendered.body);
}

function modality(ref: ReferenceFrame): number[] {
  return ref.values.map((v) => v * ref.slope + ref.intercept);
}

/** Every probe point is within `tolerance` of `expected(modality value)`. */
async function assertRendering(
  t: import('ava').ExecutionContext,
  bytes: Buffer,
  ref: ReferenceFrame,
  expected: Vo,
  options: Partial<RenderOptions> = {},
  tolerance = 1,
  frameNumber = 1,
) {
  const image = await png(bytes, options, frameNumber);
  t.deepEqual([image.width, image.height, image.channels], [ref.columns, ref.rows, 1]);
  const values = modality(ref);
  let midTones = 0;
  for (const [x, y] of probePoints(ref.columns, ref.rows)) {
    const want = expected(values[y * ref.columns + x]);
    const got = at(image, x, y);
    t.true(Math.abs(got - want) <= tolerance, `(${x},${y}): got ${got}, want ${want.toFixed(2)}`);
    if (want > 2 && want < 253) midTones++;
  }
  t.true(midTones >= 3, `only ${midTones} probe points fall inside the window`);
}

function extremes(values: number[]): { min: number; max: number } {
  return values.reduce((m, v) => ({ min: Math.min(m.min, v), max: Math.max(m.max, v) }), {
    min: Infinity,
    max: -Infinity,
  });
}

function minMax(values: number[]): { center: number; width: number } {
  const { min, max } = extremes(values);
  return { center: (min + max) / 2, width: Math.max(1, max - min) };
}

// Every requirement is checked before the first test is declared (ava wants them synchronous).
const ready = await requirePydicom(test);
const dcmtk = ready && (await requireService(test, 'dcmtk', probeDcmtk));

if (ready) {
  test('CT_small (signed, MONOCHROME2): window=40,400 LINEAR on Hounsfield units', async (t) => {
    const ref = await pydicomFrame(file('CT_small.dcm'));
    t.is(ref.intercept, -1024);
    const bytes = await readFile(file('CT_small.dcm'));
    const window = { center: 40, width: 400, function: 'LINEAR' as const };
    await assertRendering(t, bytes, ref, (x) => linear(x, 40, 400), { window });
  });

  test('CT_small: LINEAR_EXACT and SIGMOID windows', async (t) => {
    const ref = await pydicomFrame(file('CT_small.dcm'));
    const bytes = await readFile(file('CT_small.dcm'));
    const exact = { center: 100, width: 301, function: 'LINEAR_EXACT' as const };
    await assertRendering(t, bytes, ref, (x) => linearExact(x, 100, 301), { window: exact });
    const sig = { center: 100, width: 300, function: 'SIGMOID' as const };
    await assertRendering(t, bytes, ref, (x) => sigmoid(x, 100, 300), { window: sig });
  });

  test('CT_small without Window Center/Width: min/max of the modality values', async (t) => {
    const ref = await pydicomFrame(file('CT_small.dcm'));
    t.is(ref.center, null);
    const { center, width } = minMax(modality(ref));
    const bytes = await readFile(file('CT_small.dcm'));
    await assertRendering(t, bytes, ref, (x) => linear(x, center, width));
  });

  test('MR_small: the instance window (600/1600) is the default', async (t) => {
    const ref = await pydicomFrame(file('MR_small.dcm'));
    t.deepEqual([ref.center, ref.width], [600, 1600]);
    const bytes = await readFile(file('MR_small.dcm'));
    await assertRendering(t, bytes, ref, (x) => linear(x, 600, 1600));
  });

  test('fractional RescaleSlope is applied exactly (0.5 and 0.01)', async (t) => {
    const ref = await pydicomFrame(file('CT_small.dcm'));
    for (const [slope, intercept] of [
      [0.5, -100],
      [0.01, 3],
    ]) {
      const bytes = await pydicomEdit(
        file('CT_small.dcm'),
        `ds.RescaleSlope = ${slope}\nds.RescaleIntercept = ${intercept}`,
      );
      const edited = { ...ref, slope, intercept };
      const values = modality(edited);
      // A window spanning the probed values, so that they land on mid-tones.
      const probed = probePoints(128, 128).map(([x, y]) => values[y * 128 + x]);
      const { center, width } = minMax(probed);
      const window = { center, width, function: 'LINEAR' as const };
      await assertRendering(t, bytes, edited, (x) => linear(x, center, width), { window });
    }
  });

  test('MONOCHROME1 is inverted (MR_small relabelled)', async (t) => {
    const ref = await pydicomFrame(file('MR_small.dcm'));
    const bytes = await pydicomEdit(
      file('MR_small.dcm'),
      "ds.PhotometricInterpretation = 'MONOCHROME1'",
    );
    await assertRendering(t, bytes, ref, (x) => 255 - linear(x, 600, 1600));
  });

  test('BitsStored < BitsAllocated: bits above HighBit are ignored', async (t) => {
    const ref = await pydicomFrame(file('MR_small.dcm'));
    const { min, max } = extremes(ref.values);
    t.true(min >= 0 && max < 4096, 'MR_small fits in 12 unsigned bits');
    const bytes = await pydicomEdit(
      file('MR_small.dcm'),
      [
        'ds.PixelRepresentation = 0',
        'ds.BitsStored = 12',
        'ds.HighBit = 11',
        'a = ds.pixel_array.astype(np.uint16) | 0xA000',
        'ds.PixelData = a.tobytes()',
      ].join('\n'),
    );
    await assertRendering(t, bytes, ref, (x) => linear(x, 600, 1600));
  });

  test('lossless encodings render identically to MR_small', async (t) => {
    const expected = await png(await readFile(file('MR_small.dcm')));
    for (const name of [
      'MR_small_RLE.dcm',
      'MR_small_jpeg_ls_lossless.dcm',
      'MR_small_jp2klossless.dcm',
      'MR_small_bigendian.dcm',
      'MR_small_expb.dcm',
      'MR_small_implicit.dcm',
    ]) {
      const image = await png(await readFile(file(name)));
      t.deepEqual([image.width, image.height], [64, 64], name);
      t.true(image.data.equals(expected.data), `${name} differs from MR_small.dcm`);
    }
  });

  test('JPEG2000.dcm (lossy, signed): min/max window', async (t) => {
    const ref = await pydicomFrame(file('JPEG2000.dcm'));
    const { center, width } = minMax(modality(ref));
    await assertRendering(t, await readFile(file('JPEG2000.dcm')), ref, (x) =>
      linear(x, center, width),
    );
  });

  test('rtdose (32-bit, 15 frames): frame 8 with its own min/max', async (t) => {
    const ref = await pydicomFrame(file('rtdose.dcm'), 7);
    const { center, width } = minMax(modality(ref));
    const bytes = await readFile(file('rtdose.dcm'));
    await assertRendering(t, bytes, ref, (x) => linear(x, center, width), {}, 1, 8);
  });
}

if (dcmtk) {
  test('JPEG-lossy.dcm (12-bit JPEG extended): against dcmdjpeg + pydicom', async (t) => {
    const ref = await dcmtkFrame('dcmdjpeg', file('JPEG-lossy.dcm'));
    const { center, width } = minMax(modality(ref));
    const bytes = await readFile(file('JPEG-lossy.dcm'));
    await assertRendering(t, bytes, ref, (x) => linear(x, center, width), {}, 2);
  });
}
