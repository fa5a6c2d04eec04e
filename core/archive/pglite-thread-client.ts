/**
 * SqlClient for PGlite running on its own worker thread (pglite-thread.ts). Same contract as the
 * in-thread client: statements are serialised on PGlite's single connection, a transaction holds it
 * from BEGIN to COMMIT, errors carry their SQLSTATE so toIndexError maps them the same way.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../worker-thread.js';
import type { PgliteRequest, PgliteResponse } from './pglite-thread.js';
import type { MaintenancePolicy } from './pglite-maintenance.js';
import {
  toIndexError,
  type QueryOptions,
  type SqlClient,
  type SqlQueryable,
  type SqlRow,
} from './sql-client.js';

/** A request before it is given its id (Omit distributed over the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

type Pending = { resolve: (r: PgliteResponse & { ok: true }) => void; reject: (e: Error) => void };

/** The PGlite thread on `directory` (from the build or, under tsx, from source). */
function startThread(directory: string, maintenance?: MaintenancePolicy): Worker {
  return startModuleThread('pglite-thread', import.meta.url, { directory, maintenance });
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
 * A new directory is therefore initialised by a child process that then exits (a thread that exits
 * still left ~110 MB with this process), and the database is opened by the thread (~250 MB).
 */
export async function initialiseDataDirectory(directory: string): Promise<void> {
  if (existsSync(join(directory, 'PG_VERSION'))) return;
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(
    new URL(`./pglite-initdb.${fromSource ? 'ts' : 'js'}`, import.meta.url),
  );
  const child = fork(entry, [directory], {
    // Not the parent's options (--cpu-prof, --inspect…); tsx only when running from source.
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  }).catch((error: unknown) => {
    throw toIndexError(error);
  });
  if (code !== 0) {
    throw toIndexError(new Error(`PGlite initdb exited with ${code}: ${stderr.trim()}`));
  }
}

/**
 * When a background statement (QueryOptions.background: the audit trail's inserts) may run: once
 * nothing else has been sent to the database for `idleMs`, or once the oldest has waited
 * `maxWaitMs`. A statement that arrives while one runs waits for it: without the idle time, a
 * viewer's next request (a millisecond after the last answer) found an audit insert running and
 * waited for it and its commit (about 2 ms for a 101-study search).
 */
export interface BackgroundPolicy {
  idleMs: number;
  maxWaitMs: number;
}

export const DEFAULT_BACKGROUND_POLICY: BackgroundPolicy = { idleMs: 20, maxWaitMs: 1000 };

export async function createPgliteThreadClient(
  directory: string,
  options: { maintenance?: MaintenancePolicy; background?: BackgroundPolicy } = {},
): Promise<SqlClient> {
  await initialiseDataDirectory(directory);
  const worker = startThread(directory, options.maintenance);
  await whenReady(worker);

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;
  worker.on('message', (message: PgliteResponse) => {
    // id 0: the database stopped (a PANIC, pglite-thread.ts); nothing pending will be answered.
    if (message.id === 0 && !message.ok) return failAll(new Error(message.message));
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

  const send = (request: Unnumbered<PgliteRequest>) => {
    if (closed) return Promise.reject(toIndexError(new Error('PGlite thread is closed')));
    const id = nextId++;
    return new Promise<PgliteResponse & { ok: true }>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };
  // Everything but background statements counts as activity (transactions included).
  const activity = new Activity();
  const call = (request: Unnumbered<PgliteRequest>) => activity.during(send(request));

  const session = (tx?: number): SqlQueryable => ({
    query: async <Row extends SqlRow>(text: string, params?: unknown[]) =>
      ((await call({ op: 'query', text, params, tx })).rows ?? []) as Row[],
    exec: async (text) => void (await call({ op: 'exec', text, tx })),
  });
  const batcher = new StatementBatcher(
    call,
    send,
    activity,
    options.background ?? DEFAULT_BACKGROUND_POLICY,
  );

  let closing: Promise<void> | undefined;
  return {
    ...session(),
    query: async <Row extends SqlRow>(text: string, params?: unknown[], options?: QueryOptions) =>
      (await batcher.query(text, params, options)) as Row[],
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
        batcher.stop();
        if (!closed) await call({ op: 'close' }).catch(() => undefined);
        closed = true;
        await worker.terminate();
      })()),
  };
}

/** Statements sent to the thread as one transaction at most. */
const MAX_BATCH = 64;

interface WaitingStatement {
  text: string;
  params?: unknown[];
  planForValues?: boolean;
  asyncCommit?: boolean;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
  /** performance.now() when it was queued. */
  queuedAt: number;
}

type Call = (request: Unnumbered<PgliteRequest>) => Promise<PgliteResponse & { ok: true }>;

/** Requests in flight to the database, and when the last one ended. */
class Activity {
  private inFlight = 0;
  private lastEnded = -Infinity;

  during<T>(request: Promise<T>): Promise<T> {
    this.inFlight++;
    const end = () => {
      this.inFlight--;
      this.lastEnded = performance.now();
    };
    request.then(end, end);
    return request;
  }

  /** How long nothing has been in flight, ms (0 while something is). */
  idleFor(now: number): number {
    return this.inFlight > 0 ? 0 : now - this.lastEnded;
  }
}

/**
 * Group commit for statements outside a transaction (each is its own transaction otherwise). One
 * runs at a time; those that arrive meanwhile (the worker's jobs for instances received together)
 * go to the thread together, when it is free, as ONE transaction with one commit and one message.
 * A batch that fails is replayed statement by statement, so that each caller gets its own result or
 * error, exactly as if its statement had run alone: every statement stays atomic by itself.
 * Background statements (QueryOptions) wait in a queue of their own and run one at a time, never
 * in a batch with others, when no other statement waits and the database has been idle for a
 * while (BackgroundPolicy).
 */
class StatementBatcher {
  private readonly waiting: WaitingStatement[] = [];
  private readonly background: WaitingStatement[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly call: Call,
    /** Sends without counting as activity: for background statements. */
    private readonly sendQuietly: Call,
    private readonly activity: Activity,
    private readonly policy: BackgroundPolicy,
  ) {}

  query(text: string, params?: unknown[], options: QueryOptions = {}): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const { planForValues, asyncCommit } = options;
      const statement = {
        text,
        params,
        planForValues,
        asyncCommit,
        resolve,
        reject,
        queuedAt: performance.now(),
      };
      (options.background ? this.background : this.waiting).push(statement);
      this.next();
    });
  }

  /** At close: background statements not yet sent fail instead of waiting forever. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const { reject } of this.background.splice(0)) {
      reject(toIndexError(new Error('PGlite thread is closed')));
    }
  }

  private next(): void {
    if (this.busy) return;
    if (this.waiting.length > 0) {
      this.start(this.waiting.splice(0, MAX_BATCH), this.call);
      return;
    }
    const oldest = this.background[0];
    if (oldest === undefined) return;
    const now = performance.now();
    const idle = this.policy.idleMs - this.activity.idleFor(now);
    const overdue = this.policy.maxWaitMs - (now - oldest.queuedAt);
    if (idle <= 0 || overdue <= 0) {
      this.start(this.background.splice(0, 1), this.sendQuietly);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.next();
        },
        Math.max(1, Math.min(Math.max(idle, this.policy.idleMs / 4), overdue)),
      );
      this.timer.unref();
    }
  }

  private start(batch: WaitingStatement[], call: Call): void {
    this.busy = true;
    void this.run(batch, call).finally(() => {
      this.busy = false;
      this.next();
    });
  }

  private async run(batch: WaitingStatement[], call: Call): Promise<void> {
    if (batch.length > 1) {
      const statements = batch.map(({ text, params, planForValues, asyncCommit }) => ({
        text,
        params,
        planForValues,
        asyncCommit,
      }));
      const done = await call({ op: 'batch', statements }).catch(() => undefined);
      if (done?.results) {
        batch.forEach((statement, i) => statement.resolve(done.results![i] ?? []));
        return;
      }
    }
    for (const { text, params, planForValues, asyncCommit, resolve, reject } of batch) {
      await call({ op: 'query', text, params, planForValues, asyncCommit }).then(
        (r) => resolve(r.rows ?? []),
        reject,
      );
    }
  }
}
