/**
 * Real DICOM files nobody on the project wrote: the test files of Debian's python3-pydicom, extracted
 * into test-data/pydicom/ (gitignored) by scripts/extract-test-data.sh, which runs on first use.
 * Declare tests that need them behind `requireService` (test/helpers/tools.ts), so that missing data
 * skips them locally and fails them under CI=true:
 *
 * ```ts
 * if (await requireService(test, 'pydicom test data', pydicomFiles)) { … }
 * ```
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface SampleFile {
  path: string;
  name: string;
}

/** One line of test-data/pydicom/MANIFEST.tsv. */
export interface ManifestEntry extends SampleFile {
  size: number;
  sha256: string;
  /** From the File Meta Information, by dcmdump; undefined when the file has none. */
  TransferSyntaxUID: string | undefined;
  /** Preamble, DICM, Type 1 meta elements and a whole-file dcmdump read; undefined without dcmtk. */
  validPart10: boolean | undefined;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PYDICOM_DIR = `${ROOT}test-data/pydicom`;
const MANIFEST = `${PYDICOM_DIR}/MANIFEST.tsv`;
const SCRIPT = `${ROOT}scripts/extract-test-data.sh`;

let manifest: Promise<ManifestEntry[]> | undefined;

/** Every extracted file with its manifest line, extracting first when test-data/ has none. */
export function pydicomManifest(): Promise<ManifestEntry[]> {
  manifest ??= loadManifest();
  return manifest;
}

/** The extracted pydicom files (test_files/*.dcm and charset_files/*.dcm), sorted by name. */
export async function pydicomFiles(): Promise<SampleFile[]> {
  return (await pydicomManifest()).map(({ path, name }) => ({ path, name }));
}

/** The file called `name`; throws when the set has no such file. */
export function sample<T extends SampleFile>(files: readonly T[], name: string): T {
  const file = files.find((f) => f.name === name);
  if (!file) throw new Error(`${name} is not among the pydicom test files`);
  return file;
}

async function loadManifest(): Promise<ManifestEntry[]> {
  let entries = await readManifest().catch(() => undefined);
  if (!entries || !(await allPresent(entries))) {
    await extract();
    entries = await readManifest();
  }
  return entries;
}

async function readManifest(): Promise<ManifestEntry[]> {
  const lines = (await readFile(MANIFEST, 'utf8')).trim().split('\n').slice(1);
  return lines.map((line) => {
    const [name, size, sha256, ts, valid] = line.split('\t');
    return {
      name,
      path: `${PYDICOM_DIR}/${name}`,
      size: Number(size),
      sha256,
      TransferSyntaxUID: ts === '-' ? undefined : ts,
      validPart10: valid === 'unknown' ? undefined : valid === 'yes',
    };
  });
}

async function allPresent(entries: ManifestEntry[]): Promise<boolean> {
  const present = await Promise.all(
    entries.map((e) =>
      access(e.path).then(
        () => true,
        () => false,
      ),
    ),
  );
  return entries.length > 0 && present.every(Boolean);
}

function extract(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve();
    });
  });
}
