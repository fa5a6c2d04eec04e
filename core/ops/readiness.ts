/**
 * Readiness (/readyz): does every dependency this process needs answer now? Each process lists its own
 * checks: the gateway its spool (writable) and queue; a worker its queue, index and object store;
 * viewer-api its index and object store; the embedded mode all of them. Each check is bounded in time,
 * so that a hung dependency makes the process unready instead of hanging the probe.
 */
import { randomUUID } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IndexStore } from '../archive/index-store.js';
import type { ObjectStore } from '../archive/object-store.js';
import type { IngestQueue } from '../queue/ingest-queue.js';
import type { Spool } from '../spool/spool.js';

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export interface Readiness {
  ready: boolean;
  /** 'ok', or the error code (never a message: it could name a host or a file). */
  checks: Record<string, string>;
}

const CHECK_TIMEOUT_MS = 3_000;

/** The checks of the dependencies present: pass only those the process uses. */
export function readinessChecks(deps: {
  spool?: Spool;
  queue?: IngestQueue;
  index?: IndexStore;
  objects?: ObjectStore;
}): ReadinessChecks {
  const checks: ReadinessChecks = {};
  if (deps.spool) checks.spool = () => spoolWritable(deps.spool!);
  if (deps.queue) checks.queue = () => deps.queue!.depth();
  if (deps.index) checks.index = () => deps.index!.ping();
  if (deps.objects) checks.objects = () => deps.objects!.ping();
  return checks;
}

export async function checkReadiness(checks: ReadinessChecks): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const result = await bounded(check()).then(
        () => 'ok',
        (error: unknown) => String((error as { code?: unknown } | null)?.code ?? 'Unavailable'),
      );
      return [name, result] as const;
    }),
  );
  return {
    ready: entries.every(([, result]) => result === 'ok'),
    checks: Object.fromEntries(entries),
  };
}

/** A file created, synced by the write, and removed in the directory receptions are written to. */
async function spoolWritable(spool: Spool): Promise<void> {
  const probe = path.join(spool.incomingDirectory, `.readyz-${randomUUID()}`);
  await writeFile(probe, 'ok');
  await unlink(probe);
}

function bounded<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('timed out'), { code: 'Timeout' })),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
