import test from 'ava';
import type { DicomJson } from '../../../core/archive/index-store.js';
import { isLightboxError } from '../../../core/errors.js';
import { extractIndexedAttributes } from '../../../core/dicom/attributes.js';
import { readPart10Header, type Part10Header } from '../../../core/dicom/part10-header.js';
import { pydicomFiles, sample } from '../../helpers/samples.js';
import { requireService } from '../../helpers/tools.js';

// ava wants every test declared in one go: the awaits come before the first declaration. The first
// extraction (scripts/extract-test-data.sh, a few seconds) runs outside requireService's probe timeout.
await pydicomFiles().catch(() => undefined);
const haveData = await requireService(
  test,
  'pydicom test data (scripts/extract-test-data.sh)',
  pydicomFiles,
);

const SOPClassUID = '1.2.840.10008.5.1.4.1.1.2';
const SOPInstanceUID = '1.2.826.0.1.3680043.8.498.10';

function header(dataset: DicomJson, meta: Partial<Part10Header['meta']> = {}): Part10Header {
  return {
    meta: {
      TransferSyntaxUID: '1.2.840.10008.1.2.1',
      MediaStorageSOPClassUID: SOPClassUID,
      MediaStorageSOPInstanceUID: SOPInstanceUID,
      ...meta,
    },
    datasetOffset: 0,
    dataset,
  };
}

const ui = (value: string) => ({ vr: 'UI', Value: [value] });
const identity: DicomJson = {
  '00080016': ui(SOPClassUID),
  '00080018': ui(SOPInstanceUID),
  '0020000D': ui('1.2.826.0.1.3680043.8.498.11'),
  '0020000E': ui('1.2.826.0.1.3680043.8.498.12'),
};

test('missing text is empty, missing numbers null', (t) => {
  const attributes = extractIndexedAttributes(header(identity));
  t.is(attributes.PatientName, '');
  t.is(attributes.PatientID, '');
  t.is(attributes.StudyDate, '');
  t.is(attributes.SeriesNumber, null);
  t.is(attributes.NumberOfFrames, null);
  t.is(attributes.StudyInstanceUID, '1.2.826.0.1.3680043.8.498.11');
});

test('names are the Alphabetic group in DICOM form; numbers only integers', (t) => {
  const attributes = extractIndexedAttributes(
    header({
      ...identity,
      '00080090': { vr: 'PN', Value: [{ Ideographic: '山田^太郎' }] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00200011': { vr: 'IS', Value: [1.5] },
      '00200013': { vr: 'IS', Value: [2 ** 31] },
      '00280008': { vr: 'IS', Value: [null] },
      '00280010': { vr: 'US', Value: [0] },
      '00280011': { vr: 'US', Value: [512] },
    }),
  );
  t.is(attributes.PatientName, 'Yamada^Tarou');
  t.is(attributes.ReferringPhysicianName, '');
  t.is(attributes.SeriesNumber, null);
  t.is(attributes.InstanceNumber, null);
  t.is(attributes.NumberOfFrames, null);
  t.is(attributes.Rows, 0);
  t.is(attributes.Columns, 512);
});

test('strings are clamped to their VR maximum length in characters (PS3.5 Table 6.2-1)', (t) => {
  const attributes = extractIndexedAttributes(
    header({
      ...identity,
      '00081030': { vr: 'LO', Value: ['x'.repeat(1000)] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: '王'.repeat(70) }] },
      '00100020': { vr: 'LO', Value: ['😀'.repeat(70)] },
      '00080050': { vr: 'SH', Value: ['A'.repeat(17)] },
      '00080060': { vr: 'CS', Value: ['M'.repeat(40)] },
    }),
  );
  t.is(attributes.StudyDescription, 'x'.repeat(64));
  t.is(attributes.PatientName, '王'.repeat(64));
  t.is(attributes.PatientID, '😀'.repeat(64)); // characters, not UTF-16 units
  t.is(attributes.AccessionNumber, 'A'.repeat(16));
  t.is(attributes.Modality, 'M'.repeat(16));
});

test('a missing required UID is InvalidDataset naming the attribute', (t) => {
  for (const [keyword, tag] of [
    ['StudyInstanceUID', '0020000D'],
    ['SeriesInstanceUID', '0020000E'],
    ['SOPInstanceUID', '00080018'],
    ['SOPClassUID', '00080016'],
  ]) {
    const dataset = { ...identity };
    delete dataset[tag];
    const error = t.throws(() => extractIndexedAttributes(header(dataset)));
    t.true(isLightboxError(error, 'InvalidDataset'), keyword);
    t.regex(error!.message, new RegExp(keyword));
    const empty = { ...identity, [tag]: { vr: 'UI' } };
    t.true(
      isLightboxError(
        t.throws(() => extractIndexedAttributes(header(empty))),
        'InvalidDataset',
      ),
    );
  }
});

test('an invalid UID is InvalidUID, without the value in the message', (t) => {
  const error = t.throws(() =>
    extractIndexedAttributes(header({ ...identity, '0020000E': ui('1.2.03.4') })),
  );
  t.true(isLightboxError(error, 'InvalidUID'));
  t.regex(error!.message, /SeriesInstanceUID/);
  t.notRegex(error!.message, /1\.2\.03/);
});

test('SOP Instance or Class different from the meta is DatasetDoesNotMatchSOPClass', (t) => {
  const otherInstance = header(identity, { MediaStorageSOPInstanceUID: '1.2.3.4' });
  const otherClass = header(identity, { MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.4' });
  for (const [h, keyword] of [
    [otherInstance, 'SOPInstanceUID'],
    [otherClass, 'SOPClassUID'],
  ] as const) {
    const error = t.throws(() => extractIndexedAttributes(h));
    t.true(isLightboxError(error, 'DatasetDoesNotMatchSOPClass'), keyword);
    t.regex(error!.message, new RegExp(`^${keyword}`));
  }
  // UI padding on either side does not count as a difference.
  const padded = header(identity, { MediaStorageSOPInstanceUID: `${SOPInstanceUID}\0` });
  t.is(extractIndexedAttributes(padded).SOPInstanceUID, SOPInstanceUID);
});

if (haveData) {
  const files = pydicomFiles();
  const read = async (name: string) => readPart10Header(sample(await files, name).path);

  test('CT_small.dcm', async (t) => {
    t.deepEqual(extractIndexedAttributes(await read('CT_small.dcm')), {
      PatientID: '1CT1',
      IssuerOfPatientID: '',
      PatientName: 'CompressedSamples^CT1',
      PatientBirthDate: '',
      PatientSex: 'O',
      StudyDate: '20040119',
      StudyTime: '072730',
      AccessionNumber: '',
      StudyID: '1CT1',
      StudyDescription: 'e+1',
      ReferringPhysicianName: '',
      Modality: 'CT',
      SeriesDescription: '',
      SeriesNumber: 1,
      InstanceNumber: 1,
      Rows: 128,
      Columns: 128,
      NumberOfFrames: null,
      StudyInstanceUID: '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322',
      SeriesInstanceUID: '1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322',
      SOPInstanceUID: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322',
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    });
  });

  test('attributes a converter sent as UN are read with their dictionary VR', async (t) => {
    const attributes = extractIndexedAttributes(await read('rtdose_rle.dcm')); // gdcmconv output
    t.is(attributes.StudyInstanceUID, '1.2.999.999.99.9.9999.8888');
    t.is(attributes.PatientName, 'Lastname^Firstname');
    t.is(attributes.SeriesNumber, 1);
    t.is(attributes.Modality, 'RTDOSE');
  });

  test('character sets reach the index decoded', async (t) => {
    t.is(extractIndexedAttributes(await read('chrFren.dcm')).PatientName, 'Buc^Jérôme');
    t.is(extractIndexedAttributes(await read('chrX1.dcm')).PatientName, 'Wang^XiaoDong');
    t.is(extractIndexedAttributes(await read('chrH32.dcm')).PatientName, 'ﾔﾏﾀﾞ^ﾀﾛｳ');
  });

  test('real files whose meta contradicts the data set are refused', async (t) => {
    for (const name of ['badVR.dcm', 'rtplan.dcm', 'rtdose.dcm', 'chrJapMulti.dcm']) {
      const h = await read(name);
      t.not(h.dataset['00080018'].Value?.[0], h.meta.MediaStorageSOPInstanceUID, name);
      const error = t.throws(() => extractIndexedAttributes(h));
      t.true(isLightboxError(error, 'DatasetDoesNotMatchSOPClass'), name);
    }
  });

  test('real files without a StudyInstanceUID are refused', async (t) => {
    for (const name of [
      'priv_SQ.dcm',
      'UN_sequence.dcm',
      'no_meta_group_length.dcm',
      'chrSQEncoding.dcm',
    ]) {
      const error = t.throws(extractIndexedAttributes.bind(null, await read(name)));
      t.true(isLightboxError(error, 'InvalidDataset'), name);
      t.regex(error!.message, /StudyInstanceUID is missing/);
    }
  });
}
