/**
 * Makes PGlite's commits durable. As shipped, PGlite starts PostgreSQL with `-F` (fsync off) and
 * its Emscripten file system turns fsync into nothing (NODEFS has no fsync operation, fdatasync is a
 * stub): a committed index row, and the spool entry removed after it, could both vanish in a power
 * loss, and the data files could be left inconsistent with a WAL that never reached the disk.
 *
 * Here PostgreSQL runs with fsync on, wal_sync_method = fsync (the one of its methods that reaches
 * the file system's fsync operation), and that operation is given to NODEFS: fs.fsyncSync of the
 * file's descriptor, or of the directory. A commit then returns only once its WAL is on disk (one
 * fsync, ~0.15 ms here; the index groups the ingest path's statements into few commits), and a
 * checkpoint syncs the data files it wrote. A failed fsync is EIO to PostgreSQL, which PANICs
 * (data_sync_retry = off): PGlite stops, the index reports itself unavailable, nothing is acknowledged.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, opendir } from 'node:fs/promises';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';

/** PGlite's own start parameters without `-F`, and the WAL synced by fsync(). */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((p) => p !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

interface EmscriptenNode {
  mode: number;
  mount: { mountpoint: string; opts: { root?: string } };
}
interface EmscriptenStream {
  nfd?: number;
  node: EmscriptenNode;
  path: string;
  stream_ops: { fsync?: (stream: EmscriptenStream) => number };
}
interface EmscriptenFS {
  streams: (EmscriptenStream | null)[];
  isDir(mode: number): boolean;
  ErrnoError: new (errno: number) => Error;
}

/** Emscripten's EIO (its errno numbering, not the host's). */
const EIO = 29;

/**
 * Gives NODEFS (the file system PGlite's data directory is mounted with) an fsync operation. Call
 * once, right after PGlite.create: the operation table is shared by every NODEFS file, open now or
 * later. Returns how fsyncs are counted (tests).
 */
export function syncWritesToDisk(
  db: PGlite,
  /** The host fsync (tests give one that fails). */
  fsync: (fd: number) => void = fsyncSync,
): { fsyncs: () => number } {
  const FS = (db as unknown as { mod: { FS: EmscriptenFS } }).mod.FS;
  const open = FS.streams.find((s): s is EmscriptenStream => s?.nfd !== undefined);
  if (!open) throw new Error('PGlite has no file of its data directory open: cannot enable fsync');
  let count = 0;
  open.stream_ops.fsync = (stream) => {
    try {
      if (stream.nfd !== undefined) {
        fsync(stream.nfd);
      } else if (FS.isDir(stream.node.mode) && stream.node.mount.opts.root) {
        // NODEFS opens no host descriptor for a directory: open the host directory to sync it
        // (PostgreSQL syncs pg_wal after creating or renaming a segment).
        const { mountpoint, opts } = stream.node.mount;
        const fd = openSync(path.join(opts.root!, stream.path.slice(mountpoint.length)), 'r');
        try {
          fsync(fd);
        } finally {
          closeSync(fd);
        }
      }
      count++;
      return 0;
    } catch {
      throw new FS.ErrnoError(EIO);
    }
  };
  return { fsyncs: () => count };
}

/**
 * fsyncs every file and directory under `directory`, deepest first: for a data directory that PGlite
 * wrote without syncing (initdb, which runs in a process of its own), before it is first used.
 */
export async function syncDirectoryTree(directory: string): Promise<void> {
  for await (const entry of await opendir(directory)) {
    const child = path.join(directory, entry.name);
    if (entry.isDirectory()) await syncDirectoryTree(child);
    else if (entry.isFile()) await syncPath(child);
  }
  await syncPath(directory);
}

/** fsync of a file or directory by its path. */
async function syncPath(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
