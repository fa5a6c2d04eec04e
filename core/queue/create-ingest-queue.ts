/**
 * Picks the IngestQueue adapter for config.queue.kind: the in-process queue over the spool
 * (embedded default, one process) or BullMQ on Redis (split mode, any number of gateways and
 * workers).
 */
import type { QueueConfig } from '../../config/schema.js';
import type { Logger } from '../log.js';
import type { Spool } from '../spool/spool.js';
import { BullMqIngestQueue } from './bullmq-ingest-queue.js';
import { InProcessIngestQueue } from './in-process-ingest-queue.js';
import type { IngestQueue } from './ingest-queue.js';

export interface CreateIngestQueueOptions {
  config: QueueConfig;
  /** The in-process queue is rebuilt from its ready/ directory; BullMQ does not use it. */
  spool: Spool;
  log: Logger;
}

/**
 * Builds the configured adapter. BullMQ starts connecting to Redis at once; the in-process queue
 * touches nothing until process().
 */
export function createIngestQueue({ config, spool, log }: CreateIngestQueueOptions): IngestQueue {
  switch (config.kind) {
    case 'in-process':
      return new InProcessIngestQueue({
        spool,
        log,
        attempts: config.attempts,
        backoffMs: config.backoffMs,
      });
    case 'bullmq':
      return new BullMqIngestQueue({ config, log });
  }
}
