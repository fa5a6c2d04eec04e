/**
 * SqlClient for PGlite running on its own worker thread (pglite-thread.ts). Same contract as the
 * in-thread client: statements are serialised on PGlite's single connection, a transaction holds it
 * from BEGIN to COMMIT, errors carry their SQLSTATE so toIndexError maps them the same way.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PgliteRequest, PgliteResponse } from './pglite-thread.js';
import { toIndexError, type SqlClient, type SqlQueryable, type SqlRow } from './sql-client.js';

/** A request before it is given its id (Omit distributed over the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (r: PgliteResponse & { ok: true }) => void; reject: (e: Error) => void };

/**
 * Starts the thread from the build (dist: .js) or from source under tsx (.ts). Node 20 does not apply
 * the main thread's --import loader to a worker's entry module, so from source the thread registers
 * tsx itself before importing the entry.
 */
function startThread(directory: string): Worker {
  const entry = new URL(
    `./pglite-thread.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
    import.meta.url,
  );
  if (entry.pathname.endsWith('.js')) return new Worker(entry, { workerData: { directory } });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: { directory } });
}

/** Resolves once the thread has opened the database; rejects (StorageUnavailable) if it could not. */
function whenReady(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (message: { ready?: boolean; message?: string }) => {
      if (message.ready === undefined) return;
      worker.off('message', onMessage);
      if (message.ready) resolve();
      else reject(toIndexError(new Error(message.message)));
    };
    worker.on('message', onMessage);
    worker.once('error', (error) => reject(toIndexError(error)));
  });
}

/**
 * Creating a data directory (initdb) grows PGlite's WASM memory to ~700 MB, which it never returns.
 * A new directory is therefore initialised by a thread of its own that then exits, and the database
 * is opened by a fresh one (~250 MB).
 */
async function initialiseDataDirectory(directory: string): Promise<void> {
  if (existsSync(join(directory, 'PG_VERSION'))) return;
  const initdb = startThread(directory);
  try {
    await whenReady(initdb);
    await new Promise<void>((resolve) => {
      initdb.once('exit', () => resolve());
      initdb.postMessage({ id: 0, op: 'close' });
    });
  } finally {
    await initdb.terminate();
  }
}

export async function createPgliteThreadClient(directory: string): Promise<SqlClient> {
  await initialiseDataDirectory(directory);
  const worker = startThread(directory);
  await whenReady(worker);

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;
  worker.on('message', (message: PgliteResponse) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message);
    else
      waiting.reject(
        toIndexError(Object.assign(new Error(message.message), { code: message.code })),
      );
  });
  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(toIndexError(error));
    pending.clear();
    closed = true;
  };
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('PGlite thread exited')));

  const call = (request: Unnumbered<PgliteRequest>) => {
    if (closed) return Promise.reject(toIndexError(new Error('PGlite thread is closed')));
    const id = nextId++;
    return new Promise<PgliteResponse & { ok: true }>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };

  const session = (tx?: number): SqlQueryable => ({
    query: async <Row extends SqlRow>(text: string, params?: unknown[]) =>
      ((await call({ op: 'query', text, params, tx })).rows ?? []) as Row[],
    exec: async (text) => void (await call({ op: 'exec', text, tx })),
  });

  let closing: Promise<void> | undefined;
  return {
    ...session(),
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      const { tx } = await call({ op: 'begin' });
      let result: T;
      try {
        result = await fn(session(tx));
      } catch (error) {
        await call({ op: 'end', tx: tx!, commit: false }).catch(() => undefined);
        throw toIndexError(error);
      }
      await call({ op: 'end', tx: tx!, commit: true });
      return result;
    },
    close: () =>
      (closing ??= (async () => {
        if (!closed) await call({ op: 'close' }).catch(() => undefined);
        closed = true;
        await worker.terminate();
      })()),
  };
}
