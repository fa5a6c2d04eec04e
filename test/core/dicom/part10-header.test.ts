/**
 * readPart10Header against real files (Debian python3-pydicom's test set) and a real reference
 * reader (dcmtk's dcmdump and dcm2json): values are compared, not just "it parsed".
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DicomJson } from '../../../core/archive/index-store.js';
import { isLightboxError } from '../../../core/errors.js';
import { readPart10Header, type Part10Header } from '../../../core/dicom/part10-header.js';
import { run } from '../../helpers/dcmtk.js';
import { dcm2json, sameValue, unknownValues } from '../../helpers/dicom-json-compare.js';
import { pydicomManifest, sample, type ManifestEntry } from '../../helpers/samples.js';
import { requireService, requireTool } from '../../helpers/tools.js';

/** Every pydicom file we refuse, and why (decided file by file after reading it with dcmdump). */
const REJECTED: Record<string, RegExp> = {
  'no_meta.dcm': /not a DICOM Part 10 file/, // CT_small without preamble and meta
  'ExplVR_BigEndNoMeta.dcm': /not a DICOM Part 10 file/,
  'ExplVR_LitEndNoMeta.dcm': /not a DICOM Part 10 file/,
  'rtstruct.dcm': /not a DICOM Part 10 file/, // a bare implicit VR data set
  'meta_missing_tsyntax.dcm': /File Meta Information lacks/, // no TransferSyntaxUID, empty UIDs
  'empty_charset_LEI.dcm': /File Meta Information lacks/, // no MediaStorage UIDs (Type 1, PS3.10 §7.1)
  'nested_priv_SQ.dcm': /File Meta Information lacks/, // empty MediaStorage UIDs
  'rtplan_truncated.dcm': /header is truncated/, // cut inside IsocenterPosition
  'MR_truncated.dcm': /truncated within its pixel data/, // header whole, PixelData 8192 bytes short
  'SC_rgb_jpeg.dcm': /no valid explicit VR/, // meta says JPEG Baseline, data set is implicit VR
};

/** Files whose text dcmtk 3.6.7 (iconv) cannot convert: ISO 2022 IR 87 / IR 13, or per-item sets. */
const DCMTK_CANNOT_DECODE = new Set([
  'chrH31.dcm',
  'chrH32.dcm',
  'chrJapMulti.dcm',
  'chrJapMultiExplicitIR6.dcm',
  'chrSQEncoding.dcm', // dcm2json ignores the item's own SpecificCharacterSet and emits garbage
  'chrSQEncoding1.dcm',
  'J2K_pixelrep_mismatch.dcm', // ISO 2022 IR 13\ISO 2022 IR 87, ASCII values
]);

/** What pydicom 2.3.1 decodes for the ISO 2022 files dcmtk cannot (PatientName, DICOM form). */
const PYDICOM_PATIENT_NAMES: Record<string, string> = {
  'chrH31.dcm': 'Yamada^Tarou=山田^太郎=やまだ^たろう',
  'chrH32.dcm': 'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  'chrJapMulti.dcm': 'やまだ^たろう',
  'chrJapMultiExplicitIR6.dcm': 'やまだ^たろう',
  'chrI2.dcm': 'Hong^Gildong=洪^吉洞=홍^길동',
  'chrKoreanMulti.dcm': '김희중',
  'J2K_pixelrep_mismatch.dcm': 'JXD191021006',
};

await pydicomManifest().catch(() => undefined); // the first extraction outlasts the probe timeout
const ready =
  (await requireService(
    test,
    'pydicom test data (scripts/extract-test-data.sh)',
    pydicomManifest,
  )) &&
  (await requireTool(test, 'dcmdump')) &&
  (await requireTool(test, 'dcm2json'));

if (ready) {
  const files = await pydicomManifest();
  const headers = new Map<string, Part10Header>();
  const errors = new Map<string, unknown>();
  for (const file of files) {
    await readPart10Header(file.path).then(
      (header) => headers.set(file.name, header),
      (error: unknown) => errors.set(file.name, error),
    );
  }
  const accepted = files.filter((f) => headers.has(f.name));

  test('accepts exactly the files the manifest marks valid Part 10, and rejects the rest', (t) => {
    t.true(files.length >= 80, `only ${files.length} files extracted`);
    for (const file of files) {
      t.is<boolean | undefined, boolean | undefined>(
        headers.has(file.name),
        file.validPart10,
        `${file.name} accepted ≠ manifest`,
      );
      t.is(headers.has(file.name), !(file.name in REJECTED), `${file.name} accepted ≠ REJECTED`);
    }
  });

  test('rejections are InvalidDataset with the reason decided for each file', (t) => {
    for (const [name, reason] of Object.entries(REJECTED)) {
      const error = errors.get(name);
      t.true(isLightboxError(error, 'InvalidDataset'), `${name}: ${String(error)}`);
      t.regex((error as Error).message, reason, name);
    }
  });

  test('UIDs, TransferSyntaxUID and PatientName equal what dcmdump reads', async (t) => {
    await eachLimited(accepted, 8, async (file) => {
      const { elements, utf8 } = await dcmdump(file.path);
      const { meta, dataset } = headers.get(file.name)!;
      t.is<string | undefined, string | undefined>(
        meta.TransferSyntaxUID,
        elements.get('0002,0010'),
        file.name,
      );
      t.is<string | undefined, string | undefined>(
        meta.TransferSyntaxUID,
        file.TransferSyntaxUID,
        file.name,
      );
      t.is<string | undefined, string | undefined>(
        meta.MediaStorageSOPInstanceUID,
        elements.get('0002,0003'),
        file.name,
      );
      t.is(first(dataset, '00080018'), elements.get('0008,0018'), file.name);
      t.is(first(dataset, '00080016'), elements.get('0008,0016'), file.name);
      t.is(first(dataset, '0020000D'), elements.get('0020,000d'), file.name);
      if (utf8) t.is(personNames(dataset), dicomPN(elements.get('0010,0010')), file.name);
    });
  });

  test('every attribute before the pixel data equals dcm2json, through sequences', async (t) => {
    const scratch = await mkdtemp(join(tmpdir(), 'lightbox-dcm2json-'));
    t.teardown(() => rm(scratch, { recursive: true, force: true }));
    const compared: string[] = [];
    await eachLimited(accepted, 8, async (file) => {
      if (DCMTK_CANNOT_DECODE.has(file.name)) return;
      const reference = await dcm2json(file.path, scratch, file.name);
      const differences: string[] = [];
      compareDatasets(headers.get(file.name)!.dataset, reference, '', differences);
      t.deepEqual(differences, [], file.name);
      compared.push(file.name);
    });
    t.is(compared.length, accepted.length - DCMTK_CANNOT_DECODE.size);
  });

  test('character sets decode like dcm2json, and ISO 2022 like pydicom', async (t) => {
    const named = accepted.filter(
      (f) => f.name.startsWith('chr') || f.name in PYDICOM_PATIENT_NAMES,
    );
    for (const file of named.filter((f) => !f.name.startsWith('chrSQ'))) {
      const dataset = headers.get(file.name)!.dataset;
      if (file.name in PYDICOM_PATIENT_NAMES) {
        t.is(personNames(dataset), PYDICOM_PATIENT_NAMES[file.name], file.name);
      }
      if (DCMTK_CANNOT_DECODE.has(file.name)) continue;
      const reference = JSON.parse((await run('dcm2json', ['-fc', file.path])).stdout) as DicomJson;
      t.deepEqual(dataset['00100010'], reference['00100010'], file.name);
    }
    t.deepEqual(headers.get('chrFren.dcm')!.dataset['00100010'].Value, [
      { Alphabetic: 'Buc^Jérôme' },
    ]);
    t.deepEqual(headers.get('chrRuss.dcm')!.dataset['00100010'].Value, [
      { Alphabetic: 'Люкceмбypг' },
    ]);
    t.deepEqual(headers.get('chrX1.dcm')!.dataset['00100010'].Value, [
      { Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' },
    ]);
    // An item's own SpecificCharacterSet applies inside it (PS3.3 §C.12.1.1.2), else the parent's.
    for (const name of ['chrSQEncoding.dcm', 'chrSQEncoding1.dcm']) {
      const item = (headers.get(name)!.dataset['00321064'].Value as DicomJson[])[0];
      t.is(personNames(item), PYDICOM_PATIENT_NAMES['chrH32.dcm'], name);
    }
  });

  test('deflated, big endian, implicit and encapsulated files give the same header', (t) => {
    const mr = headers.get('MR_small.dcm')!.dataset;
    for (const name of ['MR_small_bigendian.dcm', 'MR_small_implicit.dcm', 'MR_small_RLE.dcm']) {
      const other = headers.get(name)!.dataset;
      for (const tag of ['00080018', '00100010', '0020000D', '00280010', '00280030', '00181310']) {
        t.deepEqual(other[tag], mr[tag], `${name} ${tag}`);
      }
    }
    const deflated = headers.get('image_dfl.dcm')!;
    t.is(deflated.meta.TransferSyntaxUID, '1.2.840.10008.1.2.1.99');
    t.is(first(deflated.dataset, '00280010'), 512);
  });

  test('a file shorter than 64 KiB is read once; a longer one only up to its pixel data', async (t) => {
    const reads: number[][] = [];
    await readPart10Header(sample(files, 'CT_small.dcm').path, {
      onRead: (position, bytes) => reads.push([position, bytes]),
    });
    t.deepEqual(reads, [[0, 39206]]);
    reads.length = 0;
    await readPart10Header(sample(files, 'J2K_pixelrep_mismatch.dcm').path, {
      onRead: (position, bytes) => reads.push([position, bytes]),
    });
    t.deepEqual(reads, [[0, 65536]]); // 138 518 bytes, the header ends in the first read
  });
}

function first(dataset: DicomJson, tag: string): unknown {
  return dataset[tag]?.Value?.[0];
}

/** PN values back in DICOM string form ("A=I=P", values joined by backslash). */
function personNames(dataset: DicomJson): string | undefined {
  const values = dataset['00100010']?.Value as (Record<string, string> | null)[] | undefined;
  if (!values) return undefined;
  return values
    .map((v) => (v ? [v.Alphabetic ?? '', v.Ideographic ?? '', v.Phonetic ?? ''] : ['']))
    .map((groups) => groups.join('=').replace(/=+$/, ''))
    .join('\\');
}

/** A dcmdump PN string normalised as PS3.5 §6.2.1.1 allows: no trailing ^ or =; '' → undefined. */
function dicomPN(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const normal = value
    .split('\\')
    .map((v) =>
      v
        .split('=')
        .map((g) => g.replace(/[\s^]+$/, ''))
        .join('=')
        .replace(/=+$/, ''),
    )
    .join('\\');
  return normal.replace(/\\+$/, '') === '' ? undefined : normal;
}

/** Top-level elements from dcmdump ("gggg,eeee" → value), as UTF-8 when dcmtk can convert. */
async function dcmdump(path: string): Promise<{ elements: Map<string, string>; utf8: boolean }> {
  let result = await run('dcmdump', ['-q', '-Un', '+L', '+U8', path]);
  const utf8 = result.code === 0;
  if (!utf8) result = await run('dcmdump', ['-q', '-Un', '+L', path]);
  const elements = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const text = /^\(([0-9a-f]{4},[0-9a-f]{4})\) \w\w \[(.*)\] *#/.exec(line);
    if (text && !elements.has(text[1])) elements.set(text[1], text[2]);
    const unknown = /^\(([0-9a-f]{4},[0-9a-f]{4})\) UN ([0-9a-f\\]+) *#/.exec(line); // hex bytes
    if (unknown && !elements.has(unknown[1])) {
      const bytes = Buffer.from(unknown[2].replace(/\\/g, ''), 'hex').toString('latin1');
      elements.set(unknown[1], bytes.replace(/[ \0]+$/, ''));
    }
  }
  return { elements, utf8 };
}

/**
 * Deep comparison with dcm2json's output. Known, intended differences: dcm2json rewrites
 * SpecificCharacterSet to ISO_IR 192 (it converted the text), prints FL with 9 digits (we print the
 * shortest decimal of the same float32), keeps invalid IS/DS strings (we drop them: JSON numbers
 * only), inlines binary values we mark as BulkDataURI, and includes the pixel data (we stop before).
 */
function compareDatasets(ours: DicomJson, theirs: DicomJson, path: string, out: string[]): void {
  for (const tag of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (tag === '00080005' || (path === '' && parseInt(tag, 16) >= 0x7fe00008)) continue;
    const a = ours[tag];
    const b = theirs[tag];
    const where = `${path}/${tag}`;
    if (!a || !b) out.push(`${where} only in ${a ? 'ours' : 'dcm2json'}`);
    else if (b.vr === 'UN' && a.vr !== 'UN') {
      // Sent as UN, read with the dictionary VR: same bytes, decoded (PS3.5 §6.2.2).
      if (!sameValue(a.vr, a.Value, unknownValues(a.vr, b.InlineBinary))) out.push(`${where} UN`);
    } else if (a.vr !== b.vr) out.push(`${where} VR ${a.vr} ≠ ${b.vr}`);
    else if (a.vr === 'SQ') {
      const items = [(a.Value ?? []) as DicomJson[], (b.Value ?? []) as DicomJson[]];
      if (items[0].length !== items[1].length) out.push(`${where} item count`);
      items[0].forEach((item, i) =>
        compareDatasets(item, items[1][i] ?? {}, `${where}[${i}]`, out),
      );
    } else if (a.BulkDataURI !== undefined) {
      if (!b.InlineBinary || Buffer.from(b.InlineBinary, 'base64').length <= 1024) out.push(where);
    } else if (!sameValue(a.vr, a.Value, b.Value) || a.InlineBinary !== b.InlineBinary) {
      out.push(`${where} ${JSON.stringify(a).slice(0, 100)} ≠ ${JSON.stringify(b).slice(0, 100)}`);
    }
  }
}

async function eachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}
