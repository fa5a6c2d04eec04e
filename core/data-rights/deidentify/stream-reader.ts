/**
 * Reads a byte stream in exact amounts: small reads (element headers, short values) come back as one
 * Buffer, long values go through `take()` chunk by chunk so that pixel data is never held whole.
 * `position` counts the bytes consumed, for items and sequences of defined length.
 */
import { LightboxError } from '../../errors.js';

export class StreamReader {
  position = 0;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer | Uint8Array>;

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length));
        this.buffered += next.value.length;
      }
    }
    return this.buffered >= n;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  async read(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw truncated();
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    this.position += n;
    return all.subarray(0, n);
  }

  /** The next n bytes, as the chunks they arrived in. */
  async *take(n: number): AsyncGenerator<Buffer> {
    while (n > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw truncated();
      const head = this.chunks[0];
      const k = Math.min(n, head.length);
      yield head.subarray(0, k);
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
      this.buffered -= k;
      this.position += k;
      n -= k;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const chunk of this.take(n)) void chunk;
  }
}

function truncated(): LightboxError {
  return new LightboxError('InvalidDataset', 'DICOM object is truncated');
}
