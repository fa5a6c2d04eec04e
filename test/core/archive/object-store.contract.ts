/**
 * THE ObjectStore contract: every adapter (fs, s3) runs these same tests, declared by
 * objectStoreContract(test, name, factory) from its own test file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { TestFn } from 'ava';
import type { ObjectStore } from '../../../core/archive/object-store.js';

/** A store plus a way to list every key (and leftover temporary file or object) under a prefix. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  listKeys(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

/** Streams `data` in 64 KiB chunks, as a file or socket would. */
export function bodyOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, i + chunkSize);
    })(),
  );
}

/** Yields `first`, then fails with `error`: a client or disk that gives up half way. */
function failingBody(first: Buffer, error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield first;
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw error;
    })(),
  );
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function read(store: ObjectStore, key: string, range?: { start: number; end: number }) {
  return buffer(await store.getObject(key, range));
}

/** Compare bytes by length and digest: ava's diff of two megabyte buffers is unreadable. */
const digest = (data: Buffer) => ({ length: data.length, sha256: sha256(data) });

export function objectStoreContract(
  test: TestFn,
  adapter: string,
  createFixture: () => Promise<ObjectStoreFixture>,
): void {
  let fixture: ObjectStoreFixture;
  let counter = 0;
  /** Each test writes under its own prefix, so they can run concurrently on one store. */
  const prefix = () => `${adapter}-${++counter}-${randomBytes(4).toString('hex')}`;

  test.before(async () => {
    fixture = await createFixture();
  });
  test.after.always(async () => {
    await fixture?.close();
  });

  test(`${adapter}: put then get returns the bytes unchanged (5 MB, sha256)`, async (t) => {
    const data = randomBytes(5 * MiB);
    const key = `${prefix()}/a.dcm`;
    await fixture.store.putObject(key, bodyOf(data), data.length);
    t.is(sha256(await read(fixture.store, key)), sha256(data));
    t.deepEqual(await fixture.store.statObject(key), { size: data.length });
  });

  test(`${adapter}: inclusive byte ranges`, async (t) => {
    const data = randomBytes(MiB);
    const key = `${prefix()}/r.dcm`;
    await fixture.store.putObject(key, bodyOf(data), data.length);
    const range = async (start: number, end: number) =>
      digest(await read(fixture.store, key, { start, end }));
    const last = data.length - 1;
    // Not (0, 0): s3rver 3.7 reads the end of `bytes=0-0` as absent and sends the whole object.
    t.deepEqual(await range(0, 9), digest(data.subarray(0, 10)));
    t.deepEqual(await range(1000, 70_999), digest(data.subarray(1000, 71_000)));
    t.deepEqual(await range(last, last), digest(data.subarray(last)));
    // As in HTTP (RFC 9110 §14.1.2), an end past the object is clamped to its last byte.
    t.deepEqual(await range(last - 9, last + 100), digest(data.subarray(-10)));
    await t.throwsAsync(range(data.length, data.length + 5), { code: 'NotFound' });
    await t.throwsAsync(range(5, 4), { code: 'Internal' });
  });

  test(`${adapter}: stat is null and get is NotFound for an absent key`, async (t) => {
    const key = `${prefix()}/absent.dcm`;
    t.is(await fixture.store.statObject(key), null);
    await t.throwsAsync(fixture.store.getObject(key), { code: 'NotFound' });
  });

  test(`${adapter}: remove is idempotent`, async (t) => {
    const key = `${prefix()}/gone.dcm`;
    await fixture.store.removeObject(key);
    await fixture.store.putObject(key, bodyOf(Buffer.from('bytes')), 5);
    await fixture.store.removeObject(key);
    await fixture.store.removeObject(key);
    t.is(await fixture.store.statObject(key), null);
  });

  test(`${adapter}: a body that fails half way leaves nothing behind`, async (t) => {
    const base = prefix();
    const boom = new Error('client went away');
    const error = await t.throwsAsync(
      fixture.store.putObject(`${base}/x.dcm`, failingBody(randomBytes(MiB), boom), 2 * MiB),
    );
    t.is(error, boom, 'the caller sees its own stream error');
    t.is(await fixture.store.statObject(`${base}/x.dcm`), null);
    t.deepEqual(await fixture.listKeys(base), []);
  });

  test(`${adapter}: a body of the wrong size is rejected and leaves nothing`, async (t) => {
    const base = prefix();
    const data = randomBytes(100_000);
    for (const announced of [data.length + 1, data.length - 1, 0]) {
      await t.throwsAsync(
        fixture.store.putObject(`${base}/w.dcm`, bodyOf(data), announced),
        { code: 'InvalidDataset' },
        `announced ${announced}`,
      );
    }
    t.deepEqual(await fixture.listKeys(base), []);
  });

  test(`${adapter}: an empty object`, async (t) => {
    const key = `${prefix()}/empty.dcm`;
    await fixture.store.putObject(key, bodyOf(Buffer.alloc(0)), 0);
    t.deepEqual(await fixture.store.statObject(key), { size: 0 });
    t.is((await read(fixture.store, key)).length, 0);
  });

  test(`${adapter}: a retry overwrites the key with the complete object`, async (t) => {
    const key = `${prefix()}/again.dcm`;
    const data = randomBytes(300_000);
    await fixture.store.putObject(key, bodyOf(data.subarray(0, 10)), 10);
    await fixture.store.putObject(key, bodyOf(data), data.length);
    t.is(sha256(await read(fixture.store, key)), sha256(data));
  });

  test(`${adapter}: concurrent puts of different keys`, async (t) => {
    const base = prefix();
    const objects = Array.from({ length: 12 }, (_, i) => ({
      key: `${base}/series/${i}.dcm`,
      data: randomBytes(200_000 + i * 1000),
    }));
    await Promise.all(
      objects.map((o) => fixture.store.putObject(o.key, bodyOf(o.data), o.data.length)),
    );
    for (const o of objects) t.is(sha256(await read(fixture.store, o.key)), sha256(o.data), o.key);
    t.deepEqual((await fixture.listKeys(base)).sort(), objects.map((o) => o.key).sort());
  });

  test(`${adapter}: keys that could escape the store are refused`, async (t) => {
    for (const key of ['../x.dcm', '/etc/x', 'a//b', 'a/./b', 'a/../b', 'a b', '', 'a\\b']) {
      await t.throwsAsync(fixture.store.statObject(key), { code: 'Internal' }, key);
      await t.throwsAsync(
        fixture.store.putObject(key, bodyOf(Buffer.from('x')), 1),
        { code: 'Internal' },
        key,
      );
    }
  });

  test(`${adapter}: listObjects lists every object under a prefix with its size`, async (t) => {
    const base = prefix();
    const sizes: Record<string, number> = {
      [`${base}/studies/1/series/2/3.dcm`]: 10,
      [`${base}/studies/1/series/2/4.dcm`]: 0,
      [`${base}/studies/5/series/6/7.dcm`]: 3000,
      [`${base}/conflicts/3/abc.dcm`]: 7,
    };
    for (const [key, size] of Object.entries(sizes)) {
      await fixture.store.putObject(key, bodyOf(randomBytes(size)), size);
    }
    const listed: Record<string, number> = {};
    for await (const o of fixture.store.listObjects(`${base}/studies/`)) listed[o.key] = o.size;
    const expected = Object.fromEntries(
      Object.entries(sizes).filter(([k]) => k.startsWith(`${base}/studies/`)),
    );
    t.deepEqual(listed, expected);
    const none: string[] = [];
    for await (const o of fixture.store.listObjects(`${base}/nothing/`)) none.push(o.key);
    t.deepEqual(none, []);
  });

  test(`${adapter}: ping`, async (t) => {
    await t.notThrowsAsync(fixture.store.ping());
  });
}
