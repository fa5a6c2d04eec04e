/**
 * IngestQueue on Redis through BullMQ (split mode: gateway, worker and viewer-api as separate
 * processes). Job data is the IngestJob; its id is ingestJobId(job), so a duplicate add is ignored.
 *
 * Two Redis connections with opposite needs:
 * - the producer fails fast (no offline queue, short connect timeout, one retry, and a bound on the
 *   whole add), because the gateway holds a C-STORE response until enqueue settles and must answer
 *   0xA700 within seconds when Redis is down, not hang;
 * - the worker waits as long as it takes (maxRetriesPerRequest: null, as BullMQ requires).
 *
 * A job whose worker dies is re-run: BullMQ moves it back to wait once its lock expires
 * (lockDuration, renewed every lockDuration / 2 while the handler runs) and a stalled check
 * (stalledInterval) notices. Handlers are idempotent, so the re-run is safe.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { QueueConfig } from '../../config/schema.js';
import { isLightboxError, isPermanent, LightboxError } from '../errors.js';
import {
  ingestJobId,
  type IngestFinalFailureHandler,
  type IngestHandler,
  type IngestJob,
  type IngestProcessOptions,
  type IngestQueue,
} from './ingest-queue.js';

export type BullMqQueueConfig = Extract<QueueConfig, { kind: 'bullmq' }>;

export interface BullMqIngestQueueOptions {
  config: BullMqQueueConfig;
  log: Logger;
  /** Bound on enqueue() and depth() before they reject with StorageUnavailable (default 5 s). */
  operationTimeoutMs?: number;
  /**
   * How long a job stays locked to a worker without renewal (default 60 s). A killed worker's job
   * is re-run after at most lockDuration + stalledInterval; a live worker renews its lock every
   * lockDuration / 2, so this only needs to outlast an event-loop stall, not a whole job.
   */
  lockDurationMs?: number;
  /** How often a worker looks for jobs whose lock expired (BullMQ default 30 s). */
  stalledIntervalMs?: number;
  /** How long close() waits for active handlers (default 30 s). */
  closeTimeoutMs?: number;
}

const JOB_NAME = 'ingest';

export class BullMqIngestQueue implements IngestQueue {
  private readonly producer: Redis;
  private readonly queue: Queue<IngestJob>;
  private worker: Worker<IngestJob> | undefined;
  private workerConnection: Redis | undefined;
  private onFinalFailure: IngestFinalFailureHandler | undefined;
  /** Jobs whose final failure is reported: the 'failed' event must not report them again. */
  private readonly reported = new WeakSet<Job>();
  private readonly reporting = new Set<Promise<void>>();
  private closed = false;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly lastErrors = new Map<string, string>();

  constructor(private readonly options: BullMqIngestQueueOptions) {
    const { config } = options;
    this.log = options.log.child({ component: 'bullmq-ingest-queue', queue: config.queueName });
    this.timeoutMs = options.operationTimeoutMs ?? 5_000;
    this.producer = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 1,
    });
    // BullMQ re-emits client errors on the Queue and Worker (logged there); this quiets ioredis.
    this.producer.on('error', () => undefined).on('ready', () => this.onConnectionReady());
    this.queue = new Queue<IngestJob>(config.queueName, {
      connection: this.producer,
      prefix: config.prefix,
      defaultJobOptions: {
        attempts: config.attempts,
        backoff: { type: 'exponential', delay: config.backoffMs },
        removeOnComplete: true,
        // Failed jobs are kept (bounded) for inspection; their files are in the spool's failed/.
        removeOnFail: { count: 10_000 },
      },
    });
    this.queue.on('error', (error) => this.logRedisError('queue', error));
  }

  /**
   * Resolves once Redis has the job; StorageUnavailable if Redis cannot take it within the bound.
   */
  async enqueue(job: IngestJob): Promise<void> {
    if (this.closed) throw new LightboxError('StorageUnavailable', 'ingest queue is closed');
    try {
      await this.producerReady();
      await this.bounded(this.queue.add(JOB_NAME, toJobData(job), { jobId: ingestJobId(job) }));
    } catch (error) {
      this.log.warn({ spoolName: job.spoolName, err: safeError(error) }, 'enqueue failed');
      throw new LightboxError('StorageUnavailable', 'ingest queue unavailable', { cause: error });
    }
  }

  /** Starts a BullMQ Worker in this process; resolves without waiting for Redis to be reachable. */
  async process(handler: IngestHandler, options: IngestProcessOptions): Promise<void> {
    if (this.worker) throw new Error('process() was already called on this ingest queue');
    if (this.closed) throw new LightboxError('StorageUnavailable', 'ingest queue is closed');
    const { config } = this.options;
    this.onFinalFailure = options.onFinalFailure;
    this.workerConnection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', () => undefined).on('ready', () => this.onConnectionReady());
    this.worker = new Worker<IngestJob>(config.queueName, (job) => this.run(job, handler), {
      connection: this.workerConnection,
      prefix: config.prefix,
      concurrency: options.concurrency,
      lockDuration: this.options.lockDurationMs ?? 60_000,
      stalledInterval: this.options.stalledIntervalMs ?? 30_000,
    });
    this.worker.on('error', (error) => this.logRedisError('worker', error));
    this.worker.on('failed', (job, error) => this.onFailed(job, error));
  }

  /** Waiting + active + delayed (retrying) jobs, across every process sharing the queue. */
  async depth(): Promise<number> {
    const counts = await this.producerReady()
      .then(() =>
        this.bounded(this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      )
      .catch((error: unknown) => {
        throw new LightboxError('StorageUnavailable', 'ingest queue unavailable', { cause: error });
      });
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  /** Polls depth() until it reads 0 and no final-failure report is still running here. */
  async drained(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.reporting]);
      if ((await this.depth()) === 0 && this.reporting.size === 0) return;
      await sleep(50);
    }
  }

  /** Stops taking jobs, waits (bounded) for active handlers, then closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const timeoutMs = this.options.closeTimeoutMs ?? 30_000;
    if (this.worker) {
      const finished = await withTimeout(this.worker.close(), timeoutMs).then(
        () => true,
        () => false,
      );
      if (!finished)
        this.log.warn({ timeoutMs }, 'close: handlers still active; their jobs will stall');
    }
    await Promise.allSettled([...this.reporting]);
    await withTimeout(this.queue.close(), this.timeoutMs).catch(() => undefined);
    for (const connection of [this.workerConnection, this.producer]) {
      if (!connection) continue;
      await withTimeout(connection.quit(), this.timeoutMs).catch(() => connection.disconnect());
    }
  }

  /** The BullMQ processor: the handler's error decides between a retry and a final failure. */
  private async run(job: Job<IngestJob>, handler: IngestHandler): Promise<void> {
    const attempt = job.attemptsMade + 1;
    try {
      await handler(job.data, attempt);
    } catch (error) {
      const permanent = isPermanent(error);
      if (!permanent && attempt < (job.opts.attempts ?? 1)) {
        this.log.debug(
          { spoolName: job.data.spoolName, attempt, code: codeOf(error) },
          'will retry',
        );
        throw toError(error);
      }
      // Reported while the job is still active (locked), so depth() counts it and close() waits.
      this.reported.add(job);
      await this.reportFinalFailure(job, error, attempt);
      throw permanent
        ? new UnrecoverableError(`${codeOf(error)}: ${messageOf(error)}`)
        : toError(error);
    }
  }

  /**
   * Final failures that never went through the processor: a job that stalled more than
   * maxStalledCount times is failed by BullMQ itself when it is next taken.
   */
  private onFailed(job: Job<IngestJob> | undefined, error: Error): void {
    if (!job || this.reported.has(job)) return;
    const final =
      error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    this.reported.add(job);
    const report = this.reportFinalFailure(job, error, job.attemptsMade).finally(() =>
      this.reporting.delete(report),
    );
    this.reporting.add(report);
  }

  private async reportFinalFailure(
    job: Job<IngestJob>,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    this.log.warn(
      { spoolName: job.data.spoolName, attempts, code: codeOf(error) },
      'ingest job failed',
    );
    try {
      await this.onFinalFailure?.(job.data, error);
    } catch (e) {
      this.log.error({ spoolName: job.data.spoolName, err: safeError(e) }, 'onFinalFailure failed');
    }
  }

  /**
   * Fails at once while the producer is known to be disconnected (every C-STORE would otherwise
   * wait for the bound), and waits for the first connection attempt to settle.
   */
  private async producerReady(): Promise<void> {
    const status = this.producer.status;
    if (status === 'ready') return;
    if (status !== 'connecting' && status !== 'connect' && status !== 'wait') {
      throw new Error(`Redis connection is ${status}`);
    }
    await this.bounded(
      new Promise<void>((resolve, reject) => {
        const settle = (error?: Error) => {
          this.producer.off('ready', onReady).off('close', onClose);
          if (error) reject(error);
          else resolve();
        };
        const onReady = () => settle();
        const onClose = () => settle(new Error('Redis connection closed'));
        this.producer.once('ready', onReady).once('close', onClose);
      }),
    );
  }

  private bounded<T>(promise: Promise<T>): Promise<T> {
    return withTimeout(promise, this.timeoutMs);
  }

  /** Logs each distinct error once per outage: ioredis reports every reconnection attempt. */
  private logRedisError(source: string, error: unknown): void {
    const err = safeError(error);
    if (this.lastErrors.get(source) === err.message) return;
    this.lastErrors.set(source, err.message);
    this.log.error({ source, err }, 'ingest queue error');
  }

  private onConnectionReady(): void {
    if (this.lastErrors.size > 0) this.log.info('ingest queue connected to Redis again');
    this.lastErrors.clear();
  }
}

/** Exactly the IngestJob fields: nothing else a caller's object may carry goes to Redis. */
function toJobData(job: IngestJob): IngestJob {
  const { spoolName, sha256, size, SOPInstanceUID, SOPClassUID, TransferSyntaxUID } = job;
  const { callingAETitle, receivedAt, organisationId } = job;
  return {
    ...(organisationId ? { organisationId } : {}),
    spoolName,
    sha256,
    size,
    SOPInstanceUID,
    SOPClassUID,
    TransferSyntaxUID,
    callingAETitle,
    receivedAt,
  };
}

function codeOf(error: unknown): string {
  if (isLightboxError(error)) return error.code;
  return error instanceof Error ? error.name : typeof error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * BullMQ's own messages may name a job id, which embeds the SOPInstanceUID: scrub anything
 * UID-shaped before it reaches a log (UIDs are sensitive, see core/log.ts).
 */
function safeError(error: unknown): { name: string; code?: string; message: string } {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : typeof error,
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    message: String(e?.message ?? error).replace(/\d+(\.\d+){4,}/g, '[uid]'),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
