/**
 * C-MOVE and C-GET SCP with dcmtk: movescu asks Lightbox to send to a storescp that the test starts
 * (bit-preserving, +B), getscu receives on its own association (+B); what arrives is compared byte
 * for byte with the stored objects' data sets. Then the statuses: unknown destination (0xA801), a
 * destination that refuses the stored transfer syntax (every sub-operation fails: no transcoding),
 * C-CANCEL, and a requester that sees nothing.
 */
import anyTest, { type TestFn } from 'ava';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { startStorescp, type Storescp } from '../helpers/dcmtk.js';
import { finalMoveResponse, getscu, movescu } from '../helpers/dcmtk-qr.js';
import {
  datasetOf,
  seedQrArchive,
  storedDataset,
  tempDirectory,
  type QrArchive,
} from '../helpers/qr-archive.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { requireTool } from '../helpers/tools.js';

interface Context {
  lightbox: TestLightbox;
  archive: QrArchive;
  directory: string;
  pacs: Storescp;
  implicitOnly: Storescp;
  received: string;
}
const test = anyTest as TestFn<Context>;

const PACS = 'OWNPACS';
const IMPLICIT_ONLY = 'OLDPACS';
/** The data set bytes of each received file, by SOPInstanceUID (the meta group names it). */
async function receivedDatasets(directory: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of await readdir(directory)) {
    const file = await readFile(path.join(directory, name));
    out.set(decodeFileMetaInformation(file).meta.MediaStorageSOPInstanceUID, datasetOf(file));
  }
  return out;
}

/** The stored objects' data sets of a study, by SOPInstanceUID. */
async function storedDatasets(lightbox: TestLightbox, StudyInstanceUID: string) {
  const out = new Map<string, Buffer>();
  for (const instance of await lightbox.services.index.findStoredInstances({ StudyInstanceUID })) {
    out.set(instance.SOPInstanceUID, await storedDataset(lightbox, instance.SOPInstanceUID));
  }
  return out;
}

async function fresh(t: { context: Context }, name: string): Promise<string> {
  const directory = path.join(t.context.directory, name);
  await mkdir(directory);
  return directory;
}

if (
  (await requireTool(test, 'movescu')) &&
  (await requireTool(test, 'getscu')) &&
  (await requireTool(test, 'storescp'))
) {
  test.before(async (t) => {
    const directory = await tempDirectory({ teardown: () => undefined }, 'cmove');
    const received = path.join(directory, 'pacs');
    await mkdir(received);
    await mkdir(path.join(directory, 'old'));
    const pacs = await startStorescp(received, PACS);
    const implicitOnly = await startStorescp(path.join(directory, 'old'), IMPLICIT_ONLY, ['+xi']);
    const lightbox = await startTestLightbox({
      dimse: {
        peers: [
          { aeTitle: PACS, host: '127.0.0.1', port: pacs.port, access: 'archive' },
          { aeTitle: IMPLICIT_ONLY, host: '127.0.0.1', port: implicitOnly.port, access: 'archive' },
        ],
      },
    });
    const archive = await seedQrArchive(
      lightbox,
      await mkdir(path.join(directory, 'in'), { recursive: true }).then(() =>
        path.join(directory, 'in'),
      ),
    );
    t.context = { lightbox, archive, directory, pacs, implicitOnly, received };
  });
  test.after.always(async (t) => {
    await t.context.lightbox?.stop();
    await t.context.pacs?.close();
    await t.context.implicitOnly?.close();
  });

  test.serial(
    'C-MOVE of a study to a configured peer: every instance arrives with the stored data set bytes',
    async (t) => {
      const { lightbox, archive, received } = t.context;
      const study = archive.patients[0].studies[0];
      const result = await movescu(lightbox.gateway.port, PACS, {
        callingAETitle: PACS,
        model: 'study',
        keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study.StudyInstanceUID}`],
      });
      t.is(result.code, 0, result.stderr);
      const output = result.stdout + result.stderr;
      t.like(finalMoveResponse(output), { status: 0x0000, completed: 5, failed: 0 });
      t.regex(
        output,
        /Remaining Suboperations\s*: 1\b/,
        'pending responses carry the remaining count',
      );
      const got = await receivedDatasets(received);
      const stored = await storedDatasets(lightbox, study.StudyInstanceUID);
      t.is(got.size, 5);
      t.deepEqual([...got.keys()].sort(), [...stored.keys()].sort());
      for (const [uid, bytes] of stored)
        t.true(bytes.equals(got.get(uid)!), `data set of ${uid} unchanged`);
    },
  );

  test.serial('C-MOVE at PATIENT level (Patient Root) and IMAGE level', async (t) => {
    const { lightbox, archive } = t.context;
    const b = archive.patients[1];
    const patient = await movescu(lightbox.gateway.port, PACS, {
      callingAETitle: PACS,
      model: 'patient',
      keys: ['QueryRetrieveLevel=PATIENT', `PatientID=${b.PatientID}`],
    });
    t.like(finalMoveResponse(patient.stdout + patient.stderr), { status: 0x0000, completed: 2 });
    const series = archive.patients[0].studies[1].series[0];
    const image = await movescu(lightbox.gateway.port, PACS, {
      callingAETitle: PACS,
      model: 'study',
      keys: ['QueryRetrieveLevel=IMAGE', `SOPInstanceUID=${series.SOPInstanceUIDs[0]}`],
    });
    t.like(finalMoveResponse(image.stdout + image.stderr), { status: 0x0000, completed: 1 });
  });

  test.serial(
    'C-MOVE to an unknown destination is refused with 0xA801; an unknown requester gets the same',
    async (t) => {
      const { lightbox, archive } = t.context;
      const keys = [
        'QueryRetrieveLevel=STUDY',
        `StudyInstanceUID=${archive.patients[0].studies[0].StudyInstanceUID}`,
      ];
      const unknown = await movescu(lightbox.gateway.port, 'NOBODY', {
        callingAETitle: PACS,
        model: 'study',
        keys,
      });
      t.is(finalMoveResponse(unknown.stdout + unknown.stderr).status, 0xa801);
      const stranger = await movescu(lightbox.gateway.port, PACS, {
        callingAETitle: 'STRANGER',
        model: 'study',
        keys,
      });
      t.is(finalMoveResponse(stranger.stdout + stranger.stderr).status, 0xa801);
    },
  );

  test.serial(
    'a destination that does not accept the stored transfer syntax: every sub-operation fails, nothing is transcoded',
    async (t) => {
      const { lightbox, archive, directory } = t.context;
      const study = archive.patients[1].studies[0];
      const result = await movescu(lightbox.gateway.port, IMPLICIT_ONLY, {
        callingAETitle: PACS,
        model: 'study',
        keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study.StudyInstanceUID}`],
      });
      const output = result.stdout + result.stderr;
      t.like(finalMoveResponse(output), { status: 0xa702, completed: 0, failed: 2 });
      t.deepEqual(await readdir(path.join(directory, 'old')), []);
    },
  );

  test.serial(
    'C-MOVE honours C-CANCEL: the final status is Cancel with instances left unsent',
    async (t) => {
      const { lightbox, archive } = t.context;
      const study = archive.patients[0].studies[0];
      const result = await movescu(lightbox.gateway.port, PACS, {
        callingAETitle: PACS,
        model: 'study',
        keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study.StudyInstanceUID}`],
        extra: ['--cancel', '1'],
      });
      const output = result.stdout + result.stderr;
      const final = finalMoveResponse(output);
      t.is(final.status, 0xfe00);
      t.true(final.completed < 5, `cancelled before the end (${final.completed} sent)`);
    },
  );

  test.serial(
    'C-GET returns the instances on the same association, data sets unchanged',
    async (t) => {
      const { lightbox, archive } = t.context;
      const study = archive.patients[0].studies[0];
      const into = await fresh(t, 'get');
      const result = await getscu(lightbox.gateway.port, into, {
        callingAETitle: PACS,
        model: 'study',
        keys: [
          'QueryRetrieveLevel=SERIES',
          `StudyInstanceUID=${study.StudyInstanceUID}`,
          `SeriesInstanceUID=${study.series[0].SeriesInstanceUID}`,
        ],
      });
      t.is(result.code, 0, result.stderr);
      t.regex(result.stdout + result.stderr, /Received C-GET Response \(Success\)/);
      t.regex(result.stdout + result.stderr, /Number of Completed Suboperations : 3/);
      const got = await receivedDatasets(into);
      const stored = await storedDatasets(lightbox, study.StudyInstanceUID);
      t.deepEqual([...got.keys()].sort(), [...study.series[0].SOPInstanceUIDs].sort());
      for (const [uid, bytes] of got)
        t.true(bytes.equals(stored.get(uid)!), `data set of ${uid} unchanged`);
    },
  );

  test.serial('C-GET by a requester that may see nothing gets nothing', async (t) => {
    const { lightbox, archive } = t.context;
    const into = await fresh(t, 'get-stranger');
    const result = await getscu(lightbox.gateway.port, into, {
      callingAETitle: 'STRANGER',
      model: 'study',
      keys: [
        'QueryRetrieveLevel=STUDY',
        `StudyInstanceUID=${archive.patients[0].studies[0].StudyInstanceUID}`,
      ],
    });
    t.is(result.code, 0, result.stderr);
    t.deepEqual(await readdir(into), []);
  });
}
