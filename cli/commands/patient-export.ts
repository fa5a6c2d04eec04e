/**
 * `lightbox patient-export <patientKey> <file.zip>`: all imaging of one patient record as a ZIP laid
 * out as PS3.10 media (DICOMDIR at the root, files under DICOM/…), bytes as stored and checked
 * against the index's SHA-256 (core/data-rights/export). For an operator answering a patient's
 * request (GDPR art. 15/20) outside the patient API. Written as .part, renamed when complete.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeExportZip } from '../../core/data-rights/export/export-zip.js';
import { isPatientKey } from '../../core/data-rights/patient-instances.js';
import { withArchive } from '../archive.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { progress } from '../progress.js';

export const patientExport: CliCommand = {
  name: 'patient-export',
  summary: 'export all imaging of a patient record as a ZIP with DICOMDIR (PS3.10 media)',
  usage: 'lightbox patient-export <patientKey> <file.zip>',
  async run(args, io) {
    if (args.length !== 2 || !isPatientKey(args[0])) {
      throw new UsageError('patient-export takes a patient key and a ZIP file name');
    }
    const [patientKey, target] = [args[0], path.resolve(args[1])];
    return withArchive(io.config, 'lightbox patient-export', async ({ index, objects }) => {
      let bar: ReturnType<typeof progress> | undefined;
      try {
        const result = await writeExportZip({
          sql: index.sql,
          objects,
          patientKey,
          out: createWriteStream(`${target}.part`),
          onProgress: ({ done, total }) => {
            bar ??= progress(io.stderr, 'patient-export', total);
            bar.tick(done);
          },
        });
        bar?.finish();
        await rename(`${target}.part`, target);
        io.stdout.write(`exported ${result.total} instances with DICOMDIR to ${target}\n`);
        return ExitCode.Ok;
      } catch (error) {
        await rm(`${target}.part`, { force: true });
        throw error;
      }
    });
  },
};
