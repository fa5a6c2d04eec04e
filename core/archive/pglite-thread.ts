/**
 * PGlite on its own thread. PGlite is PostgreSQL compiled to WASM: every statement runs on the thread
 * that owns it, and its file system does synchronous I/O. Measured in the embedded default, that cost
 * ~13 ms of main-thread CPU per archived instance and stalled the DIMSE gateway sharing the thread.
 * Here the database lives in a worker thread; the main thread talks to it over a MessagePort
 * (pglite-thread-client.ts). Transactions are held open on this side, keyed by an id.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { durableStartParams, syncWritesToDisk } from './pglite-durability.js';
import { IdleMaintenance, mayWrite, type MaintenancePolicy } from './pglite-maintenance.js';
import { PGLITE_OPTIONS } from './pglite-options.js';
import { PreparedStatements } from './pglite-prepared.js';

export type PgliteRequest =
  | {
      id: number;
      op: 'query';
      text: string;
      params?: unknown[];
      tx?: number;
      /** Never prepared: planned for its values at every run (QueryOptions.planForValues). */
      planForValues?: boolean;
      /** Committed without a WAL flush of its own (QueryOptions.asyncCommit). */
      asyncCommit?: boolean;
    }
  | { id: number; op: 'exec'; text: string; tx?: number }
  | {
      id: number;
      op: 'batch';
      statements: {
        text: string;
        params?: unknown[];
        planForValues?: boolean;
        asyncCommit?: boolean;
      }[];
    }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

export type PgliteResponse =
  | { id: number; ok: true; rows?: unknown[]; tx?: number; results?: unknown[][] }
  | { id: number; ok: false; message: string; code?: string };

interface OpenTransaction {
  tx: Transaction;
  finish: (commit: boolean) => void;
  done: Promise<void>;
}

/**
 * Whether a statement may be prepared: not one to be planned for its values (planForValues) when it
 * has values; without parameters its constants are in the text, and a prepared plan is as good.
 */
function preparable(statement: { params?: unknown[]; planForValues?: boolean }): boolean {
  return !statement.planForValues || !statement.params?.length;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('pglite-thread must run in a worker thread');
  const { directory, maintenance } = workerData as {
    directory: string;
    maintenance?: MaintenancePolicy;
  };
  await mkdir(directory, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const db: PGlite = await PGlite.create(resolve(directory), {
    ...PGLITE_OPTIONS,
    startParams: durableStartParams(PGlite.defaultStartParams),
  });
  syncWritesToDisk(db);
  const prepared = new PreparedStatements(db);
  const transactions = new Map<number, OpenTransaction>();
  let nextTx = 1;
  const idle = new IdleMaintenance(
    async () => void (await db.exec('VACUUM (ANALYZE)')),
    maintenance,
    () => transactions.size > 0,
  );

  const reply = (message: PgliteResponse) => port.postMessage(message);
  /**
   * After a PANIC (a failed fsync, pglite-durability.ts) PostgreSQL is gone and PGlite would leave
   * every later statement waiting forever: each is refused at once instead, without a SQLSTATE, so
   * the index reports itself unavailable (C-STORE fails, readiness fails) until a restart recovers
   * the database from its WAL.
   */
  let stopped: string | undefined;
  const fail = (id: number, error: unknown) => {
    if ((error as { severity?: unknown }).severity === 'PANIC' && !stopped) {
      stopped = `the index database stopped: ${(error as Error).message}`;
      // Statements already queued inside PGlite will never be answered: the client fails them all.
      reply({ id: 0, ok: false, message: stopped });
    }
    if (stopped) return reply({ id, ok: false, message: stopped });
    reply({
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      code:
        typeof (error as { code?: unknown }).code === 'string'
          ? (error as { code: string }).code
          : undefined,
    });
  };

  const target = (tx?: number) => {
    if (tx === undefined) return db;
    const open = transactions.get(tx);
    if (!open) throw new Error('transaction is not open');
    return open.tx;
  };

  const begin = (id: number) => {
    const txId = nextTx++;
    let finish!: (commit: boolean) => void;
    let started = false;
    const decided = new Promise<boolean>((r) => (finish = r));
    const done: Promise<void> = db.transaction(async (tx) => {
      transactions.set(txId, { tx, finish, done });
      started = true;
      reply({ id, ok: true, tx: txId });
      if (!(await decided)) await tx.rollback();
    });
    done
      .catch((error: unknown) => {
        if (!started) fail(id, error); // BEGIN itself failed: answer the 'begin'
      })
      .finally(() => transactions.delete(txId));
  };

  const writes = (request: PgliteRequest): boolean => {
    switch (request.op) {
      case 'query':
        return mayWrite(request.text);
      case 'batch':
        return request.statements.some(({ text }) => mayWrite(text));
      case 'exec':
      case 'begin':
        return true;
      default:
        return false;
    }
  };

  port.on('message', (request: PgliteRequest) => {
    idle.begin(writes(request));
    void (async () => {
      try {
        if (stopped && request.op !== 'close') throw new Error(stopped);
        switch (request.op) {
          case 'query': {
            if (request.tx !== undefined) {
              const result = await target(request.tx).query(request.text, request.params);
              return reply({ id: request.id, ok: true, rows: result.rows });
            }
            if (preparable(request)) await prepared.prepare(request.text, request.params);
            const result = await prepared.query(db, request.text, request.params, {
              asyncCommit: request.asyncCommit,
            });
            return reply({ id: request.id, ok: true, rows: result.rows });
          }
          case 'exec':
            await target(request.tx).exec(request.text);
            return reply({ id: request.id, ok: true });
          case 'batch': {
            // One transaction, one commit for statements that arrived together (group commit).
            for (const statement of request.statements) {
              if (preparable(statement)) await prepared.prepare(statement.text, statement.params);
            }
            const results =
              (await prepared.transaction(request.statements)) ??
              (await db.transaction(async (tx) => {
                const out: unknown[][] = [];
                for (const { text, params } of request.statements) {
                  out.push((await prepared.query(tx, text, params)).rows);
                }
                return out;
              }));
            return reply({ id: request.id, ok: true, results });
          }
          case 'begin':
            return begin(request.id);
          case 'end': {
            const open = transactions.get(request.tx);
            if (!open) throw new Error('transaction is not open');
            open.finish(request.commit);
            await open.done;
            return reply({ id: request.id, ok: true });
          }
          case 'close':
            idle.stop();
            if (!db.closed) await db.close();
            reply({ id: request.id, ok: true });
            return port.close();
        }
      } catch (error) {
        fail(request.id, error);
      } finally {
        idle.done();
      }
    })();
  });
  port.postMessage({ ready: true });
}

main().catch((error: unknown) => {
  parentPort?.postMessage({ ready: false, message: (error as Error).message ?? String(error) });
});
