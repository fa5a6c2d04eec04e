/**
 * Encapsulated pixel data (PS3.5 §A.4): a Basic Offset Table item, then fragment items, then a
 * sequence delimiter. The items of a stored object are found by one streamed pass over the value
 * (item headers read, fragment bytes skipped, never held), and frames are told apart by the Basic or
 * Extended Offset Table when present, else one fragment per frame when the counts agree (always so for
 * RLE, PS3.5 §G.2), else by the codestream start markers at the head of each fragment.
 */
import { LightboxError } from '../errors.js';
import type { ObjectStore } from './object-store.js';

export interface Fragment {
  /** First byte of the fragment's data (after its 8-byte item header). */
  offset: number;
  length: number;
  /** Its first bytes (up to 12), to recognise a codestream start. */
  head: Buffer;
}

export interface EncapsulatedItems {
  /** Byte offsets of the frames (PS3.5 §A.4 Table A.4-1), empty when the table is empty. */
  basicOffsetTable: number[];
  fragments: Fragment[];
}

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const HEAD = 12;

/** Reads the item headers of the pixel data value that starts at `valueOffset` (little endian). */
export async function scanItems(
  objects: ObjectStore,
  key: string,
  valueOffset: number,
  size: number,
): Promise<EncapsulatedItems> {
  const stream = await objects.getObject(key, { start: valueOffset, end: size - 1 });
  const items: Fragment[] = [];
  const table: Buffer[] = [];
  let header = Buffer.alloc(0);
  let remaining = 0;
  let position = valueOffset;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = 0;
      while (i < chunk.length) {
        if (remaining > 0) {
          const take = Math.min(remaining, chunk.length - i);
          const item = items[items.length - 1];
          if (items.length === 1) table.push(chunk.subarray(i, i + take));
          else if (item.head.length < HEAD) {
            const headBytes = Math.min(take, HEAD - item.head.length);
            item.head = Buffer.concat([item.head, chunk.subarray(i, i + headBytes)]);
          }
          i += take;
          remaining -= take;
          continue;
        }
        const take = Math.min(8 - header.length, chunk.length - i);
        header = Buffer.concat([header, chunk.subarray(i, i + take)]);
        i += take;
        if (header.length < 8) continue;
        const tag = header.readUInt16LE(0) * 0x10000 + header.readUInt16LE(2);
        const length = header.readUInt32LE(4);
        const itemStart = position + i - 8;
        header = Buffer.alloc(0);
        if (tag === SEQUENCE_DELIMITATION) return toItems(items, table);
        if (tag !== ITEM || length === 0xffffffff) {
          throw new LightboxError('InvalidDataset', 'malformed encapsulated pixel data');
        }
        items.push({ offset: itemStart + 8, length, head: Buffer.alloc(0) });
        remaining = length;
      }
      position += chunk.length;
    }
  } finally {
    stream.destroy();
  }
  if (remaining > 0 || header.length > 0 || items.length === 0) {
    throw new LightboxError('InvalidDataset', 'encapsulated pixel data is truncated');
  }
  return toItems(items, table); // no sequence delimiter before the end of the object: tolerated
}

function toItems(items: Fragment[], table: Buffer[]): EncapsulatedItems {
  if (items.length === 0) throw new LightboxError('InvalidDataset', 'no Basic Offset Table item');
  const bytes = Buffer.concat(table);
  const basicOffsetTable: number[] = [];
  for (let o = 0; o + 4 <= bytes.length; o += 4) basicOffsetTable.push(bytes.readUInt32LE(o));
  return { basicOffsetTable, fragments: items.slice(1) };
}

/**
 * The fragments of each frame. `frameOffsets` are the Extended Offset Table's (PS3.3 §C.7.6.3.1.8),
 * if the instance has one; both tables count from the first fragment's item header.
 */
export function groupFrames(
  items: EncapsulatedItems,
  numberOfFrames: number,
  frameOffsets?: number[],
): Fragment[][] {
  const { fragments } = items;
  if (fragments.length === 0) return [];
  const starts = frameOffsets ?? items.basicOffsetTable;
  if (starts.length === numberOfFrames && numberOfFrames > 0) {
    const first = fragments[0].offset - 8;
    const bounds = [...starts, Infinity];
    return starts.map((start, k) =>
      fragments.filter(
        (f) => f.offset - 8 - first >= start && f.offset - 8 - first < bounds[k + 1],
      ),
    );
  }
  if (numberOfFrames <= 1) return [fragments];
  if (fragments.length === numberOfFrames) return fragments.map((f) => [f]);
  const frames: Fragment[][] = [];
  for (const fragment of fragments) {
    if (frames.length === 0 || startsCodestream(fragment.head)) frames.push([fragment]);
    else frames[frames.length - 1].push(fragment);
  }
  if (frames.length !== numberOfFrames) {
    throw new LightboxError('InvalidDataset', 'cannot tell the frames of the pixel data apart');
  }
  return frames;
}

/** JPEG / JPEG-LS SOI (FFD8), JPEG 2000 codestream SOC (FF4F) or JP2 signature box. */
function startsCodestream(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0xff && (head[1] === 0xd8 || head[1] === 0x4f)) return true;
  return head.length >= 8 && head.toString('latin1', 4, 8) === 'jP  ';
}
