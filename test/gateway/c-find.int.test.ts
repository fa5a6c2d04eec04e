/**
 * C-FIND SCP with dcmtk findscu as the PACS: Study Root and Patient Root, every level, wildcard,
 * date range and UID list matching, return keys (empty ones included), the failure statuses, and
 * access: the archive peer sees everything, an unknown AE nothing.
 */
import anyTest, { type TestFn } from 'ava';
import { findscu, value } from '../helpers/dcmtk-qr.js';
import { seedQrArchive, tempDirectory, type QrArchive } from '../helpers/qr-archive.js';
import { startTestLightbox, type TestLightbox } from '../helpers/start-lightbox.js';
import { requireTool } from '../helpers/tools.js';

const test = anyTest as TestFn<{ lightbox: TestLightbox; archive: QrArchive }>;

const PACS = 'OWNPACS';
const T = {
  SpecificCharacterSet: '00080005',
  StudyDate: '00080020',
  QueryRetrieveLevel: '00080052',
  RetrieveAETitle: '00080054',
  Modality: '00080060',
  InstitutionName: '00080080',
  StudyDescription: '00081030',
  PatientName: '00100010',
  PatientID: '00100020',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  NumberOfPatientRelatedStudies: '00201200',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
};

if ((await requireTool(test, 'findscu')) && (await requireTool(test, 'storescu'))) {
  test.before(async (t) => {
    const lightbox = await startTestLightbox({
      dimse: { peers: [{ aeTitle: PACS, host: '127.0.0.1', port: 1, access: 'archive' }] },
    });
    const directory = await tempDirectory({ teardown: () => undefined }, 'cfind');
    t.context = { lightbox, archive: await seedQrArchive(lightbox, directory) };
  });
  test.after.always(async (t) => {
    await t.context.lightbox?.stop();
  });

  const find = (
    t: { context: { lightbox: TestLightbox } },
    model: 'patient' | 'study',
    keys: string[],
    callingAETitle = PACS,
  ) => findscu(t.context.lightbox.gateway.port, { callingAETitle, model, keys });

  test("Study Root, STUDY level: wildcard on PatientName returns that patient's studies with every requested key", async (t) => {
    const [a] = t.context.archive.patients;
    const result = await find(t, 'study', [
      'QueryRetrieveLevel=STUDY',
      `PatientName=${a.PatientName.slice(0, 6)}*`,
      'StudyInstanceUID',
      'StudyDate',
      'StudyDescription',
      'InstitutionName',
      'NumberOfStudyRelatedInstances',
    ]);
    t.is(result.code, 0, result.stderr);
    t.regex(result.stdout + result.stderr, /Received Final Find Response \(Success\)/);
    const uids = result.responses.map((r) => value(r, T.StudyInstanceUID)).sort();
    t.deepEqual(uids, a.studies.map((s) => s.StudyInstanceUID).sort());
    for (const response of result.responses) {
      t.is(value(response, T.QueryRetrieveLevel), 'STUDY');
      t.is(value(response, T.RetrieveAETitle), 'LIGHTBOX');
      t.is(value(response, T.SpecificCharacterSet), 'ISO_IR 192');
      t.is(value(response, T.PatientName), a.PatientName);
      t.is(value(response, T.StudyDescription), 'Synthetic');
      t.true(T.InstitutionName in response, 'a key Lightbox has no value for is returned empty');
      t.is(response[T.InstitutionName].Value, undefined);
      const study = a.studies.find(
        (s) => s.StudyInstanceUID === value(response, T.StudyInstanceUID),
      )!;
      t.is(value(response, T.StudyDate), study.StudyDate);
      const instances = study.series.reduce((n, s) => n + s.SOPInstanceUIDs.length, 0);
      t.is(Number(value(response, T.NumberOfStudyRelatedInstances)), instances);
    }
  });

  test('Study Root, STUDY level: a StudyDate range and a UID list', async (t) => {
    const all = t.context.archive.patients.flatMap((p) => p.studies);
    const inRange = await find(t, 'study', [
      'QueryRetrieveLevel=STUDY',
      'StudyDate=20240101-20241231',
      `StudyInstanceUID=${all.map((s) => s.StudyInstanceUID).join('\\')}`,
    ]);
    t.is(inRange.code, 0, inRange.stderr);
    t.deepEqual(
      inRange.responses.map((r) => value(r, T.StudyInstanceUID)).sort(),
      all
        .filter((s) => s.StudyDate.startsWith('2024'))
        .map((s) => s.StudyInstanceUID)
        .sort(),
    );
    const openEnded = await find(t, 'study', [
      'QueryRetrieveLevel=STUDY',
      'StudyDate=-20231231',
      `StudyInstanceUID=${all.map((s) => s.StudyInstanceUID).join('\\')}`,
    ]);
    t.deepEqual(
      openEnded.responses.map((r) => value(r, T.StudyInstanceUID)),
      all.filter((s) => s.StudyDate < '2024').map((s) => s.StudyInstanceUID),
    );
  });

  test('Study Root, SERIES and IMAGE levels', async (t) => {
    const study = t.context.archive.patients[0].studies[0];
    const series = await find(t, 'study', [
      'QueryRetrieveLevel=SERIES',
      `StudyInstanceUID=${study.StudyInstanceUID}`,
      'SeriesInstanceUID',
      'Modality=CT',
      'NumberOfSeriesRelatedInstances',
    ]);
    t.is(series.code, 0, series.stderr);
    t.deepEqual(
      series.responses.map((r) => [
        value(r, T.SeriesInstanceUID),
        Number(value(r, T.NumberOfSeriesRelatedInstances)),
      ]),
      study.series.map((s) => [s.SeriesInstanceUID, s.SOPInstanceUIDs.length]),
    );
    const images = await find(t, 'study', [
      'QueryRetrieveLevel=IMAGE',
      `StudyInstanceUID=${study.StudyInstanceUID}`,
      `SeriesInstanceUID=${study.series[0].SeriesInstanceUID}`,
      'SOPInstanceUID',
    ]);
    t.is(images.code, 0, images.stderr);
    t.deepEqual(
      images.responses.map((r) => value(r, T.SOPInstanceUID)),
      study.series[0].SOPInstanceUIDs,
    );
    t.true(images.responses.every((r) => value(r, T.QueryRetrieveLevel) === 'IMAGE'));
  });

  test('Patient Root: PATIENT level with related counts, then STUDY, SERIES and IMAGE below it', async (t) => {
    const [a] = t.context.archive.patients;
    const patients = await find(t, 'patient', [
      'QueryRetrieveLevel=PATIENT',
      `PatientID=${a.PatientID}`,
      'PatientName',
      'NumberOfPatientRelatedStudies',
    ]);
    t.is(patients.code, 0, patients.stderr);
    t.is(patients.responses.length, 1);
    t.is(value(patients.responses[0], T.PatientName), a.PatientName);
    t.is(Number(value(patients.responses[0], T.NumberOfPatientRelatedStudies)), 2);
    t.is(value(patients.responses[0], T.QueryRetrieveLevel), 'PATIENT');

    const studies = await find(t, 'patient', [
      'QueryRetrieveLevel=STUDY',
      `PatientID=${a.PatientID}`,
      'StudyInstanceUID',
    ]);
    t.deepEqual(
      studies.responses.map((r) => value(r, T.StudyInstanceUID)).sort(),
      a.studies.map((s) => s.StudyInstanceUID).sort(),
    );
    const study = a.studies[0];
    const series = await find(t, 'patient', [
      'QueryRetrieveLevel=SERIES',
      `PatientID=${a.PatientID}`,
      `StudyInstanceUID=${study.StudyInstanceUID}`,
      'SeriesInstanceUID',
    ]);
    t.is(series.responses.length, study.series.length);
    const images = await find(t, 'patient', [
      'QueryRetrieveLevel=IMAGE',
      `PatientID=${a.PatientID}`,
      `StudyInstanceUID=${study.StudyInstanceUID}`,
      `SeriesInstanceUID=${study.series[1].SeriesInstanceUID}`,
      'SOPInstanceUID',
    ]);
    t.deepEqual(
      images.responses.map((r) => value(r, T.SOPInstanceUID)),
      study.series[1].SOPInstanceUIDs,
    );
  });

  test('an AE title that is neither the archive peer nor an organisation sees nothing', async (t) => {
    const result = await find(
      t,
      'study',
      ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID'],
      'STRANGER',
    );
    t.is(result.code, 0, result.stderr);
    t.regex(result.stdout + result.stderr, /Received Final Find Response \(Success\)/);
    t.is(result.responses.length, 0);
  });

  test('a level outside the model or a malformed key fails with 0xA900', async (t) => {
    const patientInStudyRoot = await find(t, 'study', ['QueryRetrieveLevel=PATIENT', 'PatientID']);
    t.regex(
      patientInStudyRoot.stdout + patientInStudyRoot.stderr,
      /Error: DataSetDoesNotMatchSOPClass/,
    );
    t.is(patientInStudyRoot.responses.length, 0);
    const badDate = await find(t, 'study', ['QueryRetrieveLevel=STUDY', 'StudyDate=2024-01-01']);
    t.regex(badDate.stdout + badDate.stderr, /Error: DataSetDoesNotMatchSOPClass/);
  });
}
