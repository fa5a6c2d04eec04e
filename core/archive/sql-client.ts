/**
 * The little SQL surface the index needs, over either a pg Pool (PostgreSQL server) or PGlite
 * (PostgreSQL compiled to WASM, in process). SQL written against it must run on both PostgreSQL 15
 * (the oldest server we support) and PGlite's PostgreSQL 18.
 *
 * Errors leave as LightboxError: a fault of the connection or the server's capacity is
 * StorageUnavailable (the worker retries), any other SQL error is Internal.
 */
import pg from 'pg';
import { LightboxError, isLightboxError } from '../errors.js';

export type SqlRow = Record<string, unknown>;

export interface QueryOptions {
  /**
   * Work no request waits for (the audit trail's batched inserts): on PGlite's single connection it
   * runs only when no other statement is waiting, so that it never holds up a search. A server
   * (pg) runs it on another connection anyway.
   */
  background?: boolean;
  /**
   * A search whose best plan depends on its values (skewed data: a CT series of 143 instances next
   * to thousands of one): PGlite plans it for its values at every run instead of preparing it, whose
   * generic plan, costed for the average series, joined study and patient again for every instance
   * (instances of a 143-instance series: 2.5-3.2 ms planned each time, 5 ms prepared). One without
   * parameters is still prepared: its values are in its text. A server (pg) plans each unnamed
   * statement for its values anyway.
   */
  planForValues?: boolean;
  /**
   * A write whose loss in a crash is harmless, because whatever depends on it commits durably
   * later or is redone (the ingest's pending claim: its completion commits durably, or the job
   * re-runs from the spool). PGlite commits it with synchronous_commit off: no WAL flush of its
   * own (one fsync fewer per instance); the next durable commit flushes it, since the WAL is
   * flushed in order, so nothing durable can ever depend on a lost one. A server (pg) commits it
   * as any other.
   */
  asyncCommit?: boolean;
}

/** Something that runs statements: the client itself, or one open transaction. */
export interface SqlQueryable {
  /** One statement with $1… parameters; resolves to its rows (RETURNING rows for writes). */
  query<Row extends SqlRow = SqlRow>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<Row[]>;
  /** A script of several statements without parameters (a migration). */
  exec(script: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  /** Runs `fn` in BEGIN … COMMIT on one connection; a throw rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The rows of a SELECT received as one json text value (`json_agg` over the statement) and parsed
 * once. Many rows of a few columns each cost PGlite (and pg) far more to decode value by value, and
 * PGlite's thread to copy to the caller as objects, than one string: for a QIDO page of 100
 * studies, 2-6 ms against 0.3 ms. Values come back as JSON gives them: text as strings, integers
 * (bigint too) as numbers, jsonb as objects; not for timestamps or binary columns. The statement's
 * ORDER BY is kept: the aggregate reads its subquery in order (PostgreSQL §4.2.7 "supplying the
 * input values from a sorted subquery").
 */
export async function queryJsonRows<Row extends SqlRow = SqlRow>(
  sql: SqlQueryable,
  text: string,
  params?: unknown[],
  options?: QueryOptions,
): Promise<Row[]> {
  const [result] = await sql.query<{ rows: string | null }>(
    `SELECT json_agg(q)::text AS rows FROM (${text}) q`,
    params,
    options,
  );
  return result?.rows ? (JSON.parse(result.rows) as Row[]) : [];
}

/** A pool of connections to a PostgreSQL server (pg). */
export function createPgClient(databaseUrl: string, poolSize: number): SqlClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    // A pool that cannot connect answers with StorageUnavailable instead of waiting forever.
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection that dies emits 'error' on the pool; without a listener that would crash
  // the process. The next query reconnects or fails with StorageUnavailable.
  pool.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  const session = (client: pg.Pool | pg.PoolClient): SqlQueryable => ({
    query: async <Row extends SqlRow>(text: string, params?: unknown[]) =>
      (await client.query<Row>(text, params)).rows,
    exec: async (script) => void (await client.query(script)),
  });
  return {
    ...guarded(session(pool)),
    transaction: (fn) =>
      guard(async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const result = await fn(session(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          // A connection that cannot even roll back is discarded, not returned to the pool.
          await client.query('ROLLBACK').catch(() => (broken = true));
          throw error;
        } finally {
          client.release(broken);
        }
      }),
    close: () => (closing ??= pool.end()),
  };
}

function guarded(session: SqlQueryable): SqlQueryable {
  return {
    query: (text, params) => guard(() => session.query(text, params)),
    exec: (script) => guard(() => session.exec(script)),
  };
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toIndexError(error);
  }
}

/**
 * SQLSTATE classes (PostgreSQL Appendix A) that mean "not now" rather than "wrong": connection
 * exception, insufficient resources, operator intervention, serialization failure and deadlock.
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P|40001|40P01|55P03)/;

/** Errors without a SQLSTATE come from the network, the pool or a closed PGlite: transient. */
export function toIndexError(error: unknown): LightboxError {
  if (isLightboxError(error)) return error;
  const code = (error as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlstate && !TRANSIENT_SQLSTATE.test(sqlstate)) {
    return new LightboxError('Internal', `index query failed (SQLSTATE ${sqlstate})`, {
      cause: error,
    });
  }
  return new LightboxError('StorageUnavailable', 'index unavailable', { cause: error });
}
