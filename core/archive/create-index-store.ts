/**
 * Builds the IndexStore named by the `index` configuration: a pg Pool on a PostgreSQL server, or
 * PGlite on a local data directory (one owning process only, enforced by directory-lock.ts), on its
 * own thread so that its synchronous WASM work never stalls the gateway. It does not migrate: each
 * process calls `migrate()` once at start, which is safe when several start together.
 */
import type { IndexConfig } from '../../config/schema.js';
import { lockDirectory } from './directory-lock.js';
import { createPgliteThreadClient } from './pglite-thread-client.js';
import { createPgClient, type SqlClient } from './sql-client.js';
import { SqlIndexStore, type SqlIndexStoreOptions } from './sql-index-store.js';

/**
 * Fails with StorageUnavailable when PGlite cannot open its directory, or when another live process
 * owns it; pg connects lazily. `purpose` names this owner in the lock (shown to the next one).
 */
export async function createIndexStore(
  config: IndexConfig,
  options: SqlIndexStoreOptions & { purpose?: string } = {},
): Promise<SqlIndexStore> {
  const sql =
    config.kind === 'postgres'
      ? createPgClient(config.databaseUrl, config.poolSize)
      : await lockedPglite(config.directory, options.purpose ?? 'Lightbox');
  return new SqlIndexStore(sql, options);
}

async function lockedPglite(directory: string, purpose: string): Promise<SqlClient> {
  const lock = await lockDirectory(directory, purpose);
  let client: SqlClient;
  try {
    client = await createPgliteThreadClient(directory);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return {
    // Options too: an audit insert marked background must stay behind searches (sql-client.ts).
    query: (text, params, options) => client.query(text, params, options),
    exec: (script) => client.exec(script),
    transaction: (fn) => client.transaction(fn),
    async close() {
      try {
        await client.close();
      } finally {
        await lock.release();
      }
    },
  };
}
