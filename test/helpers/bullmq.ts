/**
 * The ingest queue as BullMQ keeps it in Redis, read (and, for crash tests, aged) from outside
 * Lightbox. BullMQ 6's keys: `<prefix>:<queue>:active|stalled|stalled-check` and
 * `<prefix>:<queue>:<jobId>:lock`.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** config/schema.ts default queue.queueName. */
export const INGEST_QUEUE = 'ingest';

export interface QueueLocation {
  redisUrl: string;
  prefix: string;
  queueName?: string;
}

export async function jobCounts(location: QueueLocation): Promise<Record<string, number>> {
  const queue = new Queue(location.queueName ?? INGEST_QUEUE, {
    connection: { url: location.redisUrl, maxRetriesPerRequest: 1 },
    prefix: location.prefix,
  });
  queue.on('error', () => undefined);
  try {
    return await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
  } finally {
    await queue.close();
  }
}

/** Workers (processes) consuming the queue, as BullMQ sees them in Redis. */
export async function workerCount(location: QueueLocation): Promise<number> {
  const queue = new Queue(location.queueName ?? INGEST_QUEUE, {
    connection: { url: location.redisUrl },
    prefix: location.prefix,
  });
  try {
    return await queue.getWorkersCount();
  } finally {
    await queue.close();
  }
}

/**
 * What lockDuration (60 s) and one stalled check (30 s) would do after a worker dies: its locks
 * expire, and a stalled check marks its active jobs as candidates, so that the next worker's first
 * stalled check re-queues them. Returns how many jobs the dead worker held.
 */
export async function expireDeadWorkerLocks(location: QueueLocation): Promise<number> {
  const redis = new Redis(location.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const key = (suffix: string) =>
      `${location.prefix}:${location.queueName ?? INGEST_QUEUE}:${suffix}`;
    const active = await redis.lrange(key('active'), 0, -1);
    for (const id of active) await redis.del(key(`${id}:lock`));
    if (active.length > 0) await redis.sadd(key('stalled'), ...active);
    await redis.del(key('stalled-check'));
    return active.length;
  } finally {
    redis.disconnect();
  }
}
