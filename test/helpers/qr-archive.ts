/**
 * A small archive for the Query/Retrieve tests: two patients, three studies on known dates, four
 * series, eight synthetic instances, sent with storescu and archived before the tests query it.
 * Random UIDs and PatientIDs, so that test files never see each other's data.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { storescu } from './dcmtk.js';
import type { TestLightbox } from './start-lightbox.js';
import { encodeInstance, makeUID } from './synthetic.js';

export interface QrSeries {
  SeriesInstanceUID: string;
  Modality: string;
  SOPInstanceUIDs: string[];
}

export interface QrStudy {
  StudyInstanceUID: string;
  StudyDate: string;
  series: QrSeries[];
}

export interface QrPatient {
  PatientID: string;
  PatientName: string;
  studies: QrStudy[];
}

export interface QrArchive {
  patients: QrPatient[];
  /** Every instance's SOPInstanceUID → its file as sent. */
  files: Map<string, string>;
}

function plan(): QrPatient[] {
  const tag = randomUUID().slice(0, 8).toUpperCase();
  const series = (Modality: string, count: number): QrSeries => ({
    SeriesInstanceUID: makeUID(),
    Modality,
    SOPInstanceUIDs: Array.from({ length: count }, () => makeUID()),
  });
  return [
    {
      PatientID: `QR-A-${tag}`,
      PatientName: `DOE${tag}^JANE`,
      studies: [
        {
          StudyInstanceUID: makeUID(),
          StudyDate: '20240110',
          series: [series('CT', 3), series('CT', 2)],
        },
        { StudyInstanceUID: makeUID(), StudyDate: '20240620', series: [series('MR', 1)] },
      ],
    },
    {
      PatientID: `QR-B-${tag}`,
      PatientName: `ROE${tag}^RICHARD`,
      studies: [{ StudyInstanceUID: makeUID(), StudyDate: '20230105', series: [series('CT', 2)] }],
    },
  ];
}

/** Writes the instances under `directory`, C-STOREs them as `callingAETitle`, waits until archived. */
export async function seedQrArchive(
  lightbox: TestLightbox,
  directory: string,
  callingAETitle = 'MODALITY',
): Promise<QrArchive> {
  const patients = plan();
  const files = new Map<string, string>();
  for (const patient of patients) {
    for (const study of patient.studies) {
      for (const [s, series] of study.series.entries()) {
        for (const [i, SOPInstanceUID] of series.SOPInstanceUIDs.entries()) {
          const file = path.join(directory, `${SOPInstanceUID}.dcm`);
          await writeFile(
            file,
            encodeInstance({
              SOPInstanceUID,
              StudyInstanceUID: study.StudyInstanceUID,
              SeriesInstanceUID: series.SeriesInstanceUID,
              PatientID: patient.PatientID,
              PatientName: patient.PatientName,
              StudyDate: study.StudyDate,
              Modality: series.Modality,
              SeriesNumber: s + 1,
              InstanceNumber: i + 1,
              Rows: 32,
              Columns: 32,
            }),
          );
          files.set(SOPInstanceUID, file);
        }
      }
    }
  }
  const sent = await storescu(lightbox.gateway.port, [...files.values()], { callingAETitle });
  if (sent.code !== 0) throw new Error(`storescu: ${sent.stderr}`);
  await lightbox.settled();
  return { patients, files };
}

export async function tempDirectory(t: { teardown(fn: () => Promise<void>): void }, name: string) {
  const directory = await mkdtemp(path.join(os.tmpdir(), `lightbox-${name}-`));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

/** The data set bytes of a Part 10 file (what follows its File Meta Information). */
export const datasetOf = (file: Buffer) =>
  file.subarray(decodeFileMetaInformation(file).datasetOffset);

/** The data set of an archived instance, read back from the object store. */
export async function storedDataset(
  lightbox: TestLightbox,
  SOPInstanceUID: string,
): Promise<Buffer> {
  const row = await lightbox.services.index.getInstance(SOPInstanceUID);
  if (!row) throw new Error('not stored');
  const chunks: Buffer[] = [];
  for await (const chunk of await lightbox.services.objects.getObject(row.objectKey)) {
    chunks.push(chunk as Buffer);
  }
  return datasetOf(Buffer.concat(chunks));
}
