/**
 * A ByteSource (the header parser's forward-only window) over a stored object, read with ranged
 * getObject calls: 64 KiB first (a typical header in one request), then growing ×4, never further than
 * the parser asks. What FileSource is to a spool file, this is to an object in any ObjectStore.
 */
import { LightboxError } from '../errors.js';
import type { ByteSource } from '../dicom/part10/byte-source.js';
import type { ObjectStore } from './object-store.js';

const FIRST_READ = 64 * 1024;

/** Reads [start, end] (inclusive) of an object into memory: for headers and small values only. */
export async function readObjectRange(
  objects: ObjectStore,
  key: string,
  start: number,
  end: number,
): Promise<Buffer> {
  if (end < start) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of await objects.getObject(key, { start, end }))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class ObjectSource implements ByteSource {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  eof = false;
  private chunk = FIRST_READ;
  private bytesRead = 0;

  /**
   * @param size - the object's size, from the index
   * @param maxBytes - bytes this source may read before giving up (a header is never that long)
   */
  constructor(
    private readonly objects: ObjectStore,
    private readonly key: string,
    private readonly size: number,
    private readonly maxBytes: number,
  ) {}

  async fill(position: number, length: number): Promise<void> {
    const end = this.start + this.buf.length;
    const keep = position < end ? this.buf.subarray(position - this.start) : Buffer.alloc(0);
    const missing = length - keep.length;
    if (missing <= 0) return;
    const readFrom = Math.max(position, end);
    const available = Math.max(0, this.size - readFrom);
    this.chunk = readFrom > end ? FIRST_READ : this.chunk * 4;
    const want = Math.min(available, Math.max(missing, this.chunk));
    if (this.bytesRead + want > this.maxBytes) {
      throw new LightboxError(
        'InvalidDataset',
        `DICOM header is larger than ${this.maxBytes} bytes`,
      );
    }
    const read =
      want > 0
        ? await readObjectRange(this.objects, this.key, readFrom, readFrom + want - 1)
        : Buffer.alloc(0);
    this.bytesRead += read.length;
    this.buf = keep.length > 0 ? Buffer.concat([keep, read]) : read;
    this.start = Math.min(position, this.size);
    this.eof = readFrom + read.length >= this.size;
  }

  async close(): Promise<void> {}
}
