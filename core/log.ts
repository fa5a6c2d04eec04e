/**
 * One pino root per process. Logs are fields, not sentences, and carry no patient data: names, IDs and
 * UIDs are redacted wherever they appear under these keys. Put a UID in a log only at debug level and
 * only under one of these keys, so that it is redacted at every level.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogConfig } from '../config/schema.js';

export const REDACTED_KEYS = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'OtherPatientIDs',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'studyInstanceUID',
  'seriesInstanceUID',
  'sopInstanceUID',
  'remoteAddress',
  'IssuerOfPatientID',
  'patientKey',
  'displayName',
  'token',
  'accessToken',
  'pin',
  'authorization',
];

export type { Logger };

export function createLogger(
  config: LogConfig,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level: config.level,
    base: { ...bindings },
    redact: {
      paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
