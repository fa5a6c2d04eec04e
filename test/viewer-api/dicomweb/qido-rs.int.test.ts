/**
 * QIDO-RS (PS3.18 §10.6) through dicomweb-client against a real Lightbox: the matching matrix of
 * PS3.4 §C.2.2.2 (wildcards, case-insensitive PN, fuzzy matching, date and time ranges, UID lists,
 * ModalitiesInStudy), includefield, limit/offset, computed attributes, every level of the resource
 * tree, errors; and the proof that searches never touch object storage.
 */
import ava, { type ExecutionContext } from 'ava';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  TEST_API_TOKEN,
  arrayBufferOf,
  authorizedFetch,
  dicomwebClient,
  type DICOMwebClient,
} from '../../helpers/dicomweb.js';
import { createTestDatabase, requirePostgres, type TestDatabase } from '../../helpers/postgres.js';
import { startTestLightbox, type TestLightbox } from '../../helpers/start-lightbox.js';
import { encodeInstance, makeUID, type SyntheticAttributes } from '../../helpers/synthetic.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

interface Study {
  StudyInstanceUID: string;
  PatientID: string;
  PatientName: string;
  StudyDate: string;
  AccessionNumber: string;
  StudyDescription: string;
  /** One entry per series: its modality and how many instances. */
  series: Array<{ Modality: string; instances: number; SeriesInstanceUID: string }>;
}

function study(
  key: string,
  PatientName: string,
  StudyDate: string,
  AccessionNumber: string,
  series: Array<[string, number]>,
): Study {
  return {
    StudyInstanceUID: makeUID(),
    PatientID: `P-${key}`,
    PatientName,
    StudyDate,
    AccessionNumber,
    StudyDescription: `Study ${key}`,
    series: series.map(([Modality, instances]) => ({
      Modality,
      instances,
      SeriesInstanceUID: makeUID(),
    })),
  };
}

const A = study('A', 'Doe^John', '20240105', 'ACC-A1', [
  ['CT', 2],
  ['PT', 1],
]);
const B = study('B', 'DOE^JANE', '20240320', 'ACC-B2', [['MR', 3]]);
const C = study('C', 'Smith^Anna', '20231231', 'XYZ-9', [['CT', 1]]);
const D = study('D', 'Smithson^Bob', '20250101', 'ACC_D%', [['US', 1]]);
const STUDIES = [A, B, C, D];

function instances(s: Study): Buffer[] {
  return s.series.flatMap((series, i) =>
    Array.from({ length: series.instances }, (_, n) => {
      const attributes: SyntheticAttributes = {
        StudyInstanceUID: s.StudyInstanceUID,
        SeriesInstanceUID: series.SeriesInstanceUID,
        PatientID: s.PatientID,
        PatientName: s.PatientName,
        StudyDate: s.StudyDate,
        AccessionNumber: s.AccessionNumber,
        StudyDescription: s.StudyDescription,
        Modality: series.Modality,
        SeriesNumber: i + 1,
        InstanceNumber: series.instances - n, // sent in reverse: the answer must sort them
        Rows: 8,
        Columns: 8,
      };
      return encodeInstance(attributes);
    }),
  );
}

const uidOf = (m: Json, tag = '0020000D') => String(m[tag]?.Value?.[0]);
const studies = (matches: Json[]) => matches.map((m) => uidOf(m)).sort();
const expect = (...list: Study[]) => list.map((s) => s.StudyInstanceUID).sort();

/** The same tests on each index adapter: the same SQL must answer alike on PGlite and PostgreSQL. */
function qidoTests(backend: string, index: () => Promise<Record<string, unknown>>): void {
  let lightbox: TestLightbox;
  let client: DICOMwebClient;
  const test = (title: string, fn: (t: ExecutionContext) => Promise<void>) =>
    ava(`${backend}: ${title}`, fn);

  ava.before(async () => {
    lightbox = await startTestLightbox({
      viewerApi: { apiToken: TEST_API_TOKEN },
      index: await index(),
    });
    client = dicomwebClient(lightbox.viewerApi.url);
    await client.storeInstances({ datasets: STUDIES.flatMap(instances).map(arrayBufferOf) });
    await lightbox.settled();
  });
  ava.after.always(() => lightbox?.stop());

  const search = (queryParams: Record<string, string | number | boolean>) =>
    client.searchForStudies({ queryParams });

  test('PatientName matches case-insensitively, exactly or with * and ? wildcards', async (t) => {
    t.deepEqual(studies(await search({ PatientName: 'doe^john' })), expect(A));
    t.deepEqual(studies(await search({ PatientName: 'DOE*' })), expect(A, B));
    t.deepEqual(studies(await search({ PatientName: 'smith*' })), expect(C, D));
    t.deepEqual(studies(await search({ PatientName: 'Smith?on*' })), expect(D));
    t.deepEqual(studies(await search({ PatientName: '*an*' })), expect(B, C));
    t.deepEqual(studies(await search({ PatientName: 'doe' })), []);
  });

  test('fuzzymatching=true matches the start of any name component; false does not', async (t) => {
    t.deepEqual(studies(await search({ PatientName: 'anna', fuzzymatching: true })), expect(C));
    t.deepEqual(studies(await search({ PatientName: 'JO', fuzzymatching: true })), expect(A));
    t.deepEqual(studies(await search({ PatientName: 'doe', fuzzymatching: true })), expect(A, B));
    t.deepEqual(studies(await search({ PatientName: 'anna', fuzzymatching: false })), []);
  });

  test('other text matches exactly and case-sensitively; LIKE metacharacters are literal', async (t) => {
    t.deepEqual(studies(await search({ AccessionNumber: 'ACC-A1' })), expect(A));
    t.deepEqual(studies(await search({ AccessionNumber: 'acc-a1' })), []);
    t.deepEqual(studies(await search({ AccessionNumber: 'ACC_*' })), expect(D));
    t.deepEqual(studies(await search({ AccessionNumber: 'ACC?D%' })), expect(D));
    t.deepEqual(studies(await search({ AccessionNumber: 'ACC%' })), []);
    t.deepEqual(studies(await search({ PatientID: 'P-B' })), expect(B));
    t.deepEqual(studies(await search({ StudyDescription: 'Study ?' })), expect(A, B, C, D));
  });

  test('StudyDate: single value and ranges, open on either side', async (t) => {
    t.deepEqual(studies(await search({ StudyDate: '20240320' })), expect(B));
    t.deepEqual(studies(await search({ StudyDate: '20240101-20241231' })), expect(A, B));
    t.deepEqual(studies(await search({ StudyDate: '-20231231' })), expect(C));
    t.deepEqual(studies(await search({ StudyDate: '20250101-' })), expect(D));
    t.deepEqual(studies(await search({ StudyDate: '20240106-20240319' })), []);
  });

  test('StudyTime ranges cover the whole unit they name', async (t) => {
    // The synthetic instances are all at 10:15:00.
    t.is((await search({ StudyTime: '0900-1100' })).length, 4);
    t.is((await search({ StudyTime: '-1015' })).length, 4);
    t.is((await search({ StudyTime: '-1014' })).length, 0);
    t.is((await search({ StudyTime: '1016-' })).length, 0);
    t.is((await search({ StudyTime: '101500' })).length, 4);
  });

  test('StudyInstanceUID: UID list matching, comma or backslash separated', async (t) => {
    const list = `${A.StudyInstanceUID},${C.StudyInstanceUID}`;
    t.deepEqual(studies(await search({ StudyInstanceUID: list })), expect(A, C));
    const backslash = `${B.StudyInstanceUID}\\${D.StudyInstanceUID}`;
    t.deepEqual(studies(await search({ StudyInstanceUID: backslash })), expect(B, D));
    t.deepEqual(studies(await search({ StudyInstanceUID: makeUID() })), []);
  });

  test('ModalitiesInStudy matches any series of the study and is returned computed', async (t) => {
    t.deepEqual(studies(await search({ ModalitiesInStudy: 'PT' })), expect(A));
    t.deepEqual(studies(await search({ ModalitiesInStudy: 'CT' })), expect(A, C));
    t.deepEqual(studies(await search({ ModalitiesInStudy: 'CT\\MR' })), expect(A, B, C));
    t.deepEqual(studies(await search({ ModalitiesInStudy: 'CT,US' })), expect(A, C, D));
    const [a] = await search({ StudyInstanceUID: A.StudyInstanceUID });
    t.deepEqual(a['00080061'], { vr: 'CS', Value: ['CT', 'PT'] });
  });

  test('computed counts, RetrieveURL and the default study attributes', async (t) => {
    const [a] = await search({ PatientID: 'P-A' });
    t.deepEqual(a['00201206'], { vr: 'IS', Value: [2] }); // NumberOfStudyRelatedSeries
    t.deepEqual(a['00201208'], { vr: 'IS', Value: [3] }); // NumberOfStudyRelatedInstances
    t.deepEqual(a['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] });
    t.deepEqual(a['00080020'], { vr: 'DA', Value: ['20240105'] });
    t.deepEqual(a['00080050'], { vr: 'SH', Value: ['ACC-A1'] });
    t.deepEqual(a['00080056'], { vr: 'CS', Value: ['ONLINE'] });
    t.deepEqual(a['00081190'], {
      vr: 'UR',
      Value: [`${lightbox.viewerApi.url}/dicom-web/studies/${A.StudyInstanceUID}`],
    });
    const [b] = await search({ PatientID: 'P-B' });
    t.deepEqual(b['00201206'].Value, [1]);
    t.deepEqual(b['00201208'].Value, [3]);
  });

  test('limit and offset page through the matches, newest study first, with a Warning', async (t) => {
    t.deepEqual(
      (await search({})).map((m) => uidOf(m)),
      [D, B, A, C].map((s) => s.StudyInstanceUID),
    );
    const first = await authorizedFetch(`${lightbox.viewerApi.url}/dicom-web/studies?limit=2`);
    t.deepEqual(
      ((await first.json()) as Json[]).map((m) => uidOf(m)),
      [D, B].map((s) => s.StudyInstanceUID),
    );
    t.regex(first.headers.get('warning') ?? '', /^299 lightbox "There are additional results/);
    const rest = await search({ limit: 2, offset: 2 });
    t.deepEqual(
      rest.map((m) => uidOf(m)),
      [A, C].map((s) => s.StudyInstanceUID),
    );
    const last = await authorizedFetch(
      `${lightbox.viewerApi.url}/dicom-web/studies?limit=2&offset=2`,
    );
    t.is(last.headers.get('warning'), null);
    t.deepEqual(await search({ offset: 10 }), []);
  });

  test('includefield adds attributes from the index or from instance metadata; all', async (t) => {
    const [plain] = await client.searchForSeries({ studyInstanceUID: A.StudyInstanceUID });
    t.false('00280004' in plain);
    const [withField] = await client.searchForSeries({
      studyInstanceUID: A.StudyInstanceUID,
      queryParams: { includefield: 'PhotometricInterpretation,00280101' },
    });
    t.deepEqual(withField['00280004'], { vr: 'CS', Value: ['MONOCHROME2'] });
    t.deepEqual(withField['00280101'], { vr: 'US', Value: [12] });
    const [all] = await client.searchForInstances({
      studyInstanceUID: B.StudyInstanceUID,
      queryParams: { includefield: 'all' },
    });
    t.deepEqual(all['00280103'], { vr: 'US', Value: [0] }); // PixelRepresentation, from metadata
    t.deepEqual(all['00100020'], { vr: 'LO', Value: ['P-B'] });
    t.false(Object.values(all).some((v) => 'BulkDataURI' in v));
  });

  test('series: in a study, across studies, matched on series and study attributes', async (t) => {
    const inA = await client.searchForSeries({ studyInstanceUID: A.StudyInstanceUID });
    t.deepEqual(
      inA.map((s) => [
        s['00080060'].Value?.[0],
        s['00201209'].Value?.[0],
        s['00200011'].Value?.[0],
      ]),
      [
        ['CT', 2, 1],
        ['PT', 1, 2],
      ],
    );
    t.is(
      inA[0]['00081190'].Value?.[0],
      `${lightbox.viewerApi.url}/dicom-web/studies/${A.StudyInstanceUID}/series/${A.series[0].SeriesInstanceUID}`,
    );
    const ct = await client.searchForSeries({ queryParams: { Modality: 'CT' } });
    t.deepEqual(
      ct.map((s) => uidOf(s, '0020000E')).sort(),
      [A.series[0], C.series[0]].map((s) => s.SeriesInstanceUID).sort(),
    );
    t.true(
      ct.every((s) => '00100010' in s),
      'study attributes returned across studies',
    );
    const smiths = await client.searchForSeries({
      queryParams: { PatientName: 'smith*', Modality: 'US' },
    });
    t.deepEqual(
      smiths.map((s) => uidOf(s, '0020000E')),
      [D.series[0].SeriesInstanceUID],
    );
    t.deepEqual(
      (
        await client.searchForSeries({
          queryParams: { SeriesInstanceUID: B.series[0].SeriesInstanceUID },
        })
      ).length,
      1,
    );
  });

  test('instances: in a series (by InstanceNumber), in a study, across studies', async (t) => {
    const series = {
      studyInstanceUID: B.StudyInstanceUID,
      seriesInstanceUID: B.series[0].SeriesInstanceUID,
    };
    const inSeries = await client.searchForInstances(series);
    t.deepEqual(
      inSeries.map((i) => i['00200013'].Value?.[0]),
      [1, 2, 3],
    );
    t.true(
      inSeries.every((i) => i['00280010'].Value?.[0] === 8 && i['00280100'].Value?.[0] === 16),
    );
    // BitsAllocated is an index column (0009): it can be matched too.
    const by = (BitsAllocated: number) =>
      client.searchForInstances({ ...series, queryParams: { BitsAllocated } });
    t.is((await by(16)).length, 3);
    t.is((await by(8)).length, 0);
    const second = await client.searchForInstances({
      ...series,
      queryParams: { InstanceNumber: 2 },
    });
    t.is(second.length, 1);
    const sop = uidOf(second[0], '00080018');
    t.is(
      second[0]['00081190'].Value?.[0],
      `${lightbox.viewerApi.url}/dicom-web/studies/${B.StudyInstanceUID}/series/${B.series[0].SeriesInstanceUID}/instances/${sop}`,
    );
    t.is((await client.searchForInstances({ studyInstanceUID: A.StudyInstanceUID })).length, 3);
    const byPatient = await client.searchForInstances({ queryParams: { PatientID: 'P-B' } });
    t.is(byPatient.length, 3);
    t.true(
      byPatient.every((i) => i['00080060'].Value?.[0] === 'MR'),
      'series attributes returned',
    );
    const bySop = await client.searchForInstances({ queryParams: { SOPInstanceUID: sop } });
    t.deepEqual(
      bySop.map((i) => uidOf(i, '00080018')),
      [sop],
    );
    const byClass = await client.searchForInstances({
      queryParams: { SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', Modality: 'PT' },
    });
    t.is(byClass.length, 1);
  });

  test('malformed parameters are 400 problems; unsupported keys are ignored with a Warning', async (t) => {
    const get = (query: string) =>
      authorizedFetch(`${lightbox.viewerApi.url}/dicom-web/studies?${query}`);
    for (const query of [
      'StudyDate=2024',
      'StudyDate=20240101-2024',
      'limit=-1',
      'offset=x',
      'fuzzymatching=maybe',
      'StudyInstanceUID=1.02.3',
      'StudyTime=25h',
    ]) {
      const res = await get(query);
      t.is(res.status, 400, query);
      t.is(res.headers.get('content-type'), 'application/problem+json', query);
    }
    const ignored = await get('Foo=bar&OperatorsName=x');
    t.is(ignored.status, 200);
    t.regex(ignored.headers.get('warning') ?? '', /Foo is not supported/);
    t.regex(ignored.headers.get('warning') ?? '', /OperatorsName is not supported for matching/);
    t.is(((await ignored.json()) as Json[]).length, 4);
    const xml = await authorizedFetch(`${lightbox.viewerApi.url}/dicom-web/studies`, {
      headers: { Accept: 'multipart/related; type="application/dicom+xml"' },
    });
    t.is(xml.status, 406);
  });

  test('searches are answered from the index alone: no object is read', async (t) => {
    const objects = (lightbox.config.objects as { directory: string }).directory;
    for (const entry of await readdir(objects))
      await rm(path.join(objects, entry), { recursive: true });
    t.deepEqual(studies(await search({ PatientName: 'doe*' })), expect(A, B));
    t.is((await client.searchForInstances({ studyInstanceUID: A.StudyInstanceUID })).length, 3);
    const metadata = await client.retrieveStudyMetadata({ studyInstanceUID: A.StudyInstanceUID });
    t.is(metadata.length, 3, 'metadata too comes from the index');
  });
}

const withPostgres = await requirePostgres(ava); // awaited before any test is declared (ava's rule)
qidoTests('pglite', async () => ({ kind: 'pglite' }));
if (withPostgres) {
  let database: TestDatabase | undefined;
  ava.after.always(() => database?.drop());
  qidoTests('postgres', async () => {
    database = await createTestDatabase();
    return { kind: 'postgres', databaseUrl: database.url };
  });
}
