/**
 * WADO-RS metadata responses, kept in memory with the version of the target they were built from,
 * so that a viewer opening a study again (OHIF asks for the study's metadata every time) costs one
 * small index query (the target's version) instead of reading and printing every stored header.
 * Keys name the target (its UIDs and the series the caller may read); an entry is served only while
 * the index reports the same version, so a new instance or a rectified header is never served
 * stale. Least recently used entries go first once the bodies exceed `maxBytes`.
 *
 * A kept body is base-free (MetadataBody): its BulkDataURIs are absolute (PS3.18 §F.2.6), and the
 * base URL they start with depends on how the request reached us (Host, a share link's root), so
 * the body is kept as the text between the base URLs and rendered for a base when asked. That is
 * also what lets a study be built before anyone asks for it (metadata-warmer.ts), when no request
 * has said which base to use.
 */
import type { RetrieveTarget } from '../../core/archive/index-store.js';

/** 64 MiB: the metadata of about 75 studies of 300 CT instances (template and one rendering each). */
export const DEFAULT_METADATA_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * A response with its base URL left open: the parts between the places the base goes. The base is
 * written JSON-escaped (every place is inside a JSON string). The last rendering is kept: one base
 * serves nearly every request of a deployment.
 */
export class MetadataBody {
  private readonly parts: Buffer[];
  private rendered: { base: string; body: Buffer } | undefined;
  /** The parts' bytes, and once rendered about as many again. */
  readonly bytes: number;

  constructor(parts: readonly string[]) {
    this.parts = parts.map((part) => Buffer.from(part));
    this.bytes = 2 * this.parts.reduce((n, part) => n + part.length, 0);
  }

  /** Splits `text` at each occurrence of `placeholder`. */
  static fromTemplate(text: string, placeholder: string): MetadataBody {
    return new MetadataBody(text.split(placeholder));
  }

  /** The response for `base` (the DICOMweb root URL the request came through). */
  render(base: string): Buffer {
    if (this.rendered?.base === base) return this.rendered.body;
    const escaped = Buffer.from(JSON.stringify(base).slice(1, -1));
    const list: Buffer[] = [];
    this.parts.forEach((part, i) => {
      if (i > 0) list.push(escaped);
      list.push(part);
    });
    const body = Buffer.concat(list);
    this.rendered = { base, body };
    return body;
  }
}

export interface CachedMetadata {
  /** The target's version (IndexStore.targetVersion) when the body was built. */
  version: string;
  body: MetadataBody;
}

export class MetadataCache {
  private readonly entries = new Map<string, CachedMetadata>();
  private bytes = 0;

  constructor(readonly maxBytes = DEFAULT_METADATA_CACHE_BYTES) {}

  /** The target's UIDs and its readable series (in any order: a set). */
  static key(target: RetrieveTarget): string {
    return [
      target.StudyInstanceUID,
      target.SeriesInstanceUID ?? '',
      target.SOPInstanceUID ?? '',
      [...(target.SeriesInstanceUIDs ?? [])].sort().join(','),
    ].join(' ');
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

  /** The entry without making it the most recently used. */
  peek(key: string): CachedMetadata | undefined {
    return this.entries.get(key);
  }

  /**
   * Keeps `entry`, evicting the least recently used ones to make room; with `evict: false` it is
   * kept only if it fits beside the others (false otherwise).
   */
  set(key: string, entry: CachedMetadata, options: { evict?: boolean } = {}): boolean {
    const size = entry.body.bytes;
    const previous = this.entries.get(key)?.body.bytes ?? 0;
    if (size > this.maxBytes) {
      this.delete(key);
      return false;
    }
    if (options.evict === false && this.bytes - previous + size > this.maxBytes) return false;
    this.delete(key);
    this.entries.set(key, entry);
    this.bytes += size;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.body.bytes;
    }
    return true;
  }

  delete(key: string): void {
    const previous = this.entries.get(key);
    if (previous === undefined) return;
    this.entries.delete(key);
    this.bytes -= previous.body.bytes;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
