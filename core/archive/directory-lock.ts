/**
 * An owner lock for a PGlite data directory. PGlite does not lock its directory, and two processes
 * writing one PGlite database corrupt it; so whoever opens it (Lightbox in embedded mode, or the CLI)
 * first takes `<directory>.lock`: created exclusively, holding the owner's pid, host and start time,
 * and touched every few seconds while held. A lock is stale (taken over) when its owner process is
 * gone (same host, pid not alive) or when it has not been touched for STALE_MS (another host, or a
 * container whose pid numbers start again).
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { LightboxError } from '../errors.js';

const TOUCH_MS = 5_000;
export const STALE_MS = 30_000;

/** Locks this process holds: a lock file naming our pid but not in here is a previous life's. */
const held = new Set<string>();

export interface DirectoryLock {
  file: string;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

export async function lockDirectory(directory: string, purpose: string): Promise<DirectoryLock> {
  const file = `${path.resolve(directory)}.lock`;
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    const handle = await open(file, 'wx').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return undefined;
      throw new LightboxError('StorageUnavailable', `cannot create ${file}`, { cause: error });
    });
    if (handle) {
      const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      await handle.writeFile(JSON.stringify({ ...owner, purpose }));
      await handle.close();
      return hold(file);
    }
    const owner = await readOwner(file);
    if (!(await isStale(file, owner))) {
      throw new LightboxError(
        'StorageUnavailable',
        `the index ${directory} is in use by ${owner?.purpose ?? 'another process'} ` +
          `(pid ${owner?.pid ?? '?'} on ${owner?.host ?? '?'}, lock ${file}). PGlite allows one ` +
          'process: stop Lightbox first, then run this command (or run it against PostgreSQL).',
      );
    }
    await rm(file, { force: true });
  }
  throw new LightboxError('StorageUnavailable', `could not take the lock ${file}`);
}

function hold(file: string): DirectoryLock {
  held.add(file);
  const timer = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, TOUCH_MS);
  timer.unref();
  return {
    file,
    async release() {
      clearInterval(timer);
      held.delete(file);
      await rm(file, { force: true });
    },
  };
}

async function readOwner(file: string): Promise<(Owner & { purpose?: string }) | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Owner & { purpose?: string };
  } catch {
    return undefined; // being written, or garbage: judged by its age below
  }
}

async function isStale(file: string, owner: Owner | undefined): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return true;
  if (Date.now() - info.mtimeMs > STALE_MS) return true;
  if (!owner || owner.host !== hostname()) return false;
  if (owner.pid === process.pid) return !held.has(file);
  return !alive(owner.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
