/**
 * Reference values for the rendering tests, computed without dcmjs-imaging: stored pixel values are
 * decoded by pydicom (Debian python3-pydicom, the package the test files come from), after dcmtk
 * has decompressed what pydicom cannot decode by itself (12-bit JPEG, JPEG-LS). The expected
 * outputs follow the formulas of PS3.3 §C.11.2.1.2 and §C.7.6.3.1.2.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestFn } from 'ava';
import sharp from 'sharp';
import { PYDICOM_DIR, pydicomFiles } from '../../helpers/samples.js';
import { requireService } from '../../helpers/tools.js';

const run = promisify(execFile);
export const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array
if int(ds.get('NumberOfFrames', 1) or 1) > 1:
    a = a[int(sys.argv[2])]
get = lambda k: ds[k].value if k in ds else None
first = lambda v: (float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)) if v is not None else None
print(json.dumps({
  'rows': int(ds.Rows), 'columns': int(ds.Columns), 'samples': int(ds.SamplesPerPixel),
  'photometric': str(ds.PhotometricInterpretation),
  'slope': float(get('RescaleSlope') or 1), 'intercept': float(get('RescaleIntercept') or 0),
  'center': first(get('WindowCenter')), 'width': first(get('WindowWidth')),
  'values': a.flatten().tolist()}))
`;

export interface ReferenceFrame {
  rows: number;
  columns: number;
  samples: number;
  photometric: string;
  slope: number;
  intercept: number;
  center: number | null;
  width: number | null;
  /** Stored values, row by row, samples interleaved. */
  values: number[];
}

/** Resolves when python3 with pydicom and numpy can be run (for requireService). */
export async function probePydicom(): Promise<void> {
  await run(PYTHON, ['-c', 'import pydicom, numpy']);
}

/** Declares the tests only when the pydicom files and python3-pydicom are there (tools.ts rule). */
export async function requirePydicom<Context>(test: TestFn<Context>): Promise<boolean> {
  return (
    (await requireService(test, 'pydicom test data', pydicomFiles)) &&
    (await requireService(test, 'python3 with pydicom and numpy', probePydicom))
  );
}

/** Path of a pydicom test file. */
export function file(name: string): string {
  return `${PYDICOM_DIR}/${name}`;
}

/** Resolves when the dcmtk decompressors can be run. */
export async function probeDcmtk(): Promise<void> {
  await run('dcmdjpeg', ['--version']);
  await run('dcmdjpls', ['--version']);
}

/** Frame `index` (0-based) of the file at `path`, decoded by pydicom. */
export async function pydicomFrame(path: string, index = 0): Promise<ReferenceFrame> {
  const { stdout } = await run(PYTHON, ['-c', SCRIPT, path, String(index)], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ReferenceFrame;
}

/** `path` decompressed by dcmtk (dcmdjpeg or dcmdjpls), then decoded by pydicom. */
export async function dcmtkFrame(
  tool: 'dcmdjpeg' | 'dcmdjpls',
  path: string,
): Promise<ReferenceFrame> {
  const dir = await mkdtemp(join(tmpdir(), 'lightbox-imaging-'));
  try {
    const out = join(dir, 'decompressed.dcm');
    await run(tool, [path, out]);
    return await pydicomFrame(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The file at `path` changed by the Python statements `edit` (acting on `ds`, a pydicom Dataset, with
 * numpy as `np`), as the bytes of a new Part 10 file.
 */
export async function pydicomEdit(path: string, edit: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'lightbox-imaging-'));
  try {
    const out = join(dir, 'edited.dcm');
    const script = `import sys, pydicom, numpy as np\nds = pydicom.dcmread(sys.argv[1])\n${edit}\nds.save_as(sys.argv[2])`;
    await run(PYTHON, ['-c', script, path, out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** LINEAR VOI LUT (PS3.3 §C.11.2.1.2.1) on a modality value, to 0–255. */
export function linear(x: number, center: number, width: number): number {
  const y = (x - (center - 0.5)) / (width - 1) + 0.5;
  return Math.min(1, Math.max(0, y)) * 255;
}

/** LINEAR_EXACT (PS3.3 §C.11.2.1.3.2). */
export function linearExact(x: number, center: number, width: number): number {
  return Math.min(1, Math.max(0, (x - center) / width + 0.5)) * 255;
}

/** SIGMOID (PS3.3 §C.11.2.1.3.1). */
export function sigmoid(x: number, center: number, width: number): number {
  return 255 / (1 + Math.exp((-4 * (x - center)) / width));
}

/** YBR_FULL to RGB (PS3.3 §C.7.6.3.1.2). */
export function ybrToRgb(y: number, cb: number, cr: number): [number, number, number] {
  const c = (v: number) => Math.min(255, Math.max(0, v));
  return [
    c(y + 1.402 * (cr - 128)),
    c(y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128)),
    c(y + 1.772 * (cb - 128)),
  ];
}

export interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Decodes a rendered PNG or JPEG to raw samples, keeping grayscale as one channel. */
export async function decodeImage(body: Buffer): Promise<Decoded> {
  const meta = await sharp(body).metadata();
  const { data, info } = await sharp(body)
    .toColourspace(meta.channels === 1 ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Sample `c` of pixel (x, y). */
export function at(image: Decoded, x: number, y: number, c = 0): number {
  return image.data[(y * image.width + x) * image.channels + c];
}

/** A spread of pixel positions over the image (corners, centre and a grid). */
export function probePoints(width: number, height: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  for (const fy of [0, 0.13, 0.29, 0.5, 0.71, 0.87, 1]) {
    for (const fx of [0, 0.21, 0.5, 0.79, 1]) {
      points.push([Math.round(fx * (width - 1)), Math.round(fy * (height - 1))]);
    }
  }
  return points;
}
