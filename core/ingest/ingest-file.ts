/**
 * A Part 10 file from disk into the one ingest path (accept-instance.ts), as C-STORE and STOW-RS
 * bring theirs: its bytes stream into a spool reception, then acceptInstance validates, commits and
 * queues it. Used by `lightbox import`. An instance already archived with these exact bytes is
 * reported as a duplicate without being spooled again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { IndexStore } from '../archive/index-store.js';
import { readPart10Header } from '../dicom/part10-header.js';
import { LightboxError } from '../errors.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import type { Spool } from '../spool/spool.js';
import { acceptInstance, type AcceptedInstance } from './accept-instance.js';

export type FileOutcome =
  | { outcome: 'accepted'; accepted: AcceptedInstance }
  | { outcome: 'duplicate' }
  | { outcome: 'refused'; code: string; message: string };

export interface IngestFileDependencies {
  spool: Spool;
  queue: IngestQueue;
  index: IndexStore;
  maxInstanceBytes: number;
}

export async function ingestFile(file: string, deps: IngestFileDependencies): Promise<FileOutcome> {
  if (await isArchived(file, deps.index)) return { outcome: 'duplicate' };
  const reception = deps.spool.open(deps.maxInstanceBytes);
  try {
    await pipeline(createReadStream(file), reception);
  } catch (error) {
    await reception.abort();
    return refused(new LightboxError('InvalidDataset', 'file could not be read', { cause: error }));
  }
  try {
    return {
      outcome: 'accepted',
      accepted: await acceptInstance(reception, { callingAETitle: '' }, deps.queue),
    };
  } catch (error) {
    return refused(error);
  }
}

function refused(error: unknown): FileOutcome {
  const code = String((error as { code?: unknown } | null)?.code ?? 'Internal');
  return {
    outcome: 'refused',
    code,
    message: error instanceof Error ? error.message : String(error),
  };
}

/**
 * True when the index holds this SOP Instance UID, stored, with this size and SHA-256. The file is
 * hashed only when its size matches: most files of an import are new, and their read is the spool's.
 * Anything unreadable is left to acceptInstance to refuse with its reason.
 */
async function isArchived(file: string, index: IndexStore): Promise<boolean> {
  try {
    const header = await readPart10Header(file);
    const row = await index.getInstance(header.meta.MediaStorageSOPInstanceUID);
    if (row?.state !== 'stored' || row.size !== (await stat(file)).size) return false;
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    return hash.digest('hex') === row.sha256;
  } catch {
    return false;
  }
}
