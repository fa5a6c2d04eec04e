/**
 * The worker: consumes the ingest queue and archives each instance (store-instance.ts). A job that
 * finally fails moves its spool entry to failed/ with the reason, so an operator can see and replay it;
 * it is never deleted. With BullMQ, ready/ is reconciled periodically: an entry whose enqueue failed
 * (the sender was told to retry) is queued again, idempotently, so it is archived either way.
 */
import type { OrganisationConfig } from '../config/schema.js';
import type { AuditLog } from '../core/audit/audit-log.js';
import type { Logger } from '../core/log.js';
import type { LightboxMetrics } from '../core/ops/metrics.js';
import type { IngestJob, IngestQueue } from '../core/queue/ingest-queue.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import type { IndexStore } from '../core/archive/index-store.js';
import type { Spool } from '../core/spool/spool.js';
import type { IngestPolicy } from '../core/data-rights/ingest-policy.js';
import { storeEvent } from './store-event.js';
import { storeInstance, type StoreOutcome } from './store-instance.js';

export interface WorkerDependencies {
  /** config `organisations` (the study's organisation from the Calling AE Title). */
  organisations?: readonly OrganisationConfig[];
  spool: Spool;
  queue: IngestQueue;
  objects: ObjectStore;
  index: IndexStore;
  log: Logger;
  /** Data rights at ingest: discard erased records' re-sends, place instances in their region. */
  ingestPolicy?: IngestPolicy;
  concurrency: number;
  /** Re-queue ready/ entries older than this (ms); 0 disables (the in-process queue rebuilds itself). */
  reconcileAfterMs: number;
  onStored?: (outcome: StoreOutcome, job: IngestJob) => void;
  /** One 'store' audit event per archived instance (core/audit). */
  audit?: AuditLog;
  /** Outcomes, retries, final failures and the queue depth (core/ops/metrics.ts). */
  metrics?: LightboxMetrics;
}

export interface Worker {
  /** Queues ready/ entries that have no job (returns how many were offered). */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

export async function startWorker(deps: WorkerDependencies): Promise<Worker> {
  const log = deps.log.child({ component: 'worker' });
  const { spool, queue } = deps;

  const reconcile = async (): Promise<number> => {
    const cutoff = Date.now() - deps.reconcileAfterMs;
    let offered = 0;
    for (const name of await spool.listReady()) {
      const job = await spool.describe(name).catch(() => undefined);
      if (!job || Date.parse(job.receivedAt) > cutoff) continue;
      await queue.enqueue(job);
      offered++;
    }
    if (offered > 0) log.info({ offered }, 'spool reconciled');
    return offered;
  };

  await queue.process(
    async (job, attempt) => {
      if (attempt > 1) deps.metrics?.jobRetried();
      const outcome = await storeInstance(job, { ...deps, log });
      deps.metrics?.instanceStored(outcome, job.size);
      log.debug({ outcome, attempt, bytes: job.size }, 'instance archived');
      deps.onStored?.(outcome, job);
      deps.audit?.record(storeEvent(job, outcome, deps.organisations ?? []));
    },
    {
      concurrency: deps.concurrency,
      onFinalFailure: async (job, error) => {
        const reason = {
          code: (error as { code?: string }).code ?? 'Internal',
          message: (error as Error).message ?? String(error),
        };
        log.error({ reason, spoolName: job.spoolName }, 'instance not archived: moved to failed/');
        deps.metrics?.jobFailed(reason.code);
        await spool.quarantine(job.spoolName, reason);
      },
    },
  );

  deps.metrics?.observe({ queueDepth: () => queue.depth() });
  let timer: NodeJS.Timeout | undefined;
  if (deps.reconcileAfterMs > 0) {
    const tick = () =>
      reconcile()
        .catch((error: unknown) => log.warn({ err: error }, 'spool reconciliation failed'))
        .finally(() => {
          timer = setTimeout(tick, Math.max(deps.reconcileAfterMs, 10_000));
          timer.unref();
        });
    void tick();
  }

  return {
    reconcile,
    async close() {
      if (timer) clearTimeout(timer);
      await queue.close();
    },
  };
}
