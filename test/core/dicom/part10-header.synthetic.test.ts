/**
 * readPart10Header on files built here: multi-hundred-MB instances (sparse, so nothing fills memory or
 * disk), deflated data, nested undefined lengths, size limits, truncation and corruption. Asserts what
 * is read from disk through the `onRead` hook.
 */
import test from 'ava';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { isLightboxError } from '../../../core/errors.js';
import { encodeFileMetaInformation } from '../../../core/dicom/part10-meta.js';
import {
  readPart10Header,
  type ReadPart10HeaderOptions,
} from '../../../core/dicom/part10-header.js';
import { pydicomFiles, sample } from '../../helpers/samples.js';
import { writeInstanceFile } from '../../helpers/synthetic.js';
import { requireService } from '../../helpers/tools.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CT = '1.2.840.10008.5.1.4.1.1.2';
const UID = '1.2.826.0.1.3680043.8.498.1';

// ava wants every test declared in one go: all awaiting happens here, before the first declaration.
const scratch = await mkdtemp(join(tmpdir(), 'lightbox-part10-'));
await pydicomFiles().catch(() => undefined); // the first extraction outlasts the probe timeout
const haveData = await requireService(
  test,
  'pydicom test data (scripts/extract-test-data.sh)',
  pydicomFiles,
);
const files = haveData ? await pydicomFiles() : [];
test.after.always(() => rm(scratch, { recursive: true, force: true }));
let counter = 0;
const scratchPath = () => join(scratch, `${++counter}.dcm`);

/** Reads the header, counting the bytes taken from the file. */
async function readCounting(path: string, options: ReadPart10HeaderOptions = {}) {
  const reads: Array<[position: number, bytes: number]> = [];
  const header = await readPart10Header(path, { ...options, onRead: (p, n) => reads.push([p, n]) });
  return { header, reads, bytesRead: reads.reduce((sum, [, n]) => sum + n, 0) };
}

/** One explicit VR little endian element; `length` overrides the value's (0xFFFFFFFF: undefined). */
function el(tag: number, vr: string, value: Buffer | string = '', length?: number): Buffer {
  let bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length % 2) bytes = Buffer.concat([bytes, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(length ?? bytes.length, 8);
  else header.writeUInt16LE(length ?? bytes.length, 6);
  return Buffer.concat([header, bytes]);
}

/** Item / delimitation tags (PS3.5 §7.5): FFFE,E000 with a length, E00D and E0DD with 0. */
function delimiter(element: number, length = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(0xfffe, 0);
  b.writeUInt16LE(element, 2);
  b.writeUInt32LE(length, 4);
  return b;
}
const UNDEFINED = 0xffffffff;

function meta(TransferSyntaxUID = '1.2.840.10008.1.2.1'): Buffer {
  return encodeFileMetaInformation({
    MediaStorageSOPClassUID: CT,
    MediaStorageSOPInstanceUID: UID,
    TransferSyntaxUID,
  });
}

const identity = [el(0x00080016, 'UI', CT), el(0x00080018, 'UI', UID)];

test('a 200 MB instance is parsed from its first read only', async (t) => {
  const path = scratchPath();
  const { size } = await writeInstanceFile(
    path,
    {
      StudyInstanceUID: '1.2.3',
      SeriesInstanceUID: '1.2.3.4',
      Rows: 512,
      Columns: 512,
      NumberOfFrames: 400,
    },
    { sparse: true },
  );
  t.true(size > 200 * MiB);
  const { header, reads, bytesRead } = await readCounting(path);
  t.deepEqual(reads, [[0, 64 * KiB]]);
  t.true(bytesRead <= 64 * KiB);
  t.is(header.dataset['00280008'].Value?.[0], 400);
  t.is(header.dataset['0020000D'].Value?.[0], '1.2.3');
  t.false('7FE00010' in header.dataset);
});

test('a large binary value before the pixel data is skipped, not read', async (t) => {
  const path = scratchPath();
  const hole = 100 * MiB;
  const head = Buffer.concat([
    meta(),
    ...identity,
    el(0x00090010, 'LO', 'LIGHTBOX'),
    el(0x00091001, 'OB', '', hole),
  ]);
  const tail = Buffer.concat([
    el(0x00100010, 'PN', 'After^Hole'),
    el(0x7fe00010, 'OW', '', 8 * MiB),
  ]);
  const file = await open(path, 'w');
  await file.write(head, 0, head.length, 0);
  await file.write(tail, 0, tail.length, head.length + hole);
  await file.truncate(head.length + hole + tail.length + 8 * MiB);
  await file.close();

  const { header, reads, bytesRead } = await readCounting(path);
  t.deepEqual(header.dataset['00091001'], { vr: 'OB', BulkDataURI: '' });
  t.deepEqual(header.dataset['00100010'].Value, [{ Alphabetic: 'After^Hole' }]);
  t.true(bytesRead <= 128 * KiB, `${bytesRead} bytes read`);
  for (const [position] of reads.slice(1)) t.is(position, head.length + hole); // resumes after it
});

test('deflated data sets are inflated only up to the pixel data', async (t) => {
  const path = scratchPath();
  const pixels = randomBytes(4 * MiB); // incompressible: the compressed file is > 4 MiB too
  const dataset = Buffer.concat([
    ...identity,
    el(0x00100010, 'PN', 'Deflated^Data'),
    el(0x7fe00010, 'OW', pixels),
  ]);
  await writeFile(path, Buffer.concat([meta('1.2.840.10008.1.2.1.99'), deflateRawSync(dataset)]));
  const { header, bytesRead } = await readCounting(path);
  t.deepEqual(header.dataset['00100010'].Value, [{ Alphabetic: 'Deflated^Data' }]);
  t.is(header.meta.TransferSyntaxUID, '1.2.840.10008.1.2.1.99');
  t.true(bytesRead <= 512 * KiB, `${bytesRead} bytes read of ${4 * MiB}`);
});

test('undefined-length sequences, items, UN sequences and nested fragments', async (t) => {
  const path = scratchPath();
  const implicitItem = Buffer.alloc(8 + 4); // implicit VR: (0008,0100) CodeValue, u32 length, "CODE"
  implicitItem.writeUInt16LE(0x0008, 0);
  implicitItem.writeUInt16LE(0x0100, 2);
  implicitItem.writeUInt32LE(4, 4);
  implicitItem.write('CODE', 8, 'latin1');
  const body = Buffer.concat([
    ...identity,
    el(0x00081140, 'SQ', '', UNDEFINED), // ReferencedImageSequence, undefined length
    delimiter(0xe000, UNDEFINED),
    el(0x00081150, 'UI', CT),
    delimiter(0xe00d),
    delimiter(0xe000, 26 + 8), // defined-length item
    el(0x00081155, 'UI', '1.2.3.4.5.6.7.8.9.10.11.1'),
    delimiter(0xe0dd),
    el(0x00091010, 'UN', '', UNDEFINED), // CP-246: implicit VR little endian inside
    delimiter(0xe000, UNDEFINED),
    implicitItem,
    delimiter(0xe00d),
    delimiter(0xe0dd),
    el(0x00880200, 'SQ', '', UNDEFINED), // IconImageSequence with encapsulated pixel data
    delimiter(0xe000, UNDEFINED),
    el(0x00280010, 'US', Buffer.from([8, 0])),
    el(0x7fe00010, 'OB', '', UNDEFINED),
    delimiter(0xe000, 0),
    delimiter(0xe000, 4),
    Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
    delimiter(0xe0dd),
    delimiter(0xe00d),
    delimiter(0xe0dd),
    el(0x00100010, 'PN', 'After^Sequences'),
  ]);
  await writeFile(path, Buffer.concat([meta('1.2.840.10008.1.2.4.50'), body]));
  const { dataset } = (await readCounting(path)).header;
  t.deepEqual(dataset['00081140'].Value, [
    { '00081150': { vr: 'UI', Value: [CT] } },
    { '00081155': { vr: 'UI', Value: ['1.2.3.4.5.6.7.8.9.10.11.1'] } },
  ]);
  t.deepEqual(dataset['00091010'].Value, [{ '00080100': { vr: 'SH', Value: ['CODE'] } }]);
  t.deepEqual(dataset['00880200'].Value, [
    { '00280010': { vr: 'US', Value: [8] }, '7FE00010': { vr: 'OB', BulkDataURI: '' } },
  ]);
  t.deepEqual(dataset['00100010'].Value, [{ Alphabetic: 'After^Sequences' }]);
});

test('a header larger than maxHeaderBytes is InvalidDataset', async (t) => {
  const path = scratchPath();
  const report = 'x'.repeat(300 * KiB);
  await writeFile(path, Buffer.concat([meta(), ...identity, el(0x40b00010, 'UT', report)]));
  t.is((await readCounting(path)).header.dataset['40B00010'].Value?.[0], report);
  const error = await t.throwsAsync(readPart10Header(path, { maxHeaderBytes: 128 * KiB }));
  t.true(isLightboxError(error, 'InvalidDataset'));
  t.regex(error!.message, /larger than 131072 bytes/);
});

test('a missing file is the file system error, not InvalidDataset', async (t) => {
  const error = await t.throwsAsync(readPart10Header(join(scratch, 'absent.dcm')));
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT');
});

if (haveData) {
  test('CT_small.dcm cut anywhere is parsed or refused as InvalidDataset, never crashes', async (t) => {
    const bytes = await readFile(sample(files, 'CT_small.dcm').path);
    // (7FE0,0010) OW, little endian
    const pixelDataAt = bytes.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57]));
    for (let cut = 0; cut < bytes.length; cut += cut < pixelDataAt + 64 ? 7 : 997) {
      const path = scratchPath();
      await writeFile(path, bytes.subarray(0, cut));
      const error = await readPart10Header(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (cut < 132 + 8 || cut > pixelDataAt + 12) {
        t.true(isLightboxError(error, 'InvalidDataset'), `cut at ${cut}: ${String(error)}`);
      } else {
        t.true(
          error === undefined || isLightboxError(error, 'InvalidDataset'),
          `cut at ${cut}: ${String(error)}`,
        );
      }
      await rm(path);
    }
  });

  test('corrupted headers are refused as LightboxError, never crash or hang', async (t) => {
    const random = mulberry32(0x11b0);
    for (const name of [
      'CT_small.dcm',
      'MR_small_implicit.dcm',
      'test-SR.dcm',
      'image_dfl.dcm',
      'ExplVR_BigEnd.dcm',
    ]) {
      const original = await readFile(sample(files, name).path);
      for (let i = 0; i < 150; i++) {
        const bytes = Buffer.from(original);
        for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
          bytes[132 + Math.floor(random() * Math.min(bytes.length - 132, 2048))] = Math.floor(
            random() * 256,
          );
        }
        const path = scratchPath();
        await writeFile(path, bytes);
        const error = await readPart10Header(path).then(
          () => undefined,
          (e: unknown) => e,
        );
        t.true(error === undefined || isLightboxError(error), `${name} #${i}: ${String(error)}`);
        await rm(path);
      }
    }
  });
}

/** A small seeded PRNG, so a failing corruption case can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
