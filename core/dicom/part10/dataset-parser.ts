/**
 * A resumable data set parser (PS3.5 §7): `run()` parses as many elements as the source's window holds
 * and returns how many bytes it needs next, so the caller can read more and call again without
 * re-parsing. Nesting is an explicit stack, not recursion: a hostile file cannot blow the call stack,
 * and every step moves forward or closes a sequence, so it always ends.
 */
import type { DicomJson, DicomJsonAttribute } from '../../archive/index-store.js';
import { LightboxError } from '../../errors.js';
import { Tag, tagNumber } from '../keywords.js';
import type { ByteSource } from './byte-source.js';
import { decodeDefault, textDecoderFor, type TextDecode } from './character-sets.js';
import { decodeValue, hex4, INLINE_BINARY_MAX } from './values.js';
import { implicitVR, VRS, VRS_BY_CODE, type VRInfo } from './vr.js';

export interface Syntax {
  explicitVR: boolean;
  littleEndian: boolean;
}

/** Undefined-length sequences of UN are implicit VR little endian inside (PS3.5 §6.2.2, CP-246). */
const IMPLICIT_LITTLE: Syntax = { explicitVR: false, littleEndian: true };

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITATION = 0xfffee00d;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const SPECIFIC_CHARACTER_SET = tagNumber('SpecificCharacterSet');
const PIXEL_REPRESENTATION = Tag.PixelRepresentation;

type Frame =
  | { kind: 'dataset'; dataset: DicomJson; end?: number; syntax: Syntax; text: TextDecode }
  | { kind: 'sequence'; items: DicomJson[]; end?: number; syntax: Syntax; text: TextDecode }
  /** Encapsulated fragments of an OB/OW of undefined length nested in an item: skipped. */
  | { kind: 'fragments'; end?: undefined; syntax: Syntax; text: TextDecode };

export interface DataSetParserOptions {
  /** Logical position of the first element. */
  start: number;
  syntax: Syntax;
  /** Where the data set ends, when known (the meta group's group length). */
  end?: number;
  /** Stops, without consuming it, at the first top-level element for which this is true. */
  stopAt: (tag: number) => boolean;
  /**
   * Called for each value left out as `BulkDataURI: ''`, with the logical position of its first value
   * byte and its length (undefined for encapsulated fragments of undefined length): lets a reader of
   * a stored object find bulk data again without keeping offsets in the index.
   */
  onBulkData?: (attribute: DicomJsonAttribute, valueOffset: number, length?: number) => void;
}

export const DONE = 0;

export class DataSetParser {
  readonly dataset: DicomJson = {};
  pos: number;
  /** The top-level tag that ended the parse (e.g. PixelData), if one did. */
  stoppedAt: number | undefined;
  private readonly stack: Frame[];

  constructor(private readonly options: DataSetParserOptions) {
    this.pos = options.start;
    this.stack = [
      {
        kind: 'dataset',
        dataset: this.dataset,
        end: options.end,
        syntax: options.syntax,
        text: decodeDefault,
      },
    ];
  }

  /** Parses what the window holds: DONE (0) at the end, else the bytes needed at `pos`. */
  run(src: ByteSource): number {
    for (;;) {
      const frame = this.stack[this.stack.length - 1];
      const root = this.stack.length === 1;
      if (frame.end !== undefined && this.pos >= frame.end) {
        if (this.pos > frame.end) throw malformed('an element overruns its item or sequence');
        if (root) return DONE;
        this.stack.pop();
        continue;
      }
      const offset = this.pos - src.start;
      const available = src.buf.length - offset;
      if (available < 8) {
        if (!src.eof) return 8;
        if (root && available === 0 && frame.end === undefined) return DONE;
        throw truncated();
      }
      const b = src.buf;
      const le = frame.syntax.littleEndian;
      const tag = u16(b, offset, le) * 0x10000 + u16(b, offset + 2, le);
      if (frame.kind !== 'dataset') {
        this.inSequence(frame, tag, u32(b, offset + 4, le));
        continue;
      }
      if (tag === ITEM_DELIMITATION || tag === SEQUENCE_DELIMITATION) {
        if (root) throw malformed('a delimitation item outside any sequence');
        this.pos += 8;
        this.stack.pop();
        continue;
      }
      if (root && this.options.stopAt(tag)) {
        this.stoppedAt = tag;
        return DONE;
      }
      const need = this.element(frame, tag, src, offset, available);
      if (need !== DONE) return need;
    }
  }

  private inSequence(frame: Frame, tag: number, length: number): void {
    if (tag === SEQUENCE_DELIMITATION) {
      this.pos += 8;
      this.stack.pop();
    } else if (tag !== ITEM) {
      throw malformed(`(${tagText(tag)}) found where a sequence item was expected`);
    } else if (frame.kind === 'fragments') {
      if (length === UNDEFINED_LENGTH) throw malformed('an encapsulated fragment has no length');
      this.pos += 8 + length;
    } else if (frame.kind === 'sequence') {
      this.pos += 8;
      const item: DicomJson = {};
      frame.items.push(item);
      const end = length === UNDEFINED_LENGTH ? undefined : this.checkedEnd(length);
      this.stack.push({
        kind: 'dataset',
        dataset: item,
        end,
        syntax: frame.syntax,
        text: frame.text,
      });
    }
  }

  /** Parses one element of a data set or item; DONE, or the bytes needed to do so. */
  private element(
    frame: Frame & { kind: 'dataset' },
    tag: number,
    src: ByteSource,
    offset: number,
    available: number,
  ): number {
    const b = src.buf;
    const { explicitVR, littleEndian: le } = frame.syntax;
    let info: VRInfo | undefined;
    let length: number;
    let headerLength = 8;
    if (explicitVR) {
      info = VRS_BY_CODE.get((b[offset + 4] << 8) | b[offset + 5]);
      if (!info) throw malformed(`(${tagText(tag)}) has no valid explicit VR`);
      if (info.longLength) {
        if (available < 12) return src.eof ? fail(truncated()) : 12;
        headerLength = 12;
        length = u32(b, offset + 8, le);
      } else {
        length = u16(b, offset + 6, le);
      }
      if (info.vr === 'UN' && le && length !== UNDEFINED_LENGTH)
        info = this.knownVR(frame, tag, info);
    } else {
      info = this.knownVR(frame, tag, VRS.get('UN')!);
      length = u32(b, offset + 4, le);
    }
    if ((tag & 0xffff) === 0 && length !== UNDEFINED_LENGTH) {
      // Group lengths (gggg,0000) are retired (PS3.5 §7.2) and describe only this encoding: dropped.
      this.pos += headerLength + length;
      return DONE;
    }
    const vr = info.vr;
    const key = tagText(tag);
    if (length === UNDEFINED_LENGTH) {
      this.pos += headerLength;
      if (vr === 'SQ' || vr === 'UN') {
        const items: DicomJson[] = [];
        frame.dataset[key] = { vr: 'SQ', Value: items };
        const syntax = vr === 'UN' ? IMPLICIT_LITTLE : frame.syntax;
        this.stack.push({ kind: 'sequence', items, syntax, text: frame.text });
      } else if (vr === 'OB' || vr === 'OW') {
        const attribute = { vr, BulkDataURI: '' };
        frame.dataset[key] = attribute;
        this.options.onBulkData?.(attribute, this.pos);
        this.stack.push({ kind: 'fragments', syntax: frame.syntax, text: frame.text });
      } else {
        throw malformed(`(${key}) ${vr} cannot have an undefined length`);
      }
      return DONE;
    }
    if (vr === 'SQ') {
      this.pos += headerLength;
      const items: DicomJson[] = [];
      frame.dataset[key] = { vr, Value: items };
      const end = this.checkedEnd(length);
      this.stack.push({ kind: 'sequence', items, end, syntax: frame.syntax, text: frame.text });
      return DONE;
    }
    if (info.kind === 'binary' && length > INLINE_BINARY_MAX) {
      // Not read at all: the next fill() starts after it.
      this.pos += headerLength;
      this.checkedEnd(length);
      const attribute = { vr, BulkDataURI: '' };
      frame.dataset[key] = attribute;
      this.options.onBulkData?.(attribute, this.pos, length);
      this.pos += length;
      return DONE;
    }
    if (available < headerLength + length) {
      return src.eof ? fail(truncated()) : headerLength + length;
    }
    const start = offset + headerLength;
    const attribute = decodeValue(info, b, start, start + length, le, frame.text);
    frame.dataset[key] = attribute;
    if (tag === SPECIFIC_CHARACTER_SET) {
      frame.text = textDecoderFor((attribute.Value ?? []) as (string | null)[]);
    }
    this.pos += headerLength + length;
    return DONE;
  }

  /**
   * The dictionary VR of a standard attribute (implicit VR, or explicit VR sent as UN by a converter
   * that did not know it: PS3.5 §6.2.2 lets a reader that does use its own). Sequences stay UN: their
   * defined-length contents are not re-parsed.
   */
  private knownVR(frame: Frame & { kind: 'dataset' }, tag: number, unknown: VRInfo): VRInfo {
    let vr = implicitVR(tag);
    if (vr === 'xs') vr = this.signedPixels(frame) ? 'SS' : 'US';
    return (frame.syntax.explicitVR && vr === 'SQ') || vr === 'UN' ? unknown : VRS.get(vr)!;
  }

  /** PS3.3 §C.7.6.3.1.1: "US or SS" attributes are SS when PixelRepresentation is 1. */
  private signedPixels(frame: Frame & { kind: 'dataset' }): boolean {
    const own = frame.dataset[PIXEL_REPRESENTATION]?.Value?.[0];
    return (own ?? this.dataset[PIXEL_REPRESENTATION]?.Value?.[0]) === 1;
  }

  /** End of a value starting at `pos`, checked against the enclosing item or sequence. */
  private checkedEnd(length: number): number {
    const end = this.pos + length;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const outer = this.stack[i].end;
      if (outer !== undefined) {
        if (end > outer) throw malformed('an element overruns its item or sequence');
        break;
      }
    }
    return end;
  }
}

const tagTexts = new Map<number, string>();

/** "GGGGEEEE", the DICOM JSON key (PS3.18 §F.2.1.1); cached, the same tags recur in every file. */
export function tagText(tag: number): string {
  let text = tagTexts.get(tag);
  if (text === undefined) {
    text = hex4(tag >>> 16) + hex4(tag & 0xffff);
    if (tagTexts.size < 65536) tagTexts.set(tag, text);
  }
  return text;
}

function u16(b: Buffer, o: number, littleEndian: boolean): number {
  return littleEndian ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

function u32(b: Buffer, o: number, littleEndian: boolean): number {
  return littleEndian
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000
    : b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

function malformed(detail: string): LightboxError {
  return new LightboxError('InvalidDataset', `malformed data set: ${detail}`);
}

function truncated(): LightboxError {
  return new LightboxError('InvalidDataset', 'DICOM header is truncated');
}

function fail(error: Error): never {
  throw error;
}
