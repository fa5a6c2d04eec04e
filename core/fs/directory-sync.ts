/**
 * Group commit for a directory's fsync. A rename or link into a directory is durable once the
 * directory has been fsynced AFTER it (Linux fsync(2)). Instances arriving together on several
 * associations each need that, and one fsync started after all their renames serves them all:
 *
 *   sync() while no fsync runs          → starts one now;
 *   sync() while one runs               → that one may have started before the caller's rename, so
 *                                          the caller waits for the NEXT one, shared by every caller
 *                                          that arrives before it starts.
 *
 * So every caller's promise resolves only after an fsync that began after sync() was called.
 * With `keepOpen` the directory stays open between syncs (no open/close per instance).
 */
import { pooledCalls, type FileSystemCalls } from './file-system-calls.js';

export interface DirectorySyncOptions {
  keepOpen: boolean;
  /** How the directory is opened, fsynced and closed (file-system-calls.ts; default: the pool). */
  calls?: () => FileSystemCalls;
}

export class DirectorySync {
  /** The kept directory descriptor (keepOpen). */
  private fd: number | undefined;
  /** The fsync running now, if any. */
  private running: Promise<void> | undefined;
  /** The fsync that starts when `running` ends; callers arriving meanwhile share it. */
  private queued: Promise<void> | undefined;

  constructor(
    readonly directory: string,
    private readonly options: DirectorySyncOptions = { keepOpen: true },
  ) {}

  private get calls(): FileSystemCalls {
    return this.options.calls?.() ?? pooledCalls;
  }

  /** Resolves after an fsync of the directory that started after this call. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued = this.running.then(ignore, ignore).then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  /** Closes the kept directory handle (a later sync() reopens it). */
  async close(): Promise<void> {
    await this.running?.catch(ignore);
    await this.queued?.catch(ignore);
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await this.calls.close(fd).catch(ignore);
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.fsync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** One fsync of the directory (protected: tests observe the group commit through it). */
  protected async fsync(): Promise<void> {
    const calls = this.calls;
    if (!this.options.keepOpen) {
      const fd = await calls.open(this.directory, 'r');
      try {
        return await calls.fsync(fd);
      } finally {
        await calls.close(fd).catch(ignore);
      }
    }
    let fd: number | undefined;
    try {
      fd = this.fd ??= await calls.open(this.directory, 'r');
      await calls.fsync(fd);
    } catch (error) {
      // A failed open or fsync is not remembered: the next caller tries a fresh descriptor.
      if (fd !== undefined && this.fd === fd) {
        this.fd = undefined;
        await calls.close(fd).catch(ignore);
      }
      throw error;
    }
  }
}

function ignore(): void {}

/**
 * Group commit over many directories (the object store's series folders): one DirectorySync per
 * folder while syncs are wanted, opened and closed for each fsync (a kept handle could outlive a
 * folder removed and made again), dropped once idle.
 */
export class DirectorySyncs {
  private readonly syncs = new Map<string, { sync: DirectorySync; waiting: number }>();

  constructor(private readonly calls?: () => FileSystemCalls) {}

  async sync(directory: string): Promise<void> {
    let entry = this.syncs.get(directory);
    if (!entry) {
      entry = {
        sync: new DirectorySync(directory, { keepOpen: false, calls: this.calls }),
        waiting: 0,
      };
      this.syncs.set(directory, entry);
    }
    entry.waiting++;
    try {
      await entry.sync.sync();
    } finally {
      if (--entry.waiting === 0) this.syncs.delete(directory);
    }
  }
}
