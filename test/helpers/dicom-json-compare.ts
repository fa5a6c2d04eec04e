/**
 * Lightbox's DICOM JSON against dcmtk's dcm2json, attribute by attribute through sequences, with the
 * known, intended differences normalised (each one listed in KNOWN_DIFFERENCES and applied below).
 * Bulk values are not skipped: the caller fetches each BulkDataURI and the bytes must equal
 * dcm2json's InlineBinary.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DicomJson } from '../../core/archive/index-store.js';
import { run } from './dcmtk.js';

export const KNOWN_DIFFERENCES = [
  'SpecificCharacterSet (0008,0005): dcm2json rewrites it to ISO_IR 192, having converted the text to UTF-8',
  'FL: dcm2json prints 9 significant digits; Lightbox the shortest decimal of the same float32 (compared as float32)',
  'IS/DS: an invalid number string is kept by dcm2json, dropped by Lightbox (JSON numbers only)',
  'binary values over 1 KiB and pixel data: dcm2json inlines them, Lightbox gives a BulkDataURI (its bytes are compared)',
  'encapsulated pixel data: dcm2json refuses it, so the reference is a copy without it (dcmodify -ea)',
  'a standard attribute sent as UN: Lightbox decodes it with its dictionary VR (PS3.5 §6.2.2), dcm2json keeps UN',
  'PixelData VR: metadata infers it from the index (OB when encapsulated or BitsAllocated ≤ 8, else OW); a file may use OW for 8-bit pixels (PS3.5 §8.2): OB and OW are not told apart',
  'attributes after the pixel data (Data Set Trailing Padding, FFFC,FFFC) are not in the stored header',
];

/** dcm2json of a file; for encapsulated pixel data (which it refuses) of a copy without it. */
export async function dcm2json(file: string, scratch: string, name: string): Promise<DicomJson> {
  let result = await run('dcm2json', ['-fc', file]);
  if (result.code !== 0 && /compressed pixel data/.test(result.stderr)) {
    const copy = join(scratch, name);
    await copyFile(file, copy);
    await run('dcmodify', ['-q', '-nb', '-ea', '(7fe0,0010)', copy]);
    result = await run('dcm2json', ['-fc', copy]);
  }
  if (result.code !== 0) throw new Error(`dcm2json ${name}: ${result.stderr}`);
  return JSON.parse(result.stdout) as DicomJson;
}

export interface BulkComparison {
  path: string;
  uri: string;
  /** dcm2json's bytes, or undefined when it has none (encapsulated pixel data). */
  expected: Buffer | undefined;
}

/**
 * Differences between ours and dcm2json's; every BulkDataURI of ours is pushed to `bulk` with the
 * bytes dcm2json inlined, for the caller to fetch and compare.
 */
export function compareDicomJson(
  ours: DicomJson,
  theirs: DicomJson,
  path: string,
  out: string[],
  bulk: BulkComparison[],
  encapsulated = false,
): void {
  for (const tag of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (tag === '00080005' || (path === '' && tag > '7FE00010')) continue;
    const a = ours[tag];
    const b = theirs[tag];
    const where = `${path}/${tag}`;
    if (a?.BulkDataURI !== undefined) {
      const expected =
        b?.InlineBinary === undefined ? undefined : Buffer.from(b.InlineBinary, 'base64');
      // dcm2json's copy of an encapsulated file has no pixel data (see dcm2json above).
      if (!b && !(where === '/7FE00010' && encapsulated)) out.push(`${where} only in ours`);
      else bulk.push({ path: where, uri: a.BulkDataURI, expected });
      const pixelVR = where === '/7FE00010' && /^O[BW]$/.test(a.vr) && /^O[BW]$/.test(b?.vr ?? '');
      if (b && a.vr !== b.vr && b.vr !== 'UN' && !pixelVR)
        out.push(`${where} VR ${a.vr} ≠ ${b.vr}`);
    } else if (!a || !b) out.push(`${where} only in ${a ? 'ours' : 'dcm2json'}`);
    else if (b.vr === 'UN' && a.vr !== 'UN') {
      if (!sameValue(a.vr, a.Value, unknownValues(a.vr, b.InlineBinary))) out.push(`${where} UN`);
    } else if (a.vr !== b.vr) out.push(`${where} VR ${a.vr} ≠ ${b.vr}`);
    else if (a.vr === 'SQ') {
      const items = [(a.Value ?? []) as DicomJson[], (b.Value ?? []) as DicomJson[]];
      if (items[0].length !== items[1].length) out.push(`${where} item count`);
      items[0].forEach((item, i) =>
        compareDicomJson(item, items[1][i] ?? {}, `${where}[${i}]`, out, bulk, encapsulated),
      );
    } else if (!sameValue(a.vr, a.Value, b.Value) || a.InlineBinary !== b.InlineBinary) {
      out.push(`${where} ${JSON.stringify(a).slice(0, 100)} ≠ ${JSON.stringify(b).slice(0, 100)}`);
    }
  }
}

/** What a little endian UN value holds when read as `vr` (text VRs and AT; enough for these files). */
export function unknownValues(vr: string, base64: string | undefined): unknown[] | undefined {
  const bytes = Buffer.from(base64 ?? '', 'base64');
  if (bytes.length === 0) return undefined;
  if (vr === 'AT') {
    const hex = (n: number) => n.toString(16).padStart(4, '0').toUpperCase();
    return [hex(bytes.readUInt16LE(0)) + hex(bytes.readUInt16LE(2))];
  }
  const values = bytes
    .toString('latin1')
    .split('\\')
    .map((v) => v.replace(/^[ \0]+|[ \0]+$/g, ''));
  if (vr === 'IS' || vr === 'DS') return values.map(Number);
  if (vr === 'PN') return values.map((v) => ({ Alphabetic: v }));
  return values;
}

export function sameValue(
  vr: string,
  ours: unknown[] | undefined,
  theirs: unknown[] | undefined,
): boolean {
  if ((vr === 'IS' || vr === 'DS') && theirs) {
    const numbers = theirs.map((v) => (typeof v === 'number' ? v : null));
    theirs = numbers.every((v) => v === null) ? undefined : numbers;
  }
  if (vr === 'FL' && ours && theirs) {
    return (
      ours.length === theirs.length &&
      ours.every((v, i) => Math.fround(v as number) === Math.fround(theirs![i] as number))
    );
  }
  return canonical(ours) === canonical(theirs);
}

/** JSON with object keys sorted: jsonb stores PN objects as {Phonetic, Alphabetic, …}. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
