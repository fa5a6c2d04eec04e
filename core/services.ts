/**
 * createServices: builds the adapters for the configured mode. Embedded default: fs objects, PGlite,
 * in-process queue over the spool. Services mode: S3/MinIO, PostgreSQL, BullMQ on Redis. A process asks
 * only for what it uses (the gateway needs neither object store nor index).
 */
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { createIndexStore } from './archive/create-index-store.js';
import type { IndexStore } from './archive/index-store.js';
import type { ObjectStore } from './archive/object-store.js';
import { DataRights } from './data-rights/data-rights.js';
import type { IngestPolicy } from './data-rights/ingest-policy.js';
import { createArchiveObjectStore } from './data-rights/regions.js';
import { createGrantServices, type GrantServices } from './grants/grant-services.js';
import type { Logger } from './log.js';
import { createIngestQueue } from './queue/create-ingest-queue.js';
import type { IngestQueue } from './queue/ingest-queue.js';
import { Spool } from './spool/spool.js';

export interface Services {
  spool: Spool;
  queue: IngestQueue;
  objects?: ObjectStore;
  index?: IndexStore;
  /** Data rights of patient records (with the archive). */
  dataRights?: DataRights;
  /** What data rights ask of the worker: discard erased records' re-sends, place by region. */
  ingestPolicy?: IngestPolicy;
  grants?: GrantServices;
  close(): Promise<void>;
}

export interface ServiceNeeds {
  /** Object store and index (worker, viewer-api, embedded). */
  archive: boolean;
  /**
   * Set in processes that receive instances into the spool (gateway, viewer-api for STOW-RS,
   * embedded): names its incoming/ folder and sweeps what a previous run left there.
   */
  receiverId?: string;
  /** Who owns a PGlite index while this runs (named to the next process that tries). */
  owner?: string;
}

/** A receiver's identity: stable across restarts of the same process on the same host and port. */
export function receiverId(role: string, port: number): string {
  return `${role}-${hostname()}-${port}`;
}

export interface ArchiveServices extends Services {
  objects: ObjectStore;
  index: IndexStore;
  dataRights: DataRights;
  ingestPolicy: IngestPolicy;
  /** Access decisions, accounts, grants, share links, tokens, audit (core/grants, core/audit). */
  grants: GrantServices;
}

export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: { archive: true; receiverId?: string; owner?: string },
): Promise<ArchiveServices>;
export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: ServiceNeeds,
): Promise<Services>;
export async function createServices(
  config: Readonly<Config>,
  log: Logger,
  needs: ServiceNeeds,
): Promise<Services> {
  const spool = new Spool(config.spool, needs.receiverId);
  await spool.init();
  if (spool.fileSystemCalls === 'pooled') {
    log.info('spool on a network file system: its file calls go through the thread pool');
  }
  if (needs.receiverId) {
    const sweptIncoming = await spool.sweepIncoming();
    if (sweptIncoming > 0) log.info({ sweptIncoming }, 'interrupted receptions removed from spool');
  }
  const queue = createIngestQueue({ config: config.queue, spool, log });
  let objects: ObjectStore | undefined;
  let index: IndexStore | undefined;
  let grants: GrantServices | undefined;
  let dataRights: DataRights | undefined;
  try {
    if (needs.archive) {
      objects = await createArchiveObjectStore(config);
      const sqlIndex = await createIndexStore(config.index, { purpose: needs.owner });
      index = sqlIndex;
      await index.migrate();
      grants = await createGrantServices(config, index.sql, log);
      dataRights = new DataRights({
        sql: sqlIndex.sql,
        objects,
        config: config.dataRights,
        log,
        audit: grants.audit,
      });
      // Exports whose process stopped (no heartbeat) are failed, not left 'running' forever.
      await dataRights.exports.failStale();
    }
  } catch (error) {
    await queue.close().catch(() => undefined);
    await objects?.close().catch(() => undefined);
    await index?.close().catch(() => undefined);
    await spool.close();
    throw error;
  }
  return {
    spool,
    queue,
    objects,
    index,
    grants,
    dataRights,
    ingestPolicy: dataRights?.ingestPolicy,
    async close() {
      await grants?.audit.flush();
      await queue.close();
      await objects?.close();
      await index?.close();
      await spool.close();
    },
  };
}
