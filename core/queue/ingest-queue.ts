/**
 * The ingest queue port. One job per spooled instance; the worker's handler is the same whatever the
 * adapter (BullMQ on Redis, or the in-process queue whose durable state is the spool directory itself).
 */

/** What the gateway (C-STORE) or viewer-api (STOW-RS) hands over once an instance is durably spooled. */
export interface IngestJob {
  /** File name inside the spool's ready/ directory: `<sha256>.dcm`. */
  spoolName: string;
  /** SHA-256 (hex) of the complete Part 10 file as spooled, and as it will be stored. */
  sha256: string;
  size: number;
  SOPInstanceUID: string;
  SOPClassUID: string;
  TransferSyntaxUID: string;
  /** Calling AE title for C-STORE; '' for STOW-RS. */
  callingAETitle: string;
  /** ISO 8601 time the instance was acknowledged. */
  receivedAt: string;
  /**
   * STOW-RS by an organisation principal: its id (the study becomes its own). Absent for C-STORE,
   * where the worker maps the Calling AE Title through config `organisations[].aeTitles`.
   */
  organisationId?: string;
}

/**
 * Idempotent job id derived from SOPInstanceUID and content. BullMQ ignores an add whose id already
 * exists and forbids ':' in ids; UIDs contain only digits and dots.
 */
export function ingestJobId(job: Pick<IngestJob, 'SOPInstanceUID' | 'sha256'>): string {
  return `${job.SOPInstanceUID}-${job.sha256.slice(0, 16)}`;
}

export type IngestHandler = (job: IngestJob, attempt: number) => Promise<void>;

/** Called once per job that will not be retried (permanent error or attempts exhausted). */
export type IngestFinalFailureHandler = (job: IngestJob, error: unknown) => Promise<void>;

export interface IngestProcessOptions {
  /** Handlers running at once in this process. */
  concurrency: number;
  /**
   * Called exactly once when a job finally fails, before the queue forgets it (the worker moves the
   * spool file to failed/). Optional so that tests and tools may omit it; its errors are logged.
   */
  onFinalFailure?: IngestFinalFailureHandler;
}

export interface IngestQueue {
  /** Resolves once the job is durably queued; rejects (StorageUnavailable) otherwise. */
  enqueue(job: IngestJob): Promise<void>;
  /** Starts consuming. A handler that throws a permanent error fails the job without retry. */
  process(handler: IngestHandler, options: IngestProcessOptions): Promise<void>;
  /** Waiting + active jobs (for health, metrics and tests). */
  depth(): Promise<number>;
  /** Resolves when nothing is waiting or active (tests and graceful shutdown). */
  drained(): Promise<void>;
  close(): Promise<void>;
}
