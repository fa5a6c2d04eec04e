/**
 * "Export all my imaging" (GDPR art. 15 and 20): a ZIP laid out as PS3.10 media, DICOMDIR at the root
 * and every stored instance of the patient record under its File ID, bytes unchanged (stored, not
 * deflated). Objects are streamed one at a time from the object store into the ZIP (yazl asks for the
 * next stream only when the previous entry is written), each checked against the SHA-256 the index
 * recorded at ingest: a ZIP never carries bytes other than those acknowledged.
 */
import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { ObjectStore } from '../../archive/object-store.js';
import type { SqlQueryable } from '../../archive/sql-client.js';
import { LightboxError } from '../../errors.js';
import { findPatientRecord, patientInstances } from '../patient-instances.js';
import { writeDicomdir } from './dicomdir.js';
import { layOutFileSet } from './file-set-layout.js';

export interface ExportProgress {
  done: number;
  total: number;
}

export interface ExportZipOptions {
  sql: SqlQueryable;
  objects: ObjectStore;
  patientKey: string;
  out: Writable;
  /** Called with the total first, then after each instance written. */
  onProgress?: (progress: ExportProgress) => void;
}

/** Passes bytes through and fails at the end when they do not hash to `sha256`. */
function verifying(sha256: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      callback(
        actual === sha256
          ? null
          : new LightboxError('Internal', 'stored object does not match its recorded SHA-256'),
      );
    },
  });
}

/** Writes the ZIP to `out`; resolves with the number of instances once `out` has all the bytes. */
export async function writeExportZip(options: ExportZipOptions): Promise<ExportProgress> {
  const { sql, objects, patientKey } = options;
  const record = await findPatientRecord(sql, patientKey);
  if (!record) throw new LightboxError('NotFound', 'no such patient record');
  const { patient, placed } = layOutFileSet(record, await patientInstances(sql, patientKey));
  const progress = { done: 0, total: placed.length };
  options.onProgress?.({ ...progress });

  const zip = new yazl.ZipFile();
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  failed.catch(() => undefined);
  const mtime = new Date();
  zip.addBuffer(writeDicomdir([patient]), 'DICOMDIR', { compress: false, mtime });
  for (const instance of placed) {
    zip.addReadStreamLazy(
      instance.fileId.join('/'),
      { compress: false, size: instance.size, mtime },
      (callback) => {
        objects.getObject(instance.objectKey).then(
          (stream) => {
            const checked = stream.pipe(verifying(instance.sha256));
            stream.once('error', (error) => checked.destroy(error));
            checked.once('error', (error) => zip.emit('error', error));
            checked.once('end', () => {
              progress.done++;
              options.onProgress?.({ ...progress });
            });
            callback(null, checked);
          },
          (error: Error) => callback(error, undefined as never),
        );
      },
    );
  }
  zip.end();
  await Promise.race([pipeline(zip.outputStream, options.out), failed]);
  return progress;
}
