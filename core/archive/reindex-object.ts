/**
 * Rebuilds the index rows of one stored object from its own bytes, for the case where the index was
 * lost (`lightbox reindex`). The object is read once into a temporary file (hashed on the way), its
 * header parsed, and the same begin → complete as the worker writes the rows: so running it again,
 * or on an index that already has the row, changes nothing. What the object cannot tell is not
 * invented: receivedAt becomes the time of the reindex.
 *
 *   studies/<Study>/series/<Series>/<SOP>.dcm   an instance (its key must be the one its UIDs give)
 *   conflicts/<SOP>/<sha256>.dcm                a re-send with other bytes, kept aside
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { extractIndexedAttributes } from '../dicom/attributes.js';
import { LightboxError } from '../errors.js';
import { readPart10Header } from '../dicom/part10-header.js';
import type { IndexStore, StoredObject } from './index-store.js';
import { digestObject } from './object-digest.js';
import { conflictObjectKey, objectKey, type ObjectStore } from './object-store.js';

export type ReindexOutcome =
  /** Rows written (or completed) for this object. */
  | 'indexed'
  /** The index already had exactly this. */
  | 'unchanged'
  /** The index holds other bytes under this SOP Instance UID: left alone, reported. */
  | 'conflict'
  /** A conflict object recorded in instance_conflict. */
  | 'conflict-recorded'
  /** The key is not the one its UIDs give: not indexed, reported. */
  | 'misplaced';

export async function reindexObject(
  key: string,
  deps: { objects: ObjectStore; index: IndexStore; temporaryDirectory: string },
): Promise<ReindexOutcome> {
  const file = path.join(deps.temporaryDirectory, `${randomUUID()}.dcm`);
  try {
    const { size, sha256 } = await digestObject(deps.objects, key, createWriteStream(file));
    const header = await readPart10Header(file);
    const attributes = extractIndexedAttributes(header);
    const object: StoredObject = {
      SOPInstanceUID: attributes.SOPInstanceUID,
      TransferSyntaxUID: header.meta.TransferSyntaxUID,
      objectKey: key,
      size,
      sha256,
      callingAETitle: header.meta.SourceApplicationEntityTitle ?? '',
      receivedAt: new Date().toISOString(),
    };
    if (key.startsWith('conflicts/')) {
      if (key !== conflictObjectKey(object.SOPInstanceUID, sha256)) return 'misplaced';
      await deps.index.recordConflict(object);
      return 'conflict-recorded';
    }
    if (key !== objectKey(attributes)) return 'misplaced';
    switch (await deps.index.beginInstance({ ...object, SOPClassUID: attributes.SOPClassUID })) {
      case 'duplicate':
        return 'unchanged';
      case 'conflict':
        return 'conflict';
      case 'new':
      case 'resume':
        await deps.index.completeInstance(object, attributes, header.dataset);
        return 'indexed';
      case 'discarded': // only when tombstones are given, and a reindex gives none
        throw new LightboxError('Internal', 'reindex: an instance was discarded');
    }
  } finally {
    await rm(file, { force: true });
  }
}
