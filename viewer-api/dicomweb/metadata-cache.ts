/**
 * The DICOM JSON text of instances as WADO-RS metadata serves it (BulkDataURIs filled in, pixel
 * data added), kept in memory so that a viewer opening a study again (OHIF asks for the study's
 * metadata every time) costs a light index query instead of reading and printing every stored
 * header. Keys name the instance's index row version (xmin), so a rectified header is never served
 * stale, and the base URL its URIs were built with. Least recently used entries go first once the
 * texts exceed `maxChars`.
 */
import type { InstanceVersion } from '../../core/archive/index-store.js';

/** 64 Mi characters: the headers of about 40,000 CT instances. */
export const DEFAULT_METADATA_CACHE_CHARS = 64 * 1024 * 1024;

/** Targets remembered as read once (a few hundred bytes each); the set restarts past this. */
const KNOWN_TARGETS = 10_000;

export class MetadataCache {
  private readonly texts = new Map<string, string>();
  private readonly targets = new Set<string>();
  private chars = 0;

  constructor(private readonly maxChars = DEFAULT_METADATA_CACHE_CHARS) {}

  static key(base: string, instance: Pick<InstanceVersion, 'SOPInstanceUID' | 'version'>): string {
    return `${base} ${instance.SOPInstanceUID} ${instance.version}`;
  }

  /**
   * Whether this target (study, series or instance, as one key) was read since the cache began. A
   * target never read has nothing cached, so its first request reads the headers at once instead
   * of listing versions first; an evicted target merely takes the two-query path.
   */
  knowsTarget(key: string): boolean {
    return this.targets.has(key);
  }

  rememberTarget(key: string): void {
    if (this.targets.size >= KNOWN_TARGETS) this.targets.clear();
    this.targets.add(key);
  }

  get(key: string): string | undefined {
    const text = this.texts.get(key);
    if (text !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used.
      this.texts.delete(key);
      this.texts.set(key, text);
    }
    return text;
  }

  set(key: string, text: string): void {
    if (text.length > this.maxChars) return;
    const previous = this.texts.get(key);
    if (previous !== undefined) this.chars -= previous.length;
    this.texts.delete(key);
    this.texts.set(key, text);
    this.chars += text.length;
    for (const [oldest, value] of this.texts) {
      if (this.chars <= this.maxChars) break;
      this.texts.delete(oldest);
      this.chars -= value.length;
    }
  }

  get size(): { entries: number; chars: number } {
    return { entries: this.texts.size, chars: this.chars };
  }
}
