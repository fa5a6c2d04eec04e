/**
 * SqlIndexStore on the PostgreSQL server (a database of its own per contract run) against the
 * IndexStore contract. Skipped when PostgreSQL is not running, unless CI=true.
 */
import { cp, mkdtemp, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MIGRATIONS_DIRECTORY } from '../../../core/archive/migrate.js';
import { createIndexStore } from '../../../core/archive/create-index-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';
import { createTestDatabase, requirePostgres } from '../../helpers/postgres.js';
import { indexStoreContract } from './index-store.contract.js';

if (await requirePostgres(test)) {
  indexStoreContract(test, 'postgres', async () => {
    const database = await createTestDatabase();
    const stores: SqlIndexStore[] = [];
    return {
      // A pool of its own on each call, as a second process would have.
      async open() {
        const store = await createIndexStore({
          kind: 'postgres',
          databaseUrl: database.url,
          poolSize: 10,
        });
        stores.push(store);
        return store;
      },
      async drop() {
        await Promise.all(stores.map((store) => store.close()));
        await database.drop();
      },
    };
  });

  test('postgres: a server that does not answer is StorageUnavailable', async (t) => {
    const store = await createIndexStore({
      kind: 'postgres',
      databaseUrl: 'postgres://postgres@127.0.0.1:1/none',
      poolSize: 1,
    });
    t.teardown(() => store.close());
    await t.throwsAsync(store.ping(), { code: 'StorageUnavailable' });
    await t.throwsAsync(store.counts(), { code: 'StorageUnavailable' });
  });

  test('postgres: a migration edited after it was applied is refused', async (t) => {
    const database = await createTestDatabase();
    const directory = await mkdtemp(join(tmpdir(), 'lightbox-migrations-'));
    t.teardown(async () => {
      await database.drop();
      await rm(directory, { recursive: true, force: true });
    });
    await cp(MIGRATIONS_DIRECTORY, directory, { recursive: true });
    const config = { kind: 'postgres' as const, databaseUrl: database.url, poolSize: 2 };
    const first = await createIndexStore(config, { migrationsDirectory: directory });
    await first.migrate();
    await first.close();
    await appendFile(join(directory, '0001_patient_study_series_instance.sql'), '\n-- edited\n');
    const second = await createIndexStore(config, { migrationsDirectory: directory });
    t.teardown(() => second.close());
    await t.throwsAsync(second.migrate(), { code: 'Internal', message: /0001 changed/ });
  });
}
