/**
 * `lightbox export <dest> [--study UID | --patient-id ID]`: copies stored instances, byte for byte,
 * into <dest>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm. Each copy is hashed as it
 * is written and checked against the index's SHA-256 and size: a copy that differs is removed and
 * reported (exit 1), never left looking like a good one. Files are written as .part and renamed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { digestObject } from '../../core/archive/object-digest.js';
import { listIndexedObjects, type IndexedObject } from '../../core/archive/stored-objects-query.js';
import type { ObjectStore } from '../../core/archive/object-store.js';
import { assertValidUID } from '../../core/dicom/uid.js';
import { isLightboxError } from '../../core/errors.js';
import { withArchive } from '../archive.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { progress } from '../progress.js';

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'copy stored instances byte for byte into a folder (all, one study, or one patient)',
  usage: 'lightbox export <dest> [--study StudyInstanceUID | --patient-id PatientID]',
  async run(args, io) {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { study: { type: 'string' }, 'patient-id': { type: 'string' } },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError('export takes one destination folder');
    if (values.study !== undefined && values['patient-id'] !== undefined) {
      throw new UsageError('--study and --patient-id exclude each other');
    }
    const filter = {
      StudyInstanceUID:
        values.study === undefined ? undefined : assertValidUID(values.study, 'StudyInstanceUID'),
      PatientID: values['patient-id'],
    };
    const destination = path.resolve(positionals[0]);
    return withArchive(io.config, 'lightbox export', async ({ index, objects }) => {
      let total = 0;
      for await (const _ of listIndexedObjects(index.sql, filter)) total++;
      const bar = progress(io.stderr, 'export', total);
      let bytes = 0;
      let done = 0;
      let failed = 0;
      for await (const entry of listIndexedObjects(index.sql, filter)) {
        const copied = await exportObject(objects, entry, destination);
        if (typeof copied === 'number') bytes += copied;
        else {
          failed++;
          io.stdout.write(
            `${copied.problem} ${entry.objectKey}: not exported (run lightbox verify)\n`,
          );
        }
        bar.tick(++done);
      }
      bar.finish();
      io.stdout.write(
        `exported ${done - failed} instances (${bytes} bytes) to ${destination}` +
          (failed > 0 ? `; ${failed} differ from the index\n` : '\n'),
      );
      return failed === 0 ? ExitCode.Ok : ExitCode.Failure;
    });
  },
};

/** Copies one object; its size when intact, otherwise why not (and no file is left). */
async function exportObject(
  objects: ObjectStore,
  entry: IndexedObject,
  destination: string,
): Promise<number | { problem: 'MISSING' | 'MISMATCH' }> {
  const file = path.join(
    destination,
    entry.StudyInstanceUID!,
    entry.SeriesInstanceUID!,
    `${entry.SOPInstanceUID}.dcm`,
  );
  await mkdir(path.dirname(file), { recursive: true });
  const part = `${file}.part`;
  try {
    const copied = await digestObject(objects, entry.objectKey, createWriteStream(part));
    if (copied.sha256 === entry.sha256 && copied.size === entry.size) {
      await rename(part, file);
      return copied.size;
    }
    await rm(part, { force: true });
    return { problem: 'MISMATCH' };
  } catch (error) {
    await rm(part, { force: true });
    if (isLightboxError(error, 'NotFound')) return { problem: 'MISSING' };
    throw error;
  }
}
