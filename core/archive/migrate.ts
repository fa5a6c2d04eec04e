/**
 * Schema migrations: `migrations/NNNN_name.sql`, applied in order, each in its own transaction and
 * recorded in schema_migrations with its sha256. Every process calls migrate() at start: a
 * transaction-scoped advisory lock serialises concurrent callers on one PostgreSQL database (the
 * second waits, then finds the work done). PGlite has one owner and one connection, where the
 * same lock is trivially granted. A file must not contain BEGIN/COMMIT nor CREATE INDEX
 * CONCURRENTLY (neither runs inside a transaction block).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LightboxError } from '../errors.js';
import type { SqlClient, SqlQueryable } from './sql-client.js';

export interface Migration {
  /** The file's numeric prefix, e.g. "0001". */
  version: string;
  name: string;
  script: string;
  sha256: string;
}

/** Beside this module. A build must copy core/archive/migrations/*.sql next to the emitted JS. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('./migrations/', import.meta.url));

/** An arbitrary constant: the advisory lock key that all Lightbox processes agree on. */
const MIGRATION_LOCK = 7_464_315_211;

const CREATE_SCHEMA_MIGRATIONS = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`;

/** Reads `NNNN_name.sql` files, sorted by version. */
export async function loadMigrations(directory = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const script = await readFile(join(directory, file), 'utf8');
      const [version, ...rest] = file.replace(/\.sql$/, '').split('_');
      // Hash with LF line ends, so that a CRLF checkout does not look like an edited migration.
      const sha256 = createHash('sha256').update(script.replace(/\r\n/g, '\n')).digest('hex');
      return { version, name: rest.join('_'), script, sha256 };
    }),
  );
}

/**
 * Applies the migrations not yet recorded; resolves to the versions this call applied (empty when
 * the schema was already current). Fails with Internal when a recorded migration has since changed.
 */
export async function migrate(sql: SqlClient, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const didApply = await sql.transaction(async (tx) => {
      await lock(tx);
      const [recorded] = await tx.query<{ sha256: string }>(
        'SELECT sha256 FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      if (recorded) {
        assertUnchanged(migration, recorded.sha256);
        return false;
      }
      await tx.exec(migration.script);
      await tx.query('INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.sha256,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

/** Takes the lock for this transaction, then makes sure the bookkeeping table exists. */
async function lock(tx: SqlQueryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
  await tx.exec(CREATE_SCHEMA_MIGRATIONS);
}

function assertUnchanged(migration: Migration, recordedSha256: string): void {
  if (recordedSha256 !== migration.sha256) {
    throw new LightboxError(
      'Internal',
      `migration ${migration.version} changed after it was applied; add a new migration instead`,
    );
  }
}
