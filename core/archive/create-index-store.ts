/**
 * Builds the IndexStore named by the `index` configuration: a pg Pool on a PostgreSQL server, or
 * PGlite on a local data directory (one owning process only), on its own thread so that its
 * synchronous WASM work never stalls the gateway. It does not migrate: each process
 * calls `migrate()` once at start, which is safe when several start together.
 */
import type { IndexConfig } from '../../config/schema.js';
import { createPgliteThreadClient } from './pglite-thread-client.js';
import { createPgClient } from './sql-client.js';
import { SqlIndexStore, type SqlIndexStoreOptions } from './sql-index-store.js';

/** Fails with StorageUnavailable when PGlite cannot open its directory; pg connects lazily. */
export async function createIndexStore(
  config: IndexConfig,
  options: SqlIndexStoreOptions = {},
): Promise<SqlIndexStore> {
  const sql =
    config.kind === 'postgres'
      ? createPgClient(config.databaseUrl, config.poolSize)
      : await createPgliteThreadClient(config.directory);
  return new SqlIndexStore(sql, options);
}
