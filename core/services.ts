/**
 * createServices: builds the adapters for the configured mode. Embedded default: fs objects, PGlite,
 * in-process queue over the spool. Services mode: S3/MinIO, PostgreSQL, BullMQ on Redis. A process asks
 * only for what it uses (the gateway needs neither object store nor index).
 */
import type { Config } from '../config/schema.js';
import { createIndexStore } from './archive/create-index-store.js';
import { createObjectStore } from './archive/create-object-store.js';
import type { IndexStore } from './archive/index-store.js';
import type { ObjectStore } from './archive/object-store.js';
import type { Logger } from './log.js';
import { createIngestQueue } from './queue/create-ingest-queue.js';
import type { IngestQueue } from './queue/ingest-queue.js';
import { Spool } from './spool/spool.js';

export interface Services {
  spool: Spool;
  queue: IngestQueue;
  objects?: ObjectStore;
  index?: IndexStore;
  close(): Promise<void>;
}

export interface ArchiveServices extends Services {
  objects: ObjectStore;
  index: IndexStore;
}

export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: { archive: true },
): Promise<ArchiveServices>;
export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: { archive: boolean },
): Promise<Services>;
export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: { archive: boolean },
): Promise<Services> {
  const spool = new Spool(config.spool);
  const { sweptIncoming } = await spool.init();
  if (sweptIncoming > 0) log.info({ sweptIncoming }, 'interrupted receptions removed from spool');
  const queue = createIngestQueue({ config: config.queue, spool, log });
  let objects: ObjectStore | undefined;
  let index: IndexStore | undefined;
  try {
    if (needs.archive) {
      objects = await createObjectStore(config.objects);
      index = await createIndexStore(config.index);
      await index.migrate();
    }
  } catch (error) {
    await queue.close().catch(() => undefined);
    await objects?.close().catch(() => undefined);
    await index?.close().catch(() => undefined);
    throw error;
  }
  return {
    spool,
    queue,
    objects,
    index,
    async close() {
      await queue.close();
      await objects?.close();
      await index?.close();
    },
  };
}
