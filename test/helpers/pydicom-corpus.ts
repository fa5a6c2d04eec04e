/**
 * The pydicom test files (test/helpers/samples.ts) stored in a Lightbox through STOW-RS, one request
 * per file, each with a SOP Instance UID of its own (unique-uids.ts): what the viewer-api tests read
 * back. Files the archive refuses are reported, not hidden.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readPart10Header } from '../../core/dicom/part10-header.js';
import { arrayBufferOf, dicomwebClient } from './dicomweb.js';
import { pydicomManifest, type ManifestEntry } from './samples.js';
import type { TestLightbox } from './start-lightbox.js';
import { replaceUID, variantUID } from './unique-uids.js';

export interface StoredSample extends ManifestEntry {
  /** The bytes sent (the pydicom file, or its copy with a UID of its own), and where they are. */
  bytes: Buffer;
  sentPath: string;
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
}

export interface StoredCorpus {
  stored: StoredSample[];
  /** Files the STOW-RS response listed as failed, with their FailureReason. */
  failed: Array<{ name: string; failureReason: number }>;
}

/** STOWs every valid Part 10 pydicom file into `lightbox` and waits until all are archived. */
export async function stowPydicomCorpus(
  lightbox: TestLightbox,
  filter: (entry: ManifestEntry) => boolean = () => true,
): Promise<StoredCorpus> {
  const client = dicomwebClient(lightbox.viewerApi.url);
  const directory = path.join(lightbox.dataDirectory, 'sent');
  await mkdir(directory, { recursive: true });
  const seen = new Map<string, number>();
  const stored: StoredSample[] = [];
  const failed: StoredCorpus['failed'] = [];
  for (const entry of (await pydicomManifest()).filter((e) => e.validPart10 && filter(e))) {
    const original = await readFile(entry.path);
    const header = await readPart10Header(entry.path);
    const uid = header.meta.MediaStorageSOPInstanceUID;
    const copies = seen.get(uid) ?? 0;
    seen.set(uid, copies + 1);
    const bytes = copies === 0 ? original : replaceUID(original, uid, variantUID(uid, copies));
    const sentPath = path.join(directory, entry.name);
    await writeFile(sentPath, bytes);
    const answer = await client
      .storeInstances({ datasets: [arrayBufferOf(bytes)] })
      .catch((error: { response?: unknown }) => error.response);
    const response = JSON.parse(String(answer)) as Record<
      string,
      { Value?: Array<Record<string, { Value?: unknown[] }>> }
    >;
    const failure = response['00081198']?.Value?.[0]?.['00081197']?.Value?.[0];
    if (failure !== undefined) {
      failed.push({ name: entry.name, failureReason: failure as number });
      continue;
    }
    const sent = await readPart10Header(sentPath);
    const first = (tag: string) => String(sent.dataset[tag]?.Value?.[0] ?? '');
    stored.push({
      ...entry,
      bytes,
      sentPath,
      StudyInstanceUID: first('0020000D'),
      SeriesInstanceUID: first('0020000E'),
      SOPInstanceUID: first('00080018'),
      TransferSyntaxUID: sent.meta.TransferSyntaxUID,
    });
  }
  await lightbox.settled();
  return { stored, failed };
}
