/**
 * multipart/related (RFC 2387 over RFC 2046 §5.1), streamed both ways, as DICOMweb uses it (PS3.18
 * §8.6.1.2): the writer yields each part's bytes as the consumer reads them, the parser hands each
 * part on as a stream and waits for it to be consumed before reading further. Neither ever holds more
 * than one chunk of a part: a whole study never sits in memory.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { LightboxError } from '../../core/errors.js';

const CRLF = Buffer.from('\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

export interface OutgoingPart {
  /** Part header fields, e.g. { 'Content-Type': 'application/dicom; transfer-syntax=…' }. */
  headers: Record<string, string>;
  /** The body: bytes, or a stream opened when the part's turn comes. */
  body: Buffer | (() => Promise<Readable>);
}

/** A boundary no DICOM byte sequence is likely to contain (RFC 2046 §5.1.1: up to 70 characters). */
export function newBoundary(): string {
  return `lightbox-${randomBytes(18).toString('hex')}`;
}

/** Content-Type of a multipart/related response whose parts are `partType` (PS3.18 §8.7.3.3). */
export function multipartContentType(partType: string, boundary: string): string {
  return `multipart/related; type="${partType}"; boundary=${boundary}`;
}

/**
 * The body of a multipart/related message: parts in order, each stream opened only when the previous
 * one has been sent, and read only as fast as the client reads (Readable.from pulls on demand).
 */
export function multipartBody(parts: AsyncIterable<OutgoingPart>, boundary: string): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const part of parts) {
      const fields = Object.entries(part.headers).map(([name, value]) => `${name}: ${value}\r\n`);
      yield Buffer.from(`--${boundary}\r\n${fields.join('')}\r\n`, 'latin1');
      if (Buffer.isBuffer(part.body)) yield part.body;
      else {
        const body = await part.body();
        try {
          for await (const chunk of body) yield chunk as Buffer;
        } finally {
          body.destroy();
        }
      }
      yield CRLF;
    }
    yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
  }
  return Readable.from(generate(), { objectMode: false });
}

export interface IncomingPart {
  /** Header field names in lower case. */
  headers: Record<string, string>;
  /** The part's body; it must be read to the end (or destroyed) for parsing to go on. */
  body: Readable;
}

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';

/**
 * A Writable that parses a multipart body and calls `onPart` for each part as soon as its header is
 * read. Backpressure: bytes are written into the part's stream, and parsing waits on its 'drain'.
 * Ends with an error when the body stops before the close delimiter.
 */
export class MultipartParser extends Writable {
  private state: State = 'preamble';
  /** Bytes not yet consumed. The preamble starts with a virtual CRLF so one delimiter rule fits all. */
  private pending: Buffer = Buffer.from(CRLF);
  private readonly delimiter: Buffer;
  private part: PassThrough | undefined;
  parts = 0;

  constructor(
    boundary: string,
    private readonly onPart: (part: IncomingPart) => void,
  ) {
    super();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.consume().then(() => done(), done);
  }

  override _final(done: (error?: Error) => void): void {
    if (this.state === 'epilogue') return done();
    const error = new LightboxError('BadRequest', 'multipart body ends before its close delimiter');
    this.part?.destroy(error);
    done(error);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.part?.destroy(error ?? undefined);
    done(error);
  }

  private async consume(): Promise<void> {
    for (;;) {
      switch (this.state) {
        case 'preamble':
        case 'body': {
          const at = this.pending.indexOf(this.delimiter);
          const safe = at >= 0 ? at : Math.max(0, this.pending.length - this.delimiter.length + 1);
          if (this.state === 'body' && safe > 0) await this.forward(this.pending.subarray(0, safe));
          if (at < 0) {
            this.pending = this.pending.subarray(safe);
            return;
          }
          this.pending = this.pending.subarray(at + this.delimiter.length);
          this.part?.end();
          this.part = undefined;
          this.state = 'delimiter';
          break;
        }
        case 'delimiter': {
          // "--" closes; otherwise optional transport padding, then CRLF (RFC 2046 §5.1.1).
          if (this.pending.length < 2) return;
          if (this.pending[0] === 0x2d && this.pending[1] === 0x2d) {
            this.state = 'epilogue';
            break;
          }
          const eol = this.pending.indexOf(CRLF);
          if (eol < 0) return this.limit(this.pending.length);
          if (this.pending.subarray(0, eol).toString('latin1').trim() !== '') {
            throw new LightboxError('BadRequest', 'malformed multipart delimiter line');
          }
          this.pending = this.pending.subarray(eol + 2);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          const end = this.pending.subarray(0, 2).equals(CRLF)
            ? 0
            : this.pending.indexOf('\r\n\r\n');
          if (end < 0) return this.limit(this.pending.length);
          const block = this.pending.subarray(0, end).toString('latin1');
          this.pending = this.pending.subarray(end === 0 ? 2 : end + 4);
          this.startPart(block);
          this.state = 'body';
          break;
        }
        case 'epilogue':
          this.pending = Buffer.alloc(0);
          return;
      }
    }
  }

  private limit(length: number): void {
    if (length > MAX_HEADER_BYTES)
      throw new LightboxError('BadRequest', 'multipart header too long');
  }

  private startPart(block: string): void {
    const headers: Record<string, string> = {};
    for (const line of block.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.part = new PassThrough({ highWaterMark: 256 * 1024 });
    this.parts++;
    this.onPart({ headers, body: this.part });
  }

  /** Writes into the current part, waiting for it to drain (or be destroyed by its consumer). */
  private async forward(bytes: Buffer): Promise<void> {
    const part = this.part;
    if (!part || part.destroyed) return;
    if (part.write(bytes)) return;
    await new Promise<void>((resolve) => {
      const settle = () => {
        part.off('drain', settle);
        part.off('close', settle);
        resolve();
      };
      part.on('drain', settle);
      part.on('close', settle);
    });
  }
}

/** The boundary of a multipart Content-Type; BadRequest when there is none. */
export function boundaryOf(params: Record<string, string>): string {
  const boundary = params.boundary;
  if (!boundary || boundary.length > 200) {
    throw new LightboxError('BadRequest', 'multipart/related Content-Type without a boundary');
  }
  return boundary;
}
