/**
 * Orthanc (Debian) as the operator's PACS, a dimse.peers entry with access 'archive': it pushes a
 * study to Lightbox (REST /modalities/lightbox/store), C-FINDs Lightbox (/modalities/lightbox/query),
 * receives a study Lightbox C-MOVEs to it (requested by movescu, and by Orthanc's own query +
 * retrieve), byte for byte, and asks Lightbox for Storage Commitment (report on a new association).
 */
import anyTest, { type TestFn } from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../helpers/dcmtk.js';
import { finalMoveResponse, movescu } from '../helpers/dcmtk-qr.js';
import { startTestOrthanc, ORTHANC_BINARY, type TestOrthanc } from '../helpers/orthanc.js';
import {
  datasetOf,
  seedQrArchive,
  storedDataset,
  tempDirectory,
  type QrArchive,
} from '../helpers/qr-archive.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { CTImageStorage, encodeInstance, makeUID } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';

interface Context {
  lightbox: TestLightbox;
  orthanc: TestOrthanc;
  archive: QrArchive;
  directory: string;
}
const test = anyTest as TestFn<Context>;

/** The data sets Orthanc holds for a study, by SOPInstanceUID (GET /instances/{id}/file). */
async function orthancDatasets(orthanc: TestOrthanc, StudyInstanceUID: string) {
  const ids = await orthanc.rest<string[]>('POST', '/tools/find', {
    Level: 'Instance',
    Query: { StudyInstanceUID },
  });
  const out = new Map<string, Buffer>();
  for (const id of ids) {
    const tags = await orthanc.rest<{ SOPInstanceUID: string }>(
      'GET',
      `/instances/${id}/simplified-tags`,
    );
    const file = Buffer.from(
      await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer(),
    );
    out.set(tags.SOPInstanceUID, datasetOf(file));
  }
  return out;
}

if (
  (await requireTool(test, ORTHANC_BINARY, ['--version'])) &&
  (await requireTool(test, 'movescu'))
) {
  test.before(async (t) => {
    const directory = await tempDirectory({ teardown: () => undefined }, 'orthanc-peer');
    const orthancDicomPort = await freePort();
    const lightbox = await startTestLightbox({
      dimse: {
        peers: [
          { aeTitle: 'ORTHANC', host: '127.0.0.1', port: orthancDicomPort, access: 'archive' },
        ],
      },
    });
    const orthanc = await startTestOrthanc({
      dicomPort: orthancDicomPort,
      modalities: { lightbox: { AET: 'LIGHTBOX', Host: '127.0.0.1', Port: lightbox.gateway.port } },
    });
    await mkdir(path.join(directory, 'in'));
    const archive = await seedQrArchive(lightbox, path.join(directory, 'in'));
    t.context = { lightbox, orthanc, archive, directory };
  });
  test.after.always(async (t) => {
    await t.context.orthanc?.stop();
    await t.context.lightbox?.stop();
  });

  test.serial(
    'Orthanc pushes a study to Lightbox (C-STORE): archived, data sets as Orthanc holds them',
    async (t) => {
      const { lightbox, orthanc, directory } = t.context;
      const StudyInstanceUID = makeUID();
      const SeriesInstanceUID = makeUID();
      const uids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const SOPInstanceUID = makeUID();
        uids.push(SOPInstanceUID);
        const file = path.join(directory, `push-${i}.dcm`);
        const bytes = encodeInstance({
          SOPInstanceUID,
          StudyInstanceUID,
          SeriesInstanceUID,
          InstanceNumber: i,
          PatientID: 'PUSHED',
        });
        await writeFile(file, bytes);
        await orthanc.rest('POST', '/instances', await readFile(file));
      }
      const [study] = await orthanc.rest<string[]>('POST', '/tools/find', {
        Level: 'Study',
        Query: { StudyInstanceUID },
      });
      const job = await orthanc.rest<{ InstancesCount?: number; FailedInstancesCount?: number }>(
        'POST',
        '/modalities/lightbox/store',
        { Resources: [study], Synchronous: true },
      );
      t.is(job.FailedInstancesCount ?? 0, 0);
      await lightbox.settled();
      const held = await orthancDatasets(orthanc, StudyInstanceUID);
      for (const uid of uids) {
        const row = await lightbox.services.index.getInstance(uid);
        t.is(row?.state, 'stored');
        t.is(row?.callingAETitle, 'ORTHANC');
        t.true((await storedDataset(lightbox, uid)).equals(held.get(uid)!), 'data set unchanged');
      }
    },
  );

  test.serial('Orthanc C-FINDs Lightbox at study and series level', async (t) => {
    const { orthanc, archive } = t.context;
    const [a] = archive.patients;
    const query = await orthanc.rest<{ ID: string }>('POST', '/modalities/lightbox/query', {
      Level: 'Study',
      Query: { PatientID: a.PatientID, StudyDate: '', StudyDescription: '' },
    });
    const answers = await orthanc.rest<Array<Record<string, string>>>(
      'GET',
      `/queries/${query.ID}/answers?expand&simplify`,
    );
    t.deepEqual(
      answers.map((answer) => answer.StudyInstanceUID).sort(),
      a.studies.map((s) => s.StudyInstanceUID).sort(),
    );
    t.true(answers.every((answer) => answer.StudyDescription === 'Synthetic'));
    const study = a.studies[0];
    const series = await orthanc.rest<{ ID: string }>('POST', '/modalities/lightbox/query', {
      Level: 'Series',
      Query: { StudyInstanceUID: study.StudyInstanceUID, Modality: '' },
    });
    const seriesAnswers = await orthanc.rest<Array<Record<string, string>>>(
      'GET',
      `/queries/${series.ID}/answers?expand&simplify`,
    );
    t.deepEqual(
      seriesAnswers.map((answer) => answer.SeriesInstanceUID).sort(),
      study.series.map((s) => s.SeriesInstanceUID).sort(),
    );
  });

  test.serial(
    'Lightbox C-MOVEs a study to Orthanc (movescu asks): Orthanc holds the stored bytes',
    async (t) => {
      const { lightbox, orthanc, archive } = t.context;
      const study = archive.patients[0].studies[0];
      const result = await movescu(lightbox.gateway.port, 'ORTHANC', {
        callingAETitle: 'ORTHANC',
        model: 'study',
        keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study.StudyInstanceUID}`],
      });
      t.like(finalMoveResponse(result.stdout + result.stderr), {
        status: 0x0000,
        completed: 5,
        failed: 0,
      });
      const held = await orthancDatasets(orthanc, study.StudyInstanceUID);
      t.is(held.size, 5);
      for (const [uid, bytes] of held)
        t.true(bytes.equals(await storedDataset(lightbox, uid)), `${uid} unchanged`);
    },
  );

  test.serial("Orthanc's own query + retrieve moves a study from Lightbox to itself", async (t) => {
    const { lightbox, orthanc, archive } = t.context;
    const study = archive.patients[1].studies[0];
    const query = await orthanc.rest<{ ID: string }>('POST', '/modalities/lightbox/query', {
      Level: 'Study',
      Query: { StudyInstanceUID: study.StudyInstanceUID },
    });
    await orthanc.rest('POST', `/queries/${query.ID}/retrieve`, {
      TargetAet: 'ORTHANC',
      Synchronous: true,
    });
    const held = await orthancDatasets(orthanc, study.StudyInstanceUID);
    t.deepEqual([...held.keys()].sort(), study.series[0].SOPInstanceUIDs.slice().sort());
    for (const [uid, bytes] of held)
      t.true(bytes.equals(await storedDataset(lightbox, uid)), `${uid} unchanged`);
  });

  test.serial(
    'Storage Commitment from Orthanc: stored instances committed, an unknown one failed (0x0112)',
    async (t) => {
      const { orthanc, archive } = t.context;
      const stored = archive.patients[0].studies[1].series[0].SOPInstanceUIDs;
      const unknown = makeUID();
      const request = await orthanc.rest<{ ID: string }>(
        'POST',
        '/modalities/lightbox/storage-commitment',
        {
          DicomInstances: [...stored, unknown].map((uid) => [CTImageStorage, uid]),
          Timeout: 60,
        },
      );
      let report: {
        Status: string;
        Success?: unknown[];
        Failures?: Array<{ FailureReason: number; SOPInstanceUID: string }>;
      };
      const deadline = Date.now() + 60_000;
      do {
        await new Promise((r) => setTimeout(r, 200));
        report = await orthanc.rest('GET', `/storage-commitment/${request.ID}`);
      } while (report.Status === 'Pending' && Date.now() < deadline);
      t.is(report.Status, 'Failure', JSON.stringify(report));
      t.is(report.Success?.length, stored.length);
      t.deepEqual(
        report.Failures?.map((f) => [f.SOPInstanceUID, f.FailureReason]),
        [[unknown, 0x0112]],
      );
    },
  );
}
