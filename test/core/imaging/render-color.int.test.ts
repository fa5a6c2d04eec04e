/**
 * Colour rendering of real files: RGB (native little and big endian, RLE 8/16/32-bit, multi-frame),
 * YBR_FULL and YBR_FULL_422 (native and JPEG baseline), JPEG 2000, and a PALETTE COLOR image
 * derived from MR_small; checked against the values pydicom decoded (reference.ts).
 */
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { renderFrame } from '../../../core/imaging/index.js';
import {
  at,
  decodeImage,
  file,
  probePoints,
  pydicomEdit,
  pydicomFrame,
  requirePydicom,
  ybrToRgb,
  type ReferenceFrame,
} from './reference.js';

type ToRgb = (ref: ReferenceFrame, offset: number) => [number, number, number];

const asIs: ToRgb = (ref, o) => [ref.values[o], ref.values[o + 1], ref.values[o + 2]];
const ybr: ToRgb = (ref, o) => ybrToRgb(ref.values[o], ref.values[o + 1], ref.values[o + 2]);
const scaled =
  (bits: number): ToRgb =>
  (ref, o) =>
    asIs(ref, o).map((v) => Math.floor(v / 2 ** (bits - 8))) as [number, number, number];

async function assertColor(
  t: ExecutionContext,
  name: string,
  toRgb: ToRgb,
  {
    frameNumber = 1,
    tolerance = 0,
    bytes,
  }: { frameNumber?: number; tolerance?: number; bytes?: Buffer } = {},
) {
  const ref = await pydicomFrame(file(name), frameNumber - 1);
  const rendered = await renderFrame(
    { bytes: bytes ?? (await readFile(file(name))), frameNumber },
    { accept: 'image/png' },
  );
  t.is(rendered.contentType, 'image/png');
  const image = await decodeImage(rendered.body);
  t.deepEqual([image.width, image.height, image.channels], [ref.columns, ref.rows, 3], name);
  const colours = new Set<string>();
  for (const [x, y] of probePoints(ref.columns, ref.rows)) {
    const want = toRgb(ref, (y * ref.columns + x) * 3);
    const got = [0, 1, 2].map((c) => at(image, x, y, c));
    colours.add(got.join());
    const ok = got.every((v, c) => Math.abs(v - want[c]) <= tolerance);
    t.true(ok, `${name} (${x},${y}): got ${got}, want ${want.map((v) => v.toFixed(1))}`);
  }
  t.true(colours.size >= 3, `${name}: the probe points see ${colours.size} colours only`);
}

if (await requirePydicom(test)) {
  test('RGB, native little endian (SC_rgb_small_odd, 3×3) and big endian', async (t) => {
    await assertColor(t, 'SC_rgb_small_odd.dcm', asIs);
    await assertColor(t, 'ExplVR_BigEnd.dcm', asIs);
  });

  test('RGB, RLE Lossless 8-bit, and frame 2 of SC_rgb_rle_2frame', async (t) => {
    await assertColor(t, 'SC_rgb_rle.dcm', asIs);
    await assertColor(t, 'SC_rgb_rle_2frame.dcm', asIs, { frameNumber: 2 });
  });

  test('RGB, RLE Lossless 16- and 32-bit: the 8 most significant bits', async (t) => {
    await assertColor(t, 'SC_rgb_rle_16bit.dcm', scaled(16));
    await assertColor(t, 'SC_rgb_rle_16bit_2frame.dcm', scaled(16), { frameNumber: 2 });
    await assertColor(t, 'SC_rgb_rle_32bit.dcm', scaled(32));
    await assertColor(t, 'SC_rgb_rle_32bit_2frame.dcm', scaled(32), { frameNumber: 2 });
  });

  test('YBR_FULL_422, native: converted to RGB', async (t) => {
    await assertColor(t, 'SC_ybr_full_422_uncompressed.dcm', ybr, { tolerance: 1 });
  });

  test('YBR_FULL and YBR_FULL_422 in JPEG baseline: converted to RGB', async (t) => {
    // Two JPEG decoders (libjpeg-turbo in dcmjs-codecs, libjpeg in Pillow) may differ slightly.
    await assertColor(t, 'SC_rgb_jpeg_dcmtk.dcm', ybr, { tolerance: 3 });
    await assertColor(t, 'SC_rgb_dcmtk_+eb+cy+s2.dcm', ybr, { tolerance: 3 });
  });

  test('RGB in JPEG 2000 (SC_rgb_gdcm_KY)', async (t) => {
    await assertColor(t, 'SC_rgb_gdcm_KY.dcm', asIs, { tolerance: 1 });
  });

  test('PALETTE COLOR: stored values looked up in the 16-bit palette', async (t) => {
    // MR_small's values reduced to 8 bits, with red/green/blue ramps as the palette (PS3.3 §C.7.6.3.1.5).
    const edit = [
      "ds.PhotometricInterpretation = 'PALETTE COLOR'",
      'a = (ds.pixel_array.astype(np.int32) >> 4).clip(0, 255).astype(np.uint16)',
      'ds.PixelRepresentation = 0',
      'ds.PixelData = a.tobytes()',
      'i = np.arange(256, dtype=np.uint16)',
      'for name, lut in (("Red", i * 257), ("Green", (255 - i) * 257), ("Blue", (i * 7 % 256) * 257)):',
      '    setattr(ds, name + "PaletteColorLookupTableDescriptor", [256, 0, 16])',
      '    setattr(ds, name + "PaletteColorLookupTableData", lut.astype("<u2").tobytes())',
      'ds["RedPaletteColorLookupTableDescriptor"].VR = "US"',
      'ds["GreenPaletteColorLookupTableDescriptor"].VR = "US"',
      'ds["BluePaletteColorLookupTableDescriptor"].VR = "US"',
      'for k in ("WindowCenter", "WindowWidth"): del ds[k]',
    ].join('\n');
    const bytes = await pydicomEdit(file('MR_small.dcm'), edit);
    const palette: ToRgb = (ref, o) => {
      const i = Math.min(255, Math.max(0, ref.values[o / 3] >> 4));
      return [i, 255 - i, (i * 7) % 256];
    };
    const mr = await pydicomFrame(file('MR_small.dcm'));
    const ref = { ...mr, samples: 3 };
    const rendered = await renderFrame({ bytes, frameNumber: 1 }, { accept: 'image/png' });
    const image = await decodeImage(rendered.body);
    t.deepEqual([image.width, image.height, image.channels], [64, 64, 3]);
    const indices = new Set<number>();
    for (const [x, y] of probePoints(64, 64)) {
      const want = palette(ref, (y * 64 + x) * 3);
      indices.add(want[0]);
      t.deepEqual(
        [0, 1, 2].map((c) => at(image, x, y, c)),
        want,
        `(${x},${y})`,
      );
    }
    t.true(indices.size >= 5, `only ${indices.size} palette entries probed`);
  });
}
