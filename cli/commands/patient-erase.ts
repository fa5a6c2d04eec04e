/**
 * `lightbox patient-erase <patientKey> --yes`: erases a patient record (GDPR art. 17) as the patient
 * API does: objects in every store, index rows, conflicts, exports, grants and links; prints the
 * receipt (JSON, with its SHA-256). Safe to run again: an interrupted erasure is resumed and a
 * finished one prints the same receipt.
 */
import { parseArgs } from 'node:util';
import type { DataRightsConfig } from '../../config/schema.js';
import { DataRights } from '../../core/data-rights/data-rights.js';
import { isPatientKey } from '../../core/data-rights/patient-instances.js';
import { withArchive } from '../archive.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';

export const patientErase: CliCommand = {
  name: 'patient-erase',
  summary: 'erase a patient record (objects, index, grants) and print the erasure receipt',
  usage: 'lightbox patient-erase <patientKey> --yes',
  async run(args, io) {
    const { positionals, values } = parseArgs({
      args: [...args],
      options: { yes: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    if (positionals.length !== 1 || !isPatientKey(positionals[0])) {
      throw new UsageError('patient-erase takes one patient key');
    }
    if (!values.yes) throw new UsageError('erasure cannot be undone: confirm with --yes');
    return withArchive(io.config, 'lightbox patient-erase', async ({ index, objects }) => {
      const config: DataRightsConfig = io.config.dataRights;
      const dataRights = new DataRights({ sql: index.sql, objects, config, log: io.log });
      const receipt = await dataRights.erase(positionals[0], {
        principal: { kind: 'archive-reader' },
        via: 'cli',
      });
      io.stdout.write(`${JSON.stringify(receipt, null, 2)}\n`);
      return ExitCode.Ok;
    });
  },
};
