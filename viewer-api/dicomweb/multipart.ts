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

/** The delimiter line and header fields that open a part (RFC 2046 §5.1.1). */
function partHead(boundary: string, headers: Record<string, string>): Buffer {
  let head = `--${boundary}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

function closeDelimiter(boundary: string): Buffer {
  return Buffer.from(`--${boundary}--\r\n`, 'latin1');
}

/**
 * The byte length of the message multipartBody writes for parts with these header fields and body
 * sizes, so that a response can carry Content-Length instead of chunked transfer coding.
 */
export function multipartLength(
  parts: Iterable<{ headers: Record<string, string>; size: number }>,
  boundary: string,
): number {
  let length = closeDelimiter(boundary).length;
  for (const part of parts) {
    length += partHead(boundary, part.headers).length + part.size + CRLF.length;
  }
  return length;
}

/**
 * The body of a multipart/related message: parts in order, read only as fast as the client reads.
 * A part's chunks are passed on as they come (its stream paused while the consumer is full), without
 * a promise per chunk, and while one part streams the next is already opened with its first chunk
 * read, so that opening thousands of small objects one after another (a WADO-RS study retrieve)
 * leaves no gaps. At most two part streams are open at a time: a study never sits in memory.
 */
export function multipartBody(parts: AsyncIterable<OutgoingPart>, boundary: string): Readable {
  return new MultipartStream(parts[Symbol.asyncIterator](), boundary);
}

/** A part ready to send: its delimiter and header, and its body opened (or in memory). */
type OpenedPart = { head: Buffer; body: Readable | Buffer } | 'end';

class MultipartStream extends Readable {
  /** The part body being passed on, paused while the consumer is full. */
  private body: Readable | undefined;
  /** The part after the current one, being opened. */
  private upcoming: Promise<OpenedPart> | undefined;
  /** Waiting for a part to open. */
  private waiting = false;
  private done = false;

  constructor(
    private readonly parts: AsyncIterator<OutgoingPart>,
    private readonly boundary: string,
  ) {
    super();
  }

  override _read(): void {
    if (this.body) this.body.resume();
    else if (!this.waiting && !this.done) void this.sendNextPart();
  }

  /** Opens the next part and starts reading its body into the body's own buffer. */
  private async open(): Promise<OpenedPart> {
    const step = await this.parts.next();
    if (step.done) return 'end';
    const part = step.value;
    const head = partHead(this.boundary, part.headers);
    if (Buffer.isBuffer(part.body)) return { head, body: part.body };
    const body = await part.body();
    if (this.destroyed) {
      body.destroy();
      return 'end';
    }
    // Any part failing fails the message, whether it streams now or waits its turn.
    body.once('error', (error) => this.destroy(error));
    body.read(0); // the first chunk is read now, while the current part is sent
    return { head, body };
  }

  private openAhead(): void {
    this.upcoming = this.open();
    // A failure is reported when the part's turn comes (sendNextPart awaits it).
    this.upcoming.catch(() => {});
  }

  private async sendNextPart(): Promise<void> {
    this.waiting = true;
    let opened: OpenedPart;
    try {
      opened = await (this.upcoming ?? this.open());
    } catch (error) {
      this.destroy(error as Error);
      return;
    } finally {
      this.upcoming = undefined;
      this.waiting = false;
    }
    if (this.destroyed) {
      if (opened !== 'end' && !Buffer.isBuffer(opened.body)) opened.body.destroy();
      return;
    }
    if (opened === 'end') {
      this.done = true;
      this.push(closeDelimiter(this.boundary));
      this.push(null);
      return;
    }
    this.openAhead();
    const { head, body } = opened;
    if (Buffer.isBuffer(body)) {
      this.push(Buffer.concat([head, body, CRLF]));
      return;
    }
    this.push(head);
    this.body = body;
    body.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) body.pause();
    });
    body.once('end', () => {
      this.body = undefined;
      body.destroy();
      // The CRLF ends the part; the next one is sent on the consumer's next read.
      if (this.push(CRLF)) void this.sendNextPart();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.body?.destroy();
    this.body = undefined;
    this.done = true;
    void this.upcoming?.then(
      (opened) => {
        if (opened !== 'end' && !Buffer.isBuffer(opened.body)) opened.body.destroy();
      },
      () => {},
    );
    void this.parts.return?.(undefined)?.catch(() => {});
    callback(error);
  }
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
