/**
 * SpoolWriter: a Writable that puts one incoming instance on disk as it arrives, hashing it on the way.
 * It never fails the stream that feeds it: a disk or size error is remembered, the rest of the bytes are
 * drained and dropped, and commit() reports the error. This is what lets the gateway answer a proper
 * DIMSE status after the last fragment instead of tearing the association down mid-PDU.
 *
 * File operations that do not wait for the device (create, write into the page cache, rename, close,
 * unlink) are made synchronously on the calling thread: each is a system call of a few microseconds,
 * while going through libuv's thread pool costs a hand-off to a pool thread and back per call (on
 * two cores, a context switch that pre-empts the event loop: 0.1–0.25 ms of the main thread's time
 * per call in CPU profiles with four associations). Only fdatasync, which waits for the disk, runs on
 * the pool. docs/benchmarks.md has the measurement.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fdatasync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { LightboxError } from '../errors.js';

const fdatasyncOnPool = promisify(fdatasync);

/** Bytes of each reception kept in memory: a typical header, parsed without reading the file back. */
export const HEAD_BYTES = 64 * 1024;

export interface SpooledFile {
  /** `<sha256>.dcm`, the name in ready/. */
  spoolName: string;
  sha256: string;
  size: number;
}

export interface SpoolWriterOptions {
  tmpPath: string;
  /** Directory and naming of the committed file. */
  readyPath: (spoolName: string) => string;
  fsync: boolean;
  maxBytes: number;
  /** fsyncs ready/ after the rename (the rename itself must survive a crash). */
  syncReadyDirectory: () => Promise<void>;
}

export class SpoolWriter extends Writable {
  /** The tmp file's descriptor; undefined once closed, or when it could not be created. */
  private fd: number | undefined;
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  private received = 0;
  private failure: LightboxError | undefined;
  private settled = false;
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly options: SpoolWriterOptions) {
    super({ highWaterMark: 1024 * 1024 });
    try {
      this.fd = openSync(options.tmpPath, 'wx', 0o640);
    } catch (error) {
      this.fail(
        new LightboxError('StorageUnavailable', 'cannot create spool file', { cause: error }),
      );
    }
  }

  /** Bytes received so far (including any dropped after a failure). */
  get bytesReceived(): number {
    return this.received;
  }

  get tmpPath(): string {
    return this.options.tmpPath;
  }

  /** The first HEAD_BYTES bytes written (fewer for a smaller file). */
  get head(): Buffer {
    if (this.headChunks.length > 1)
      this.headChunks.splice(0, Infinity, Buffer.concat(this.headChunks));
    return this.headChunks[0] ?? Buffer.alloc(0);
  }

  /** The first error that hit this reception, if any. */
  get error(): LightboxError | undefined {
    return this.failure;
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    const buffers = chunks.map((c) => c.chunk);
    for (const b of buffers) this.received += b.length;
    if (this.failure || this.fd === undefined) return callback();
    if (this.received > this.options.maxBytes) {
      this.fail(
        new LightboxError('PayloadTooLarge', 'instance exceeds the configured maximum size'),
      );
      return callback();
    }
    for (const b of buffers) {
      this.hash.update(b);
      if (this.headLength < HEAD_BYTES) {
        const part = Buffer.from(b.subarray(0, HEAD_BYTES - this.headLength));
        this.headChunks.push(part);
        this.headLength += part.length;
      }
    }
    try {
      const bytesWritten = writevSync(this.fd, buffers);
      this.written += bytesWritten;
      const expected = buffers.reduce((n, b) => n + b.length, 0);
      if (bytesWritten !== expected) {
        this.fail(new LightboxError('StorageUnavailable', 'short write to spool'));
      }
    } catch (error) {
      this.fail(new LightboxError('StorageUnavailable', 'spool write failed', { cause: error }));
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Durability is commit()'s job: it fsyncs the file and ready/ together after the rename.
    callback();
  }

  private fail(error: LightboxError): void {
    this.failure ??= error;
  }

  /** Resolves once every byte written so far has reached the file (or been dropped after a failure). */
  finished(): Promise<void> {
    if (this.writableFinished) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.once('finish', resolve);
      this.once('error', reject);
    });
  }

  /**
   * Makes the spooled file durable under ready/<sha256>.dcm. Call after end() and after validating the
   * header. Throws the reception's error, if any, after removing the tmp file.
   */
  async commit(): Promise<SpooledFile> {
    await this.finished();
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    const sha256 = this.hash.digest('hex');
    const spoolName = `${sha256}.dcm`;
    try {
      renameSync(this.options.tmpPath, this.options.readyPath(spoolName));
    } catch (error) {
      await this.abort();
      throw new LightboxError('StorageUnavailable', 'spool rename failed', { cause: error });
    }
    this.settled = true;
    try {
      // The data and the directory entry are synced together (on ext4 one journal commit serves
      // both). A crash before this completes can leave a partial file under its final name; it was
      // never acknowledged, and recovery finds it out: the name is the SHA-256 of the content.
      if (this.options.fsync && this.fd !== undefined) {
        // fdatasync: the data and the file size, not the timestamps; ready/ by group commit.
        await Promise.all([fdatasyncOnPool(this.fd), this.options.syncReadyDirectory()]);
      }
    } catch (error) {
      throw new LightboxError('StorageUnavailable', 'spool fsync failed', { cause: error });
    } finally {
      this.closeFile();
    }
    return { spoolName, sha256, size: this.written };
  }

  /** Drops the reception: closes and removes the tmp file. Idempotent. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (!this.writableFinished && !this.destroyed) this.destroy();
    this.closeFile();
    try {
      unlinkSync(this.options.tmpPath);
    } catch {
      // Never created, or already gone.
    }
  }

  private closeFile(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // The data are synced (or the reception failed): a failed close loses nothing.
    }
  }
}
