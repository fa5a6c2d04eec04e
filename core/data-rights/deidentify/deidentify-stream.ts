/**
 * De-identification of a served copy (PS3.15 Annex E, Basic Application Level Confidentiality
 * Profile): reads a stored Part 10 object as a stream and yields a new Part 10 object in the same
 * transfer syntax, every attribute handled per Table E.1-1 (actions.ts), at every nesting depth.
 * New UIDs are consistent within a share (uid-map.ts). Pixel data and every value the profile keeps
 * pass through chunk by chunk, unchanged; headers are re-encoded and kept sequences and items are
 * written with undefined length, so that values that shrink or grow inside them need no look-ahead.
 * Added at the top level (PS3.15 §E.1.1, PS3.3 §C.12.1): PatientIdentityRemoved YES,
 * DeidentificationMethod, DeidentificationMethodCodeSequence (DCM 113100) and
 * LongitudinalTemporalInformationModified REMOVED. The stored object is never modified.
 */
import { Readable } from 'node:stream';
import { encodeFileMetaInformation } from '../../dicom/part10-meta.js';
import { transferSyntax } from '../../dicom/part10-header.js';
import type { Syntax } from '../../dicom/part10/dataset-parser.js';
import { LightboxError } from '../../errors.js';
import { operationFor } from './actions.js';
import { dummyValue } from './dummy-values.js';
import {
  encodeHeader,
  encodeItemHeader,
  ITEM,
  ITEM_DELIMITATION,
  padded,
  readHeader,
  readLength32,
  readTag,
  SEQUENCE_DELIMITATION,
  UNDEFINED,
  type ElementHeader,
} from './element-codec.js';
import { StreamReader } from './stream-reader.js';
import { uidMap, type UIDMap } from './uid-map.js';

export const DEIDENTIFICATION_METHOD =
  'Lightbox: PS3.15 E.1 Basic Application Confidentiality Profile';
const PIXEL_DATA = 0x7fe00010;
const IMPLICIT_LITTLE: Syntax = { explicitVR: false, littleEndian: true };
/** UID values longer than this are not UIDs (64 per value, PS3.5 §9.1): replaced by a dummy. */
const MAX_UID_VALUE = 64 * 64;

interface Context {
  reader: StreamReader;
  mapUID: UIDMap;
}

/** The de-identified copy of `source` (a Part 10 object), as a byte stream. */
export function deidentify(
  source: AsyncIterable<Buffer | Uint8Array>,
  shareSecret: string,
): Readable {
  return Readable.from(generate(new StreamReader(source), uidMap(shareSecret)), {
    objectMode: false,
  });
}

async function* generate(reader: StreamReader, mapUID: UIDMap): AsyncGenerator<Buffer> {
  const head = await reader.read(132);
  if (head.toString('latin1', 128, 132) !== 'DICM') {
    throw new LightboxError('InvalidDataset', 'not a Part 10 file (no DICM prefix)');
  }
  const meta = await readMeta(reader);
  const ts = meta.get(0x00020010) ?? '';
  const { syntax, deflated } = transferSyntax(ts);
  if (deflated) throw new LightboxError('NotAcceptable', 'deflated objects are not de-identified');
  yield encodeFileMetaInformation({
    MediaStorageSOPClassUID: meta.get(0x00020002) ?? '',
    MediaStorageSOPInstanceUID: mapUID(meta.get(0x00020003) ?? ''),
    TransferSyntaxUID: ts,
  });
  yield* dataset({ reader, mapUID }, syntax, syntax, undefined, true);
}

/** Group 0002 (explicit VR little endian, PS3.10 §7.1): UI values by tag. */
async function readMeta(reader: StreamReader): Promise<Map<number, string>> {
  const le: Syntax = { explicitVR: true, littleEndian: true };
  const first = await readHeader(reader, le, await readTag(reader, le));
  if (first.tag !== 0x00020000) throw new LightboxError('InvalidDataset', 'no meta group length');
  const end = reader.position + (await reader.read(first.length)).readUInt32LE(0);
  const values = new Map<number, string>();
  while (reader.position < end) {
    const h = await readHeader(reader, le, await readTag(reader, le));
    values.set(h.tag, (await reader.read(h.length)).toString('latin1').replace(/[\0 ]+$/, ''));
  }
  return values;
}

/** Top-level additions, in tag order, replacing any of the same tags in the object. */
function additions(syntax: Syntax): Array<{ tag: number; bytes: Buffer }> {
  const text = (tag: number, vr: string, value: string) => {
    const v = padded(Buffer.from(value, 'latin1'), vr);
    return Buffer.concat([encodeHeader(tag, vr, v.length, syntax), v]);
  };
  const item = Buffer.concat([
    text(0x00080100, 'SH', '113100'),
    text(0x00080102, 'SH', 'DCM'),
    text(0x00080104, 'LO', 'Basic Application Confidentiality Profile'),
  ]);
  const sequence = Buffer.concat([
    encodeHeader(0x00120064, 'SQ', UNDEFINED, syntax),
    encodeItemHeader(ITEM, item.length, syntax),
    item,
    encodeItemHeader(SEQUENCE_DELIMITATION, 0, syntax),
  ]);
  return [
    { tag: 0x00120062, bytes: text(0x00120062, 'CS', 'YES') },
    { tag: 0x00120063, bytes: text(0x00120063, 'LO', DEIDENTIFICATION_METHOD) },
    { tag: 0x00120064, bytes: sequence },
    { tag: 0x00280303, bytes: text(0x00280303, 'CS', 'REMOVED') },
  ];
}

/**
 * The elements of a data set or item until `end` (defined length), an item delimitation (undefined
 * length item) or the end of the stream (top level). Read in `rs`, written in `ws` (they differ only
 * inside a UN sequence of undefined length, which is implicit VR little endian, PS3.5 §6.2.2).
 */
async function* dataset(
  ctx: Context,
  rs: Syntax,
  ws: Syntax,
  end: number | undefined,
  top: boolean,
): AsyncGenerator<Buffer> {
  const { reader } = ctx;
  const pending = top ? additions(ws) : [];
  const added = new Set(pending.map((a) => a.tag));
  for (;;) {
    if (end !== undefined ? reader.position >= end : top && (await reader.atEnd())) break;
    const tag = await readTag(reader, rs);
    if (tag === ITEM_DELIMITATION) {
      await reader.read(4);
      break;
    }
    while (pending.length > 0 && pending[0].tag < tag) yield pending.shift()!.bytes;
    const header = await readHeader(reader, rs, tag);
    if (top && added.has(tag)) {
      await skipValue(ctx, header, rs);
      continue;
    }
    yield* element(ctx, header, rs, ws);
  }
  for (const a of pending) yield a.bytes;
}

function isSequence(h: ElementHeader): boolean {
  return h.vr === 'SQ' || (h.vr === 'UN' && h.length === UNDEFINED);
}

/** The syntax inside a sequence: a UN of undefined length is implicit VR little endian. */
function innerSyntax(h: ElementHeader, rs: Syntax): Syntax {
  return h.vr === 'UN' ? IMPLICIT_LITTLE : rs;
}

async function* element(
  ctx: Context,
  h: ElementHeader,
  rs: Syntax,
  ws: Syntax,
): AsyncGenerator<Buffer> {
  const { reader } = ctx;
  const operation = operationFor(h.tag);
  if (h.tag === PIXEL_DATA && h.length === UNDEFINED) {
    // Encapsulated pixel data (PS3.5 §A.4): kept, fragments copied as they are.
    yield encodeHeader(h.tag, h.vr, UNDEFINED, ws);
    yield* fragments(ctx, rs, ws);
    return;
  }
  if (isSequence(h)) {
    const inner = innerSyntax(h, rs);
    if (operation === 'keep' || operation === 'uid') {
      yield encodeHeader(h.tag, 'SQ', UNDEFINED, ws);
      yield* items(ctx, h.length, inner, ws);
      yield encodeItemHeader(SEQUENCE_DELIMITATION, 0, ws);
      return;
    }
    await skipValue(ctx, h, rs);
    if (operation === 'empty') yield encodeHeader(h.tag, 'SQ', 0, ws);
    if (operation === 'dummy') {
      // A non-empty value for a sequence: one empty item.
      yield encodeHeader(h.tag, 'SQ', 8, ws);
      yield encodeItemHeader(ITEM, 0, ws);
    }
    return;
  }
  if (h.length === UNDEFINED) throw new LightboxError('InvalidDataset', 'undefined length value');
  const vr = h.vr === 'xs' ? 'US' : h.vr;
  switch (operation) {
    case 'remove':
      await reader.skip(h.length);
      return;
    case 'keep':
      yield encodeHeader(h.tag, vr, h.length, ws);
      yield* reader.take(h.length);
      return;
    case 'empty':
      await reader.skip(h.length);
      yield encodeHeader(h.tag, vr, 0, ws);
      return;
    case 'dummy':
    case 'uid': {
      const original = h.length <= MAX_UID_VALUE ? await reader.read(h.length) : undefined;
      if (!original) await reader.skip(h.length);
      const value =
        (operation === 'uid' || vr === 'UI') && original
          ? mapUIDs(ctx.mapUID, original)
          : padded(dummyValue(vr), vr);
      yield encodeHeader(h.tag, operation === 'uid' && vr !== 'UN' ? vr : vr, value.length, ws);
      yield value;
    }
  }
}

/** Every UID of a (multi-valued) UI value mapped; an empty value gets a new UID too (U is non-zero). */
function mapUIDs(mapUID: UIDMap, original: Buffer): Buffer {
  const values = original
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .split('\\');
  return padded(Buffer.from(values.map((v) => mapUID(v.trim())).join('\\'), 'latin1'), 'UI');
}

async function* items(
  ctx: Context,
  length: number,
  rs: Syntax,
  ws: Syntax,
): AsyncGenerator<Buffer> {
  const { reader } = ctx;
  const end = length === UNDEFINED ? undefined : reader.position + length;
  for (;;) {
    if (end !== undefined && reader.position >= end) return;
    const tag = await readTag(reader, rs);
    const itemLength = await readLength32(reader, rs);
    if (tag === SEQUENCE_DELIMITATION) return;
    if (tag !== ITEM) throw new LightboxError('InvalidDataset', 'expected an item in a sequence');
    yield encodeItemHeader(ITEM, UNDEFINED, ws);
    const itemEnd = itemLength === UNDEFINED ? undefined : reader.position + itemLength;
    yield* dataset(ctx, rs, ws, itemEnd, false);
    yield encodeItemHeader(ITEM_DELIMITATION, 0, ws);
  }
}

async function* fragments(ctx: Context, rs: Syntax, ws: Syntax): AsyncGenerator<Buffer> {
  const { reader } = ctx;
  for (;;) {
    const tag = await readTag(reader, rs);
    const length = await readLength32(reader, rs);
    yield encodeItemHeader(tag, length, ws);
    if (tag === SEQUENCE_DELIMITATION) return;
    if (tag !== ITEM) throw new LightboxError('InvalidDataset', 'expected a pixel data fragment');
    yield* reader.take(length);
  }
}

/** Consumes a value without writing it (sequences are walked: their length may be undefined). */
async function skipValue(ctx: Context, h: ElementHeader, rs: Syntax): Promise<void> {
  if (h.tag === PIXEL_DATA && h.length === UNDEFINED) {
    for await (const chunk of fragments(ctx, rs, rs)) void chunk;
  } else if (isSequence(h) && h.length === UNDEFINED) {
    for await (const chunk of items(ctx, h.length, innerSyntax(h, rs), rs)) void chunk;
  } else {
    await ctx.reader.skip(h.length);
  }
}
