/**
 * The commands of `lightbox`, by name. Each branch adds its own module in cli/commands/ and ONE line
 * here (keep the list sorted by name so that merges only add lines).
 */
import type { CliCommand } from '../command.js';
import { account } from './account.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { patientErase } from './patient-erase.js';
import { patientExport } from './patient-export.js';
import { reindex } from './reindex.js';
import { token } from './token.js';
import { verify } from './verify.js';

export const COMMANDS: readonly CliCommand[] = [
  account,
  exportCommand,
  importCommand,
  patientErase,
  patientExport,
  reindex,
  token,
  verify,
];
