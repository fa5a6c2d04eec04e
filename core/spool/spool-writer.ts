/**
 * SpoolWriter: a Writable that puts one incoming instance on disk as it arrives, hashing it on the way.
 * It never fails the stream that feeds it: a disk or size error is remembered, the rest of the bytes are
 * drained and dropped, and commit() reports the error. This is what lets the gateway answer a proper
 * DIMSE status after the last fragment instead of tearing the association down mid-PDU.
 *
 * Its file-system calls go through FileSystemCalls (core/fs/file-system-calls.ts): on a local disk
 * directly, without a thread-pool round trip, except the fdatasync; on a network file system all on
 * the pool.
 */
import { createHash, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { LightboxError } from '../errors.js';
import type { FileSystemCalls } from '../fs/file-system-calls.js';

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
  calls: FileSystemCalls;
}

export class SpoolWriter extends Writable {
  /** The tmp file's descriptor; undefined once closed, or when it could not be created. */
  private fd: number | undefined;
  /** The tmp file's creation, started at once: _construct and abort() both wait for it. */
  private readonly opening: Promise<number>;
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  private received = 0;
  private failure: LightboxError | undefined;
  private settled = false;
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly options: SpoolWriterOptions) {
    super({ highWaterMark: 1024 * 1024 });
    this.opening = options.calls.open(options.tmpPath, 'wx', 0o640);
    this.opening.catch(() => undefined); // observed in _construct
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

  override _construct(callback: (error?: Error | null) => void): void {
    this.opening.then(
      (fd) => {
        this.fd = fd;
        callback();
      },
      (error: unknown) => {
        this.fail(
          new LightboxError('StorageUnavailable', 'cannot create spool file', { cause: error }),
        );
        callback();
      },
    );
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
    this.options.calls.writev(this.fd, buffers).then(
      (bytesWritten) => {
        this.written += bytesWritten;
        const expected = buffers.reduce((n, b) => n + b.length, 0);
        if (bytesWritten !== expected) {
          this.fail(new LightboxError('StorageUnavailable', 'short write to spool'));
        }
        callback();
      },
      (error: unknown) => {
        this.fail(new LightboxError('StorageUnavailable', 'spool write failed', { cause: error }));
        callback();
      },
    );
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
      await this.options.calls.rename(this.options.tmpPath, this.options.readyPath(spoolName));
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
        await Promise.all([
          this.options.calls.fdatasync(this.fd),
          this.options.syncReadyDirectory(),
        ]);
      }
    } catch (error) {
      throw new LightboxError('StorageUnavailable', 'spool fsync failed', { cause: error });
    } finally {
      // Closed in the background: the data are on disk (or the error is thrown); on the pool a close
      // would otherwise hold the sender's answer for a round trip.
      void this.closeFile();
    }
    return { spoolName, sha256, size: this.written };
  }

  /** Drops the reception: closes and removes the tmp file. Idempotent. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (!this.writableFinished && !this.destroyed) this.destroy();
    // An abort right after open() must not race the file's creation: it would leak file and fd.
    this.fd ??= await this.opening.catch(() => undefined);
    await this.closeFile();
    await this.options.calls.unlink(this.options.tmpPath).catch(() => undefined);
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    // A failed close loses nothing: the data are synced, or the reception failed.
    if (fd !== undefined) await this.options.calls.close(fd).catch(() => undefined);
  }
}
