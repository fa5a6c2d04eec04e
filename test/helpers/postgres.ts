/**
 * A database of its own for each test file, on the PostgreSQL server at 127.0.0.1:5432 (user
 * postgres, trust authentication). LIGHTBOX_TEST_POSTGRES_URL points elsewhere (an admin URL).
 *
 * ```ts
 * if (await requirePostgres(test)) {
 *   test.before(async (t) => { const db = await createTestDatabase(); t.teardown(db.drop); … });
 * }
 * ```
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestFn } from 'ava';
import { requireService } from './tools.js';

const ADMIN_URL =
  process.env.LIGHTBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Connects once to the admin database; rejects when PostgreSQL does not answer. */
export function probePostgres(): Promise<void> {
  return withAdmin(async (client) => void (await client.query('SELECT 1')));
}

/** requireService for the test PostgreSQL server (skip locally, fail under CI=true). */
export function requirePostgres<Context>(test: TestFn<Context>): Promise<boolean> {
  return requireService(test, 'PostgreSQL at ' + new URL(ADMIN_URL).host, probePostgres);
}

/** CREATE DATABASE lightbox_test_<random> and return its URL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `lightbox_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
