/**
 * Builds the ObjectStore adapter named by the `objects` configuration and readies it: creates the
 * directory (fs) or the bucket (s3) when absent, so that the first putObject does not have to.
 */
import type { ObjectsConfig } from '../../config/schema.js';
import { FsObjectStore } from './fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/** Resolves to a ready store; StorageUnavailable when the directory or bucket cannot be made. */
export async function createObjectStore(config: ObjectsConfig): Promise<ObjectStore> {
  const store =
    config.kind === 'fs' ? new FsObjectStore(config.directory) : new S3ObjectStore(config);
  try {
    await store.init();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
