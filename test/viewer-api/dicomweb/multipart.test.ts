/**
 * multipart/related both ways (RFC 2046 §5.1): what the writer writes, the parser reads back part by
 * part, whatever the chunking (delimiters split across chunks, one byte at a time), with preambles,
 * transport padding, bodies that look like delimiters and empty parts; a body cut before its close
 * delimiter fails.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  MultipartParser,
  multipartBody,
  multipartLength,
  newBoundary,
  type IncomingPart,
} from '../../../viewer-api/dicomweb/multipart.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses `message` fed in chunks of `size` bytes; each part's body read fully. */
async function parse(message: Buffer, boundary: string, size: number) {
  const parts: Array<Promise<{ headers: Record<string, string>; body: Buffer }>> = [];
  const parser = new MultipartParser(boundary, (part: IncomingPart) =>
    parts.push(collect(part.body).then((body) => ({ headers: part.headers, body }))),
  );
  const chunks: Buffer[] = [];
  for (let i = 0; i < message.length; i += size) chunks.push(message.subarray(i, i + size));
  await pipeline(Readable.from(chunks), parser);
  return Promise.all(parts);
}

test('what the writer writes, the parser reads back, for any chunk size', async (t) => {
  const boundary = newBoundary();
  const bodies = [
    randomBytes(70_000),
    Buffer.alloc(0),
    Buffer.from(`\r\n--${boundary.slice(0, -1)}`),
    randomBytes(3),
  ];
  const message = await collect(
    multipartBody(
      (async function* () {
        for (const [i, body] of bodies.entries()) {
          yield {
            headers: { 'Content-Type': 'application/dicom', 'X-Index': String(i) },
            body:
              i % 2 ? body : async () => Readable.from([body.subarray(0, 10), body.subarray(10)]),
          };
        }
      })(),
      boundary,
    ),
  );
  t.true(message.subarray(0, boundary.length + 2).equals(Buffer.from(`--${boundary}`)));
  for (const size of [1, 2, 7, boundary.length + 3, 4096, message.length]) {
    const parts = await parse(message, boundary, size);
    t.is(parts.length, bodies.length, `chunk ${size}`);
    parts.forEach((part, i) => {
      t.true(part.body.equals(bodies[i]), `chunk ${size} part ${i}`);
      t.is(part.headers['content-type'], 'application/dicom');
      t.is(part.headers['x-index'], String(i));
    });
  }
});

test('multipartLength is the length of what the writer writes (the retrieve Content-Length)', async (t) => {
  const boundary = newBoundary();
  const parts: Array<{ headers: Record<string, string>; size: number }> = [
    {
      headers: { 'Content-Type': 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1' },
      size: 1_500_000,
    },
    { headers: { 'Content-Type': 'application/dicom', 'Content-Location': 'http://x/é' }, size: 0 },
    { headers: {}, size: 3 },
  ];
  const bodies = parts.map((p) => randomBytes(p.size));
  const message = await collect(
    multipartBody(
      (async function* () {
        for (const [i, part] of parts.entries()) {
          yield { headers: part.headers, body: async () => Readable.from([bodies[i]]) };
        }
      })(),
      boundary,
    ),
  );
  t.is(multipartLength(parts, boundary), message.length);
  t.is(multipartLength([], boundary), `--${boundary}--\r\n`.length);
});

test('a preamble, a leading CRLF (dicomweb-client), transport padding and an epilogue are skipped', async (t) => {
  const boundary = 'b0undary';
  const message = Buffer.from(
    `preamble text\r\n--${boundary}  \t\r\nContent-Type: application/dicom\r\n\r\nONE\r\n` +
      `--${boundary}\r\n\r\nTWO\r\n--${boundary}--\r\nepilogue`,
  );
  const parts = await parse(message, boundary, 5);
  t.deepEqual(
    parts.map((p) => p.body.toString()),
    ['ONE', 'TWO'],
  );
  t.deepEqual(parts[1].headers, {});
  const leading = Buffer.from(
    `\r\n--${boundary}\r\nContent-Type: application/dicom\r\n\r\nX\r\n--${boundary}--`,
  );
  t.deepEqual(
    (await parse(leading, boundary, 3)).map((p) => p.body.toString()),
    ['X'],
  );
});

test('a body that ends before the close delimiter fails the part and the parse', async (t) => {
  const boundary = 'cut';
  const message = Buffer.from(`--${boundary}\r\n\r\nwhole\r\n--${boundary}\r\n\r\nhalf of it`);
  const seen: Array<Promise<unknown>> = [];
  const parser = new MultipartParser(boundary, (part) => seen.push(collect(part.body)));
  await t.throwsAsync(pipeline(Readable.from([message]), parser), { message: /close delimiter/ });
  const results = await Promise.allSettled(seen);
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].status, 'rejected');
});

test('the parser waits for a slow consumer (backpressure): it never runs ahead of a part', async (t) => {
  const boundary = newBoundary();
  const big = randomBytes(8 * 1024 * 1024);
  const message = await collect(
    multipartBody(
      (async function* () {
        yield { headers: {}, body: big };
      })(),
      boundary,
    ),
  );
  let fed = 0;
  let bufferedMax = 0;
  const parser = new MultipartParser(boundary, (part) => {
    part.body.pause();
    const timer = setInterval(() => {
      bufferedMax = Math.max(bufferedMax, part.body.readableLength);
      part.body.read(64 * 1024);
    }, 1);
    part.body.once('end', () => clearInterval(timer));
    part.body.once('close', () => clearInterval(timer));
    part.body.on('data', () => undefined);
  });
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < message.length; i += 65536) {
        fed += 65536;
        yield message.subarray(i, i + 65536);
      }
    })(),
  );
  await pipeline(source, parser);
  t.true(fed >= message.length);
  t.true(bufferedMax <= 1024 * 1024, `at most ${bufferedMax} bytes waited in a part`);
});

test('a part that fails while it waits its turn (opened ahead) fails the message, and nothing is left open', async (t) => {
  const boundary = newBoundary();
  const opened: Readable[] = [];
  const failing = () =>
    new Readable({
      read() {
        this.destroy(new Error('object vanished'));
      },
    });
  const message = multipartBody(
    (async function* () {
      for (let i = 0; i < 4; i++) {
        yield {
          headers: { 'X-Index': String(i) },
          body: async () => {
            const body = i === 1 ? failing() : Readable.from([randomBytes(100_000)]);
            opened.push(body);
            return body;
          },
        };
      }
    })(),
    boundary,
  );
  await t.throwsAsync(collect(message), { message: 'object vanished' });
  t.true(opened.length <= 3, 'parts are opened at most one ahead');
  t.true(opened.every((body) => body.destroyed));
});
