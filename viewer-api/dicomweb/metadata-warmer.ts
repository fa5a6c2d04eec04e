/**
 * Builds a study's WADO-RS metadata response once the study has been quiet for a moment after its
 * instances were stored, so that the first viewer to open a study just received gets the kept
 * response (wado-rs-metadata.ts warmStudyMetadata) instead of waiting for every header to be read
 * and printed. The archive must be quiet too: a build waits while other instances keep arriving,
 * up to `maxDelayMs`, so that it takes no CPU from a burst being received. A study still arriving is built once, after its last instance; studies are built one
 * at a time, earliest due first. Only a study that received `minInstances` or more is built: a
 * small one is read in a couple of milliseconds on its first request anyway, and while the index is
 * busy with ingest each build waits behind it (it reads in the background), so a stream of small
 * studies must not hold up the large ones. Best effort: at most `maxPending` studies are followed
 * (a bulk import does not queue them all), and a failure is logged and forgotten (the first request
 * builds it).
 *
 * Embedded default only: there the worker that stores and the viewer API that serves share a
 * process. Split processes build on the first request, as before.
 */
import type { Logger } from '../../core/log.js';

export interface MetadataWarmerOptions {
  /** How long a study must go without a new instance before it is built (ms). */
  quietMs: number;
  /** How long a due study waits at most for the archive to be quiet (ms). */
  maxDelayMs: number;
  /** Instances stored (since the study was last built or dropped) for it to be worth building. */
  minInstances: number;
  /** Studies followed at most; more are not warmed. */
  maxPending: number;
}

export const DEFAULT_METADATA_WARMER_OPTIONS: MetadataWarmerOptions = {
  quietMs: 1000,
  maxDelayMs: 30_000,
  minInstances: 20,
  maxPending: 10_000,
};

export class MetadataWarmer {
  /**
   * Study → when it is due and how many instances it received meanwhile; Map order is due order (a
   * study stored again moves to the end).
   */
  private readonly due = new Map<string, { at: number; stored: number }>();
  /** When any instance was last stored. */
  private lastStored = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly warm: (StudyInstanceUID: string) => Promise<unknown>,
    private readonly log: Logger,
    private readonly options: MetadataWarmerOptions = DEFAULT_METADATA_WARMER_OPTIONS,
  ) {}

  /** An instance of this study was stored. */
  studyStored(StudyInstanceUID: string): void {
    if (this.closed) return;
    const now = Date.now();
    this.lastStored = now;
    const waiting = this.due.get(StudyInstanceUID);
    if (waiting) this.due.delete(StudyInstanceUID);
    else if (this.due.size >= this.options.maxPending) return;
    this.due.set(StudyInstanceUID, {
      at: now + this.options.quietMs,
      stored: (waiting?.stored ?? 0) + 1,
    });
    this.schedule();
  }

  /** Resolves once nothing is due or being built (tests). */
  async idle(): Promise<void> {
    while (this.running || this.due.size > 0) {
      await (this.running ?? new Promise((r) => setTimeout(r, 10)));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
    await this.running;
  }

  private schedule(): void {
    if (this.timer || this.running || this.closed) return;
    const first = this.due.values().next();
    if (first.done) return;
    const { quietMs, maxDelayMs } = this.options;
    // Due, and the archive quiet too (or the study has waited long enough for that).
    const start = Math.max(
      first.value.at,
      Math.min(this.lastStored + quietMs, first.value.at + maxDelayMs),
    );
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.running = this.run().finally(() => {
          this.running = undefined;
          this.schedule();
        });
      },
      Math.max(0, start - Date.now()),
    );
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const { quietMs, maxDelayMs } = this.options;
    for (const [study, { at, stored }] of this.due) {
      const now = Date.now();
      if (this.closed || at > now) return;
      if (stored < this.options.minInstances) {
        this.due.delete(study);
        continue;
      }
      if (now - this.lastStored < quietMs && now < at + maxDelayMs) return; // receiving again
      this.due.delete(study);
      try {
        await this.warm(study);
      } catch (error) {
        this.log.warn({ err: error }, 'study metadata not built ahead (built on first request)');
      }
    }
  }
}
