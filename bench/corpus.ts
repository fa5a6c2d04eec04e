/**
 * The benchmark corpus: synthetic CT instances (explicit VR little endian, 512 × 480 × 16 bit,
 * ≈ 492 KB each, random pixel data so nothing compresses), written once under the system temporary
 * directory and reused while its manifest matches. The default, 2,002 instances ≈ 986 MB in 7
 * studies × 2 series, is the corpus Orthanc 1.10 was measured on. Files are split into 4
 * subdirectories of contiguous instances, one per association in the 4-association run; the
 * 1-association run sends all 4 in order.
 *
 * UIDs and layout are derived from the instance count, so two machines generate the same studies,
 * series and SOP Instance UIDs (pixel bytes are random: sizes are identical, content is not).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  MultiFrameGrayscaleWordSCImageStorage,
  writeInstanceFile,
} from '../test/helpers/synthetic.js';

/** Where corpora live (outside the repository: nothing to ignore, nothing to commit). */
export const CORPUS_ROOT = path.join(os.tmpdir(), 'lightbox-bench', 'corpus');

const MANIFEST_VERSION = 1;
const ROWS = 512;
const COLUMNS = 480;
const STUDIES = 7;
const SERIES_PER_STUDY = 2;

/** What a generated corpus holds; kept beside it as manifest.json. */
export interface CorpusManifest {
  version: number;
  name: string;
  directory: string;
  instances: number;
  bytes: number;
  rows: number;
  columns: number;
  studies: number;
  series: number;
  /** Absolute paths of the per-association subdirectories, with what each holds. */
  parts: { directory: string; instances: number; bytes: number }[];
}

/** A deterministic UUID-derived UID (PS3.5 §B.2) from a label. */
export function derivedUID(label: string): string {
  const digest = createHash('sha256').update(label).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString()}`;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  });
  await Promise.all(lanes);
}

async function readManifest(directory: string): Promise<CorpusManifest | null> {
  try {
    const manifest = JSON.parse(
      await readFile(path.join(directory, 'manifest.json'), 'utf8'),
    ) as CorpusManifest;
    if (manifest.version !== MANIFEST_VERSION) return null;
    for (const part of manifest.parts) {
      const names = (await readdir(part.directory)).filter((n) => n.endsWith('.dcm'));
      if (names.length !== part.instances) return null;
    }
    return manifest;
  } catch {
    return null;
  }
}

/**
 * Returns the corpus of `instances` CT instances split into `parts` subdirectories, generating it
 * if no matching manifest is present (≈ 30 s for the default on this machine).
 */
export async function ensureCorpus(
  instances: number,
  options: { parts?: number; root?: string; log?: (line: string) => void } = {},
): Promise<CorpusManifest> {
  const partCount = options.parts ?? 4;
  const name = `ct-${instances}-${partCount}`;
  const directory = path.join(options.root ?? CORPUS_ROOT, name);
  const existing = await readManifest(directory);
  if (existing) return existing;

  options.log?.(`generating corpus ${name} in ${directory}`);
  await rm(directory, { recursive: true, force: true });
  const studies = Math.min(STUDIES, instances);
  const series = Math.min(studies * SERIES_PER_STUDY, instances);
  const parts = Array.from({ length: partCount }, (_, p) => ({
    directory: path.join(directory, `part-${p + 1}`),
    instances: 0,
    bytes: 0,
  }));
  for (const part of parts) await mkdir(part.directory, { recursive: true });

  const indices = Array.from({ length: instances }, (_, i) => i);
  await forEachLimited(indices, 8, async (i) => {
    const seriesIndex = Math.floor((i * series) / instances);
    const study = Math.floor((seriesIndex * studies) / series);
    const part = parts[Math.floor((i * partCount) / instances)];
    const file = path.join(part.directory, `IM${String(i).padStart(6, '0')}.dcm`);
    const { size } = await writeInstanceFile(file, {
      StudyInstanceUID: derivedUID(`lightbox-bench study ${study}`),
      SeriesInstanceUID: derivedUID(`lightbox-bench series ${seriesIndex}`),
      SOPInstanceUID: derivedUID(`lightbox-bench instance ${i}`),
      PatientID: `LB-BENCH-${study + 1}`,
      PatientName: `Bench^Patient${study + 1}`,
      AccessionNumber: `BENCH${study + 1}`,
      StudyDescription: 'Lightbox benchmark',
      SeriesNumber: seriesIndex + 1,
      InstanceNumber: i + 1,
      Rows: ROWS,
      Columns: COLUMNS,
    });
    part.instances += 1;
    part.bytes += size;
  });

  const manifest: CorpusManifest = {
    version: MANIFEST_VERSION,
    name,
    directory,
    instances,
    bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
    rows: ROWS,
    columns: COLUMNS,
    studies,
    series,
    parts,
  };
  await writeFile(path.join(directory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The single large instance of the `--big` run; the caller removes `directory` afterwards. */
export interface BigInstance {
  directory: string;
  file: string;
  size: number;
  SOPInstanceUID: string;
}

/**
 * Writes one multi-frame instance of `frames` 512 × 512 × 16-bit frames (4,000 frames = 2 GiB of
 * pixel data) as a sparse file: it takes no disk space until it is read, and never sits in memory.
 */
export async function writeBigInstance(directory: string, frames = 4000): Promise<BigInstance> {
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, 'big.dcm');
  const { size, SOPInstanceUID } = await writeInstanceFile(
    file,
    {
      SOPClassUID: MultiFrameGrayscaleWordSCImageStorage,
      StudyInstanceUID: derivedUID('lightbox-bench big study'),
      SeriesInstanceUID: derivedUID('lightbox-bench big series'),
      SOPInstanceUID: derivedUID(`lightbox-bench big instance ${Date.now()}`),
      PatientID: 'LB-BENCH-BIG',
      PatientName: 'Bench^Big',
      Modality: 'OT',
      StudyDescription: 'Lightbox benchmark, one large instance',
      Rows: 512,
      Columns: 512,
      NumberOfFrames: frames,
    },
    { sparse: true },
  );
  if ((await stat(file)).size !== size) throw new Error('big instance: unexpected file size');
  return { directory, file, size, SOPInstanceUID };
}
