/**
 * The archive as the CLI opens it: the configured object store and index (migrated), without the
 * queue. A PGlite index is locked for the command's duration (core/archive/directory-lock.ts): the
 * CLI refuses to run while a Lightbox owns it.
 */
import type { Config } from '../config/schema.js';
import { createIndexStore } from '../core/archive/create-index-store.js';
import { createArchiveObjectStore } from '../core/data-rights/regions.js';
import type { ObjectStore } from '../core/archive/object-store.js';
import type { SqlIndexStore } from '../core/archive/sql-index-store.js';

export interface CliArchive {
  objects: ObjectStore;
  index: SqlIndexStore;
  close(): Promise<void>;
}

export async function openArchive(config: Readonly<Config>, purpose: string): Promise<CliArchive> {
  const index = await createIndexStore(config.index, { purpose });
  let objects: ObjectStore;
  try {
    await index.migrate();
    objects = await createArchiveObjectStore(config); // with dataRights.regions, every region
  } catch (error) {
    await index.close();
    throw error;
  }
  return {
    objects,
    index,
    async close() {
      await objects.close();
      await index.close();
    },
  };
}

/** Runs `fn` on the opened archive and closes it whatever happens. */
export async function withArchive<T>(
  config: Readonly<Config>,
  purpose: string,
  fn: (archive: CliArchive) => Promise<T>,
): Promise<T> {
  const archive = await openArchive(config, purpose);
  try {
    return await fn(archive);
  } finally {
    await archive.close();
  }
}
