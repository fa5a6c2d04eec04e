/**
 * Deflated Explicit VR Little Endian (PS3.5 §A.5): after the File Meta Information the rest of the
 * file is one raw deflate stream (RFC 1951). It is inflated as a stream, pulled only as far as the
 * parser asks, so a 2 GB deflated instance costs the header, not the file.
 */
import { Readable, pipeline } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { LightboxError } from '../../errors.js';
import { headerTooLarge, type ByteSource } from './byte-source.js';

const MIN_FILL = 32 * 1024;

export class InflateSource implements ByteSource {
  buf: Buffer = Buffer.alloc(0);
  start: number;
  eof = false;
  private inflated = 0;
  private readonly chunks: AsyncIterator<Buffer>;

  /**
   * @param file - the file (or stored object), past the meta group; compressed bytes come from it
   * @param datasetOffset - where the deflate stream starts; also the logical start of the inflated data
   * @param maxBytes - inflated bytes allowed before giving up (a deflate bomb stays bounded)
   */
  constructor(
    file: ByteSource,
    datasetOffset: number,
    private readonly maxBytes: number,
  ) {
    this.start = datasetOffset;
    const inflater = createInflateRaw({ chunkSize: MIN_FILL });
    const compressed = Readable.from(compressedChunks(file, datasetOffset), {
      objectMode: false,
      highWaterMark: 1,
    });
    pipeline(compressed, inflater, () => undefined); // errors surface through the iterator
    this.chunks = inflater[Symbol.asyncIterator]();
  }

  async fill(position: number, length: number): Promise<void> {
    const end = this.start + this.buf.length;
    const parts: Buffer[] = [];
    let have = 0;
    if (position < end) {
      parts.push(this.buf.subarray(position - this.start));
      have = parts[0].length;
    }
    let skip = Math.max(0, position - end);
    const target = Math.max(length, MIN_FILL);
    while (have < target && !this.eof) {
      const next = await this.next();
      if (next === undefined) {
        this.eof = true;
        break;
      }
      let chunk = next;
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(skip);
      skip = 0;
      parts.push(chunk);
      have += chunk.length;
    }
    this.buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
    this.start = position - skip;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }

  private async next(): Promise<Buffer | undefined> {
    let result: IteratorResult<Buffer>;
    try {
      result = await this.chunks.next();
    } catch (error) {
      if (error instanceof LightboxError) throw error;
      throw new LightboxError('InvalidDataset', 'deflated data set cannot be inflated', {
        cause: error,
      });
    }
    if (result.done) return undefined;
    this.inflated += result.value.length;
    if (this.inflated > this.maxBytes) throw headerTooLarge(this.maxBytes);
    return result.value;
  }
}

/** The compressed bytes from `from` on: what the first read already holds, then further reads. */
async function* compressedChunks(file: ByteSource, from: number): AsyncGenerator<Buffer> {
  let position = from;
  for (;;) {
    const end = file.start + file.buf.length;
    if (position >= end) {
      if (file.eof) return;
      await file.fill(position, 1);
      if (file.start + file.buf.length <= position) return;
    }
    const chunk = file.buf.subarray(position - file.start);
    position += chunk.length;
    yield chunk;
  }
}
