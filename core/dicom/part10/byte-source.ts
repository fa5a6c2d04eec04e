/**
 * Where the header reader gets its bytes: a window onto a file that only ever moves forward, read in
 * growing chunks (64 KiB, then ×4) and never further than the caller needs. Values the parser skips
 * (large binary attributes) are never read at all.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { LightboxError } from '../../errors.js';

/** A forward-only window of bytes: `buf` holds the data from logical position `start` on. */
export interface ByteSource {
  readonly buf: Buffer;
  readonly start: number;
  /** True when `buf` ends where the data ends. */
  readonly eof: boolean;
  /**
   * Makes [position, position + length) available when the data has it, dropping what lies before
   * `position`. At the end of the data, sets `eof`; when `position` is past the end, `start + buf.length`
   * stays below `position`, which callers read as truncation.
   */
  fill(position: number, length: number): Promise<void>;
  close(): Promise<void>;
}

export const FIRST_READ = 64 * 1024;

export interface FileSourceOptions {
  /** Bytes this source may read in total before giving up with InvalidDataset. */
  maxBytes: number;
  onRead?: (position: number, bytes: number) => void;
}

/**
 * The first bytes of the file and its size, when the caller already holds them (the gateway has just
 * written them): the file is then opened only if the header runs past `bytes`.
 */
export interface KnownHead {
  bytes: Buffer;
  size: number;
}

export class FileSource implements ByteSource {
  buf: Buffer = Buffer.alloc(0);
  start = 0;
  eof = false;
  bytesRead = 0;
  private size: number | undefined;
  private chunk = FIRST_READ;

  private handle: FileHandle | undefined;

  private constructor(
    private readonly path: string,
    private readonly options: FileSourceOptions,
  ) {}

  /** Starts from bytes the caller already has; the file is opened on the first read past them. */
  static fromHead(path: string, head: KnownHead, options: FileSourceOptions): FileSource {
    const source = new FileSource(path, options);
    source.buf = head.bytes.subarray(0, Math.min(head.bytes.length, head.size));
    source.size = head.size;
    source.eof = source.buf.length >= head.size;
    return source;
  }

  /** Opens the file and reads its first 64 KiB (all of it, for a typical instance header). */
  static async open(path: string, options: FileSourceOptions): Promise<FileSource> {
    const source = new FileSource(path, options);
    source.handle = await open(path, 'r');
    try {
      const want = Math.min(FIRST_READ, options.maxBytes);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await source.handle!.read(buf, 0, want, 0);
      source.account(0, bytesRead);
      source.buf = buf.subarray(0, bytesRead);
      // A short read of a regular file from position 0 tells its size without an fstat.
      if (bytesRead < want) source.size = bytesRead;
      source.eof = source.size !== undefined;
      return source;
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  async fileSize(): Promise<number> {
    this.size ??= (await (await this.file()).stat()).size;
    return this.size;
  }

  private async file(): Promise<FileHandle> {
    this.handle ??= await open(this.path, 'r');
    return this.handle;
  }

  async fill(position: number, length: number): Promise<void> {
    const end = this.start + this.buf.length;
    const keep = position < end ? this.buf.subarray(position - this.start) : Buffer.alloc(0);
    const missing = length - keep.length;
    if (missing <= 0) return;
    const readFrom = Math.max(position, end);
    const size = await this.fileSize();
    const available = Math.max(0, size - readFrom);
    const budget = this.options.maxBytes - this.bytesRead;
    if (available >= missing && missing > budget) throw headerTooLarge(this.options.maxBytes);
    // Contiguous reads grow ×4 (a long header); after a skipped value, start small again.
    this.chunk = readFrom > end ? FIRST_READ : this.chunk * 4;
    const want = Math.min(available, Math.max(missing, this.chunk), budget);
    const next = Buffer.allocUnsafe(keep.length + want);
    keep.copy(next);
    const { bytesRead } =
      want > 0
        ? await (await this.file()).read(next, keep.length, want, readFrom)
        : { bytesRead: 0 };
    this.account(readFrom, bytesRead);
    this.buf = next.subarray(0, keep.length + bytesRead);
    this.start = Math.min(position, size);
    this.eof = readFrom + bytesRead >= size;
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }

  private account(position: number, bytes: number): void {
    this.bytesRead += bytes;
    this.options.onRead?.(position, bytes);
  }
}

export function headerTooLarge(maxBytes: number): LightboxError {
  return new LightboxError('InvalidDataset', `DICOM header is larger than ${maxBytes} bytes`);
}
