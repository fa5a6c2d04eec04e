/**
 * The spool: where an instance lives between "received" and "archived".
 *
 *   incoming/<receiver>/<random>.part
 *                            being received by one receiving process (a gateway, a STOW-RS server, or
 *                            the embedded process); never acknowledged. A receiver clears its own
 *                            folder when it starts (what a previous run of it left), and removes
 *                            other receivers' files only once stale: no live reception goes untouched
 *                            for longer than the association/PDU timeouts allow
 *   ready/<sha256>.dcm       complete, fsynced, renamed: acknowledged once its job is queued
 *   failed/<sha256>.dcm      + .json: the worker could not archive it (kept for an operator, never lost)
 *
 * Each ready file is a self-describing Part 10 file: its meta group carries SOP Class/Instance UIDs,
 * transfer syntax and the calling AE (SourceApplicationEntityTitle), so the in-process queue can be
 * rebuilt from ready/ after a restart. Gateway and worker share this directory (a volume in split mode).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SpoolConfig } from '../../config/schema.js';
import { decodeFileMetaInformation } from '../dicom/part10-meta.js';
import { LightboxError } from '../errors.js';
import type { IngestJob } from '../queue/ingest-queue.js';
import { DirectorySync } from '../fs/directory-sync.js';
import { fileSystemCallsFor, pooledCalls, type FileSystemCalls } from '../fs/file-system-calls.js';
import { SpoolWriter } from './spool-writer.js';

const SPOOL_NAME = /^[0-9a-f]{64}\.dcm$/;

/** A receiver's files untouched for this long belong to a dead process (timeouts are ≤ 60 s). */
export const STALE_RECEPTION_MS = 10 * 60 * 1000;

export class Spool {
  readonly incomingRoot: string;
  /** This process's own receptions. */
  readonly incomingDirectory: string;
  readonly readyDirectory: string;
  readonly failedDirectory: string;
  /** One fsync of ready/ serves every rename done before it started (group commit). */
  private readonly readySync: DirectorySync;
  /** Direct on a local disk, the thread pool until init() has looked (file-system-calls.ts). */
  private calls: FileSystemCalls = pooledCalls;

  /**
   * @param receiverId names this process's incoming/ folder; stable across restarts of the same
   * receiver (e.g. host name and port), so a restart finds and clears what it left behind.
   */
  constructor(
    private readonly config: SpoolConfig & { fileSystemCalls?: FileSystemCalls },
    receiverId = 'local',
  ) {
    this.incomingRoot = path.join(config.directory, 'incoming');
    this.incomingDirectory = path.join(
      this.incomingRoot,
      receiverId.replace(/[^A-Za-z0-9._-]/g, '_'),
    );
    this.readyDirectory = path.join(config.directory, 'ready');
    this.failedDirectory = path.join(config.directory, 'failed');
    this.readySync = new DirectorySync(this.readyDirectory, {
      keepOpen: true,
      calls: () => this.calls,
    });
  }

  /** Creates the directories. Sweeping is the receivers' business (sweepIncoming). */
  async init(): Promise<void> {
    for (const dir of [this.incomingDirectory, this.readyDirectory, this.failedDirectory]) {
      await mkdir(dir, { recursive: true });
    }
    this.calls = this.config.fileSystemCalls ?? (await fileSystemCallsFor(this.readyDirectory));
  }

  /** How this spool makes its file-system calls: 'local' (direct) or 'pooled'. */
  get fileSystemCalls(): FileSystemCalls['kind'] {
    return this.calls.kind;
  }

  /**
   * Removes receptions that were interrupted (never acknowledged): all of this receiver's own (call
   * before it accepts connections), and other receivers' files untouched for `staleAfterMs`.
   */
  async sweepIncoming(staleAfterMs = STALE_RECEPTION_MS): Promise<number> {
    let swept = 0;
    const cutoff = Date.now() - staleAfterMs;
    for (const receiver of await readdir(this.incomingRoot)) {
      const folder = path.join(this.incomingRoot, receiver);
      const own = folder === this.incomingDirectory;
      for (const name of await readdir(folder).catch(() => [])) {
        const file = path.join(folder, name);
        const info = await stat(file).catch(() => undefined);
        if (!info || (!own && info.mtimeMs >= cutoff)) continue;
        await rm(file, { force: true });
        swept++;
      }
    }
    return swept;
  }

  /** Opens a reception. Feed it bytes, end() it, validate, then commit() or abort(). */
  open(maxBytes: number): SpoolWriter {
    return new SpoolWriter({
      tmpPath: path.join(this.incomingDirectory, `${randomUUID()}.part`),
      readyPath: (name) => this.readyPath(name),
      fsync: this.config.fsync,
      maxBytes,
      syncReadyDirectory: () => this.readySync.sync(),
      calls: this.calls,
    });
  }

  readyPath(spoolName: string): string {
    if (!SPOOL_NAME.test(spoolName)) {
      throw new LightboxError('InvalidDataset', 'not a spool entry name');
    }
    return path.join(this.readyDirectory, spoolName);
  }

  /** Ready entries, oldest first (FIFO across a restart). */
  async listReady(): Promise<string[]> {
    const names = (await readdir(this.readyDirectory)).filter((n) => SPOOL_NAME.test(n));
    const withTimes = await Promise.all(
      names.map(async (name) => {
        const s = await stat(path.join(this.readyDirectory, name)).catch(() => null);
        return { name, mtime: s?.mtimeMs ?? 0, present: s !== null };
      }),
    );
    return withTimes
      .filter((e) => e.present)
      .sort((a, b) => a.mtime - b.mtime)
      .map((e) => e.name);
  }

  async exists(spoolName: string): Promise<boolean> {
    return stat(this.readyPath(spoolName)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Rebuilds the job of a ready entry from its meta group and file times, for recovery (restart,
   * reconciliation). The content is checked against its name, the SHA-256 acknowledged: a mismatch is
   * a file a crash cut short before it was synced (never acknowledged), refused as InvalidDataset.
   */
  async describe(spoolName: string): Promise<IngestJob> {
    const file = this.readyPath(spoolName);
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    if (hash.digest('hex') !== spoolName.slice(0, 64)) {
      throw new LightboxError('InvalidDataset', 'spool entry does not match its SHA-256 name');
    }
    return this.describeUnverified(spoolName);
  }

  private async describeUnverified(spoolName: string): Promise<IngestJob> {
    const file = this.readyPath(spoolName);
    const handle = await open(file, 'r');
    try {
      const { size, mtime } = await handle.stat();
      const head = Buffer.alloc(Math.min(size, 64 * 1024));
      await handle.read(head, 0, head.length, 0);
      const { meta } = decodeFileMetaInformation(head);
      return {
        spoolName,
        sha256: spoolName.slice(0, 64),
        size,
        SOPInstanceUID: meta.MediaStorageSOPInstanceUID,
        SOPClassUID: meta.MediaStorageSOPClassUID,
        TransferSyntaxUID: meta.TransferSyntaxUID,
        callingAETitle: meta.SourceApplicationEntityTitle ?? '',
        receivedAt: mtime.toISOString(),
      };
    } finally {
      await handle.close();
    }
  }

  /** Removes an archived entry. Idempotent: a retry after a crash may find it gone. */
  async remove(spoolName: string): Promise<void> {
    await this.calls.unlink(this.readyPath(spoolName)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Moves an entry the worker gave up on to failed/, with the reason beside it. */
  async quarantine(spoolName: string, reason: { code: string; message: string }): Promise<void> {
    const target = path.join(this.failedDirectory, spoolName);
    await writeFile(
      `${target}.json`,
      JSON.stringify({ ...reason, failedAt: new Date().toISOString() }, null, 2),
    );
    await rename(this.readyPath(spoolName), target).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async listFailed(): Promise<string[]> {
    return (await readdir(this.failedDirectory)).filter((n) => SPOOL_NAME.test(n));
  }

  /** Releases the ready/ directory handle kept for syncing. */
  async close(): Promise<void> {
    await this.readySync.close();
  }
}
