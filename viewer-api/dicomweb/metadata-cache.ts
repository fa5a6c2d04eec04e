/**
 * WADO-RS metadata responses as sent (the DICOM JSON array of a study, series or instance, UTF-8),
 * kept in memory with the version of the target they were built from, so that a viewer opening a
 * study again (OHIF asks for the study's metadata every time) costs one small index query (the
 * target's version) instead of reading and printing every stored header. Keys name the target (its
 * UIDs, the series the caller may read) and the base URL the BulkDataURIs were built with; an entry
 * is served only while the index reports the same version, so a new instance or a rectified header
 * is never served stale. Least recently used entries go first once the bodies exceed `maxBytes`.
 */

/** 64 MiB: the metadata of about 150 studies of 300 CT instances. */
export const DEFAULT_METADATA_CACHE_BYTES = 64 * 1024 * 1024;

export interface CachedMetadata {
  /** The target's version (IndexStore.targetVersion) when the body was built. */
  version: string;
  body: Buffer;
}

export class MetadataCache {
  private readonly entries = new Map<string, CachedMetadata>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_METADATA_CACHE_BYTES) {}

  static key(base: string, target: object): string {
    return `${base} ${JSON.stringify(target)}`;
  }

  get(key: string): CachedMetadata | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedMetadata): void {
    this.delete(key);
    if (entry.body.length > this.maxBytes) return;
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.body.length;
    }
  }

  delete(key: string): void {
    const previous = this.entries.get(key);
    if (previous === undefined) return;
    this.entries.delete(key);
    this.bytes -= previous.body.length;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
