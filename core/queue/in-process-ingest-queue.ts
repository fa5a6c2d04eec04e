/**
 * The embedded default IngestQueue: THE SPOOL IS THE QUEUE. The gateway enqueues only after the
 * file is renamed into ready/ and fsynced, so enqueue() merely wakes the handlers: what is durable
 * is the file. After a restart, process() rebuilds the queue from ready/ (oldest first). A job
 * whose handler succeeded is forgotten (the handler removes its spool file); one that finally fails
 * is handed to onFinalFailure (the worker quarantines its file). Jobs are ~300 bytes; no file is
 * read into memory.
 */
import type { Logger } from 'pino';
import { isLightboxError, isPermanent, LightboxError } from '../errors.js';
import type { Spool } from '../spool/spool.js';
import {
  ingestJobId,
  type IngestFinalFailureHandler,
  type IngestHandler,
  type IngestJob,
  type IngestProcessOptions,
  type IngestQueue,
} from './ingest-queue.js';

export interface InProcessIngestQueueOptions {
  spool: Spool;
  log: Logger;
  /** Total runs of a job, the first included (config.queue.attempts). */
  attempts: number;
  /** First retry delay; doubles on each further retry, as BullMQ's 'exponential' backoff. */
  backoffMs: number;
  /** How long close() waits for active handlers before giving up on them (default 30 s). */
  closeTimeoutMs?: number;
}

interface Entry {
  id: string;
  job: IngestJob;
  /** Runs that have failed so far. */
  failures: number;
}

/**
 * Ready entries described in parallel while rebuilding (file opens at once, not jobs in memory).
 */
const DESCRIBE_BATCH = 32;

/** Waiting jobs that keep their parsed header in memory (a few KB each); later ones drop it. */
const HEADERS_KEPT = 256;

export class InProcessIngestQueue implements IngestQueue {
  private readonly pending = new Fifo<Entry>();
  /** Ids of jobs waiting, active or waiting to be retried: a second enqueue of one is ignored. */
  private readonly known = new Set<string>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly idleWaiters: (() => void)[] = [];
  private handler: IngestHandler | undefined;
  private onFinalFailure: IngestFinalFailureHandler | undefined;
  private concurrency = 1;
  private rebuilding = false;
  /** Jobs finished while the spool is being listed: a stale listing must not resurrect them. */
  private finishedDuringRebuild: Set<string> | undefined;
  private closing = false;
  private readonly log: Logger;

  constructor(private readonly options: InProcessIngestQueueOptions) {
    this.log = options.log.child({ component: 'in-process-ingest-queue' });
  }

  /** Durable already (the file is in ready/): queue it in memory and wake a handler. */
  async enqueue(job: IngestJob): Promise<void> {
    if (this.closing) throw new LightboxError('StorageUnavailable', 'ingest queue is closed');
    this.add(job);
    this.pump();
  }

  /**
   * Rebuilds the queue from the spool's ready/ directory (oldest first; jobs already queued are not
   * duplicated), then runs up to `concurrency` handlers. Handlers start as soon as the first
   * entries are known; the returned promise resolves once the whole backlog is queued.
   */
  async process(handler: IngestHandler, options: IngestProcessOptions): Promise<void> {
    if (this.handler) throw new Error('process() was already called on this ingest queue');
    if (this.closing) throw new LightboxError('StorageUnavailable', 'ingest queue is closed');
    this.handler = handler;
    this.onFinalFailure = options.onFinalFailure;
    this.concurrency = Math.max(1, options.concurrency);
    this.rebuilding = true;
    this.finishedDuringRebuild = new Set();
    this.pump(); // jobs enqueued before process() was called
    try {
      await this.rebuildFromSpool();
    } finally {
      this.rebuilding = false;
      this.finishedDuringRebuild = undefined;
      this.notifyIfIdle();
    }
  }

  /** Waiting + active (handler or onFinalFailure running) + waiting for a retry. */
  async depth(): Promise<number> {
    return this.pending.size + this.running.size + this.retryTimers.size;
  }

  async drained(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking jobs, cancels pending retries and waits (bounded) for active handlers. What is
   * left stays in ready/ and is picked up again by the next process().
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    const left = this.pending.size + this.retryTimers.size;
    this.retryTimers.clear();
    this.pending.clear();
    const timeoutMs = this.options.closeTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.allSettled([...this.running]).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut)
      this.log.warn({ active: this.running.size, timeoutMs }, 'close: handlers still active');
    this.known.clear();
    this.log.info({ leftInSpool: left }, 'ingest queue closed');
    this.notifyIfIdle(true);
  }

  private async rebuildFromSpool(): Promise<void> {
    const names = await this.options.spool.listReady();
    let queued = 0;
    for (let i = 0; i < names.length && !this.closing; i += DESCRIBE_BATCH) {
      const batch = names.slice(i, i + DESCRIBE_BATCH);
      const jobs = await Promise.all(batch.map((name) => this.describe(name)));
      for (const job of jobs) {
        if (!job || this.closing || this.finishedDuringRebuild?.has(ingestJobId(job))) continue;
        if (this.add(job)) queued += 1;
      }
      this.pump();
    }
    this.log.info({ ready: names.length, queued }, 'ingest queue rebuilt from spool');
  }

  /** undefined when the entry vanished (archived meanwhile) or could not be described. */
  private async describe(spoolName: string): Promise<IngestJob | undefined> {
    try {
      return await this.options.spool.describe(spoolName);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if (isLightboxError(error, 'InvalidDataset')) {
        // Its meta group cannot be read, so no handler could ever take it: set it aside for an
        // operator.
        this.log.warn({ spoolName }, 'unreadable spool entry quarantined');
        await this.options.spool
          .quarantine(spoolName, { code: error.code, message: error.message })
          .catch((e: unknown) => this.log.error({ spoolName, err: e }, 'quarantine failed'));
        return undefined;
      }
      this.log.error({ spoolName, err: error }, 'cannot describe spool entry; left for next start');
      return undefined;
    }
  }

  /** Queues a job unless it is already waiting, active or waiting to be retried. */
  private add(job: IngestJob): boolean {
    const id = ingestJobId(job);
    if (this.known.has(id)) return false;
    this.known.add(id);
    const kept = this.pending.size < HEADERS_KEPT ? job : { ...job, header: undefined };
    this.pending.push({ id, job: kept, failures: 0 });
    return true;
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (!this.closing && this.running.size < this.concurrency && this.pending.size > 0) {
      const entry = this.pending.shift()!;
      const run: Promise<void> = this.run(entry, handler).finally(() => {
        this.running.delete(run);
        this.pump();
        this.notifyIfIdle();
      });
      this.running.add(run);
    }
  }

  private async run(entry: Entry, handler: IngestHandler): Promise<void> {
    const attempt = entry.failures + 1;
    try {
      await handler(entry.job, attempt);
      this.forget(entry);
    } catch (error) {
      entry.failures = attempt;
      if (isPermanent(error) || attempt >= this.options.attempts) {
        await this.finalFailure(entry, error);
      } else if (this.closing) {
        this.forget(entry); // still in ready/: the next process() retries it
      } else {
        this.scheduleRetry(entry, error);
      }
    }
  }

  private scheduleRetry(entry: Entry, error: unknown): void {
    const delay = this.options.backoffMs * 2 ** (entry.failures - 1);
    this.log.debug(
      { spoolName: entry.job.spoolName, attempt: entry.failures, delay, code: errorCode(error) },
      'ingest job will be retried',
    );
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.closing) return;
      this.pending.push(entry);
      this.pump();
    }, delay);
    this.retryTimers.add(timer);
  }

  private async finalFailure(entry: Entry, error: unknown): Promise<void> {
    this.log.warn(
      { spoolName: entry.job.spoolName, attempts: entry.failures, code: errorCode(error) },
      'ingest job failed',
    );
    try {
      await this.onFinalFailure?.(entry.job, error);
    } catch (e) {
      this.log.error({ spoolName: entry.job.spoolName, err: e }, 'onFinalFailure failed');
    }
    this.forget(entry);
  }

  private forget(entry: Entry): void {
    this.known.delete(entry.id);
    this.finishedDuringRebuild?.add(entry.id);
  }

  private isIdle(): boolean {
    return (
      !this.rebuilding &&
      this.pending.size === 0 &&
      this.running.size === 0 &&
      this.retryTimers.size === 0
    );
  }

  private notifyIfIdle(force = false): void {
    if (!force && !this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function errorCode(error: unknown): string {
  if (isLightboxError(error)) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

/** An array-backed FIFO with O(1) shift (Array#shift is O(n) on a million entries). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
