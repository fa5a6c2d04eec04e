/**
 * The object store port: stored instances, byte for byte. Keys are pure functions of the UIDs
 * (see objectKey) so that a retry writes the same key.
 */
import type { Readable } from 'node:stream';

export interface ObjectStat {
  size: number;
}

/** One object of a listing. */
export interface ListedObject {
  key: string;
  size: number;
}

export interface ByteRange {
  /** Inclusive first byte. */
  start: number;
  /** Inclusive last byte. */
  end: number;
}

export interface ObjectStore {
  /** Streams `body` (exactly `size` bytes) to `key`; the object is visible only once complete. */
  putObject(key: string, body: Readable, size: number): Promise<void>;
  /**
   * Stores the complete local file `filePath` (exactly `size` bytes) at `key`. A store on the same
   * file system may share the file's storage (a hard link: no copy); the caller may unlink its own
   * name afterwards but must not modify the file.
   */
  putFile(key: string, filePath: string, size: number): Promise<void>;
  getObject(key: string, range?: ByteRange): Promise<Readable>;
  /** null when absent. */
  statObject(key: string): Promise<ObjectStat | null>;
  /**
   * Every object whose key starts with `prefix` (e.g. 'studies/'), streamed page by page in no
   * particular order: for the CLI's verify and reindex, never for a request path.
   */
  listObjects(prefix: string): AsyncIterable<ListedObject>;
  /** Idempotent: removing an absent key succeeds. */
  removeObject(key: string): Promise<void>;
  /** Fails with StorageUnavailable when the store cannot be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The key of an instance: studies/<StudyInstanceUID>/series/<SeriesInstanceUID>/<SOPInstanceUID>.dcm */
export function objectKey(uids: {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
}): string {
  return `studies/${uids.StudyInstanceUID}/series/${uids.SeriesInstanceUID}/${uids.SOPInstanceUID}.dcm`;
}

/** Where the bytes of a conflicting re-send are kept (never over the first). */
export function conflictObjectKey(SOPInstanceUID: string, sha256: string): string {
  return `conflicts/${SOPInstanceUID}/${sha256}.dcm`;
}
