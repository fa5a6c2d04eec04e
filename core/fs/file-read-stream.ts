/**
 * A Readable over a byte range of an open file that reads in exactly sized chunks: one read (and one
 * buffer) for an object up to `chunkBytes`, then chunks of that size. fs.createReadStream reads
 * `highWaterMark` bytes at a time into a buffer of that size and asks once more to find the end;
 * for thousands of sub-megabyte instances in a WADO-RS retrieve that doubled the server's CPU.
 * The stream owns the descriptor and closes it at the end, on error and on destroy, never while a
 * read of it is in flight (its number could be reused by then). By default closing is synchronous:
 * on a local disk a close of a file open for reading does no I/O, and a hop to the thread pool for it
 * cost more than the call; the owner passes another close for a network file system
 * (file-system-calls.ts).
 */
import { closeSync, read } from 'node:fs';
import { Readable } from 'node:stream';

export const DEFAULT_READ_CHUNK_BYTES = 4 * 1024 * 1024;

export class FileReadStream extends Readable {
  #position: number;
  /** Set while a read is in flight; a destroy meanwhile closes once it is back. */
  #reading = false;
  #closeWhenRead: (() => void) | undefined;

  /** Reads [start, end] (end inclusive) of the file open as `fd`. */
  constructor(
    private readonly fd: number,
    start: number,
    private readonly end: number,
    private readonly chunkBytes = DEFAULT_READ_CHUNK_BYTES,
    private readonly closeFile: (fd: number) => Promise<void> | void = closeSync,
  ) {
    super();
    this.#position = start;
  }

  override _read(): void {
    const length = Math.min(this.chunkBytes, this.end + 1 - this.#position);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    this.#reading = true;
    read(this.fd, buffer, 0, length, this.#position, (error, bytesRead) => {
      this.#reading = false;
      if (this.#closeWhenRead) return this.#closeWhenRead();
      if (error) return this.destroy(error);
      if (this.destroyed) return;
      if (bytesRead === 0) {
        return this.destroy(
          new Error(`file ended at byte ${this.#position}, before ${this.end + 1}`),
        );
      }
      this.#position += bytesRead;
      this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const close = () => {
      let closing: Promise<void> | void;
      try {
        closing = this.closeFile(this.fd);
      } catch (closeError) {
        return callback(error ?? (closeError as Error));
      }
      if (!closing) return callback(error);
      closing.then(
        () => callback(error),
        (closeError: unknown) => callback(error ?? (closeError as Error)),
      );
    };
    if (this.#reading) this.#closeWhenRead = close;
    else close();
  }
}
