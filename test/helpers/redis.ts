/**
 * Redis for tests: the server at 127.0.0.1:6379 (LIGHTBOX_TEST_REDIS_URL points elsewhere). Each
 * test file works under its own key prefix and deletes its keys at teardown, so files can run at
 * once.
 *
 * ```ts
 * if (await requireRedis(test)) {
 *   const prefix = testPrefix();
 *   test.after.always(() => deleteKeys(prefix));
 *   …
 * }
 * ```
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { TestFn } from 'ava';
import { requireService } from './tools.js';

export const TEST_REDIS_URL = process.env.LIGHTBOX_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own (`lbtest-<random>`); BullMQ forbids ':' in it. */
export function testPrefix(): string {
  return `lbtest-${randomBytes(6).toString('hex')}`;
}

/** PINGs the test server once; rejects when it does not answer. */
export function probeRedis(): Promise<void> {
  return withClient(async (client) => void (await client.ping()));
}

/** requireService for the test Redis server (skip locally, fail under CI=true). */
export function requireRedis<Context>(test: TestFn<Context>): Promise<boolean> {
  return requireService(test, 'Redis at ' + new URL(TEST_REDIS_URL).host, probeRedis);
}

/** Deletes every key under `<prefix>:`; returns how many. */
export function deleteKeys(prefix: string): Promise<number> {
  return withClient(async (client) => {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  });
}

/** Number of keys under `<prefix>:` (to check that teardown left nothing). */
export function countKeys(prefix: string): Promise<number> {
  return withClient(async (client) => (await client.keys(`${prefix}:*`)).length);
}

async function withClient<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}
