/**
 * How the spool and the local object store make their file-system calls (reads included).
 *
 * On a local disk, calls that do not wait for the device (create, write into the page cache,
 * rename, link, unlink, stat, close) are system calls of a few microseconds. Through libuv's thread
 * pool each costs a hand-off to a pool thread and back; on a small machine the pool thread's wake-up
 * pre-empts the event loop (0.1–0.25 ms of main-thread time per call in CPU profiles with four
 * associations: ingest gained a quarter with them made directly, docs/benchmarks.md). So `local`
 * makes them synchronously. Only fsync and fdatasync, which wait for the disk, go to the pool.
 *
 * On a network or FUSE file system (NFS, SMB, CephFS, 9p…, which the services mode allows for a
 * spool shared across hosts) every call is a network round trip: made synchronously it would hold
 * the event loop, and every association with it. There `pooled` makes all of them on the pool.
 * fileSystemCallsFor() picks by the file system's type (statfs f_type).
 */
import {
  close,
  closeSync,
  fdatasync,
  fstat,
  fstatSync,
  fsync,
  link,
  linkSync,
  open,
  openSync,
  rename,
  renameSync,
  stat,
  statSync,
  unlink,
  unlinkSync,
  writev,
  writevSync,
  type Stats,
} from 'node:fs';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';

export interface FileSystemCalls {
  readonly kind: 'local' | 'pooled';
  open(path: string, flags: string, mode?: number): Promise<number>;
  /** Bytes written (all of them, unless the disk is full). */
  writev(fd: number, buffers: readonly Buffer[]): Promise<number>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<Stats>;
  fstat(fd: number): Promise<Stats>;
  /** Waits for the disk: always on the thread pool. */
  fsync(fd: number): Promise<void>;
  /** Waits for the disk: always on the thread pool. */
  fdatasync(fd: number): Promise<void>;
}

const fsyncOnPool = promisify(fsync);
const fdatasyncOnPool = promisify(fdatasync);
function writevOnPool(fd: number, buffers: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) =>
    writev(fd, buffers as Buffer[], (error, bytesWritten) =>
      error ? reject(error) : resolve(bytesWritten),
    ),
  );
}

/** Direct system calls (errors as rejections); only the syncs on the pool. */
export const localCalls: FileSystemCalls = {
  kind: 'local',
  open: async (path, flags, mode) => openSync(path, flags, mode),
  writev: async (fd, buffers) => writevSync(fd, buffers as Buffer[]),
  close: async (fd) => closeSync(fd),
  rename: async (from, to) => renameSync(from, to),
  link: async (existing, newPath) => linkSync(existing, newPath),
  unlink: async (path) => unlinkSync(path),
  stat: async (path) => statSync(path),
  fstat: async (fd) => fstatSync(fd),
  fsync: fsyncOnPool,
  fdatasync: fdatasyncOnPool,
};

/** Every call on the thread pool. */
export const pooledCalls: FileSystemCalls = {
  kind: 'pooled',
  open: promisify(open) as (path: string, flags: string, mode?: number) => Promise<number>,
  writev: writevOnPool,
  close: promisify(close),
  rename: promisify(rename),
  link: promisify(link),
  unlink: promisify(unlink),
  stat: promisify(stat) as (path: string) => Promise<Stats>,
  fstat: promisify(fstat) as (fd: number) => Promise<Stats>,
  fsync: fsyncOnPool,
  fdatasync: fdatasyncOnPool,
};

/**
 * statfs f_type of network, cluster and FUSE file systems (Linux magic numbers, linux/magic.h and
 * the file systems' own headers).
 */
export const NETWORK_FILE_SYSTEM_TYPES: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x00c36400, 'ceph'],
  [0x65735546, 'fuse'],
  [0x01021997, '9p'],
  [0x5346414f, 'afs'],
  [0x73757245, 'coda'],
  [0x01161970, 'gfs2'],
  [0x7461636f, 'ocfs2'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
]);

/**
 * The calls for files under `directory`: `local` unless its file system is a network or FUSE one
 * (or its type cannot be read: then the pool, which is never wrong, only slower).
 */
export async function fileSystemCallsFor(directory: string): Promise<FileSystemCalls> {
  try {
    const { type } = await statfs(directory);
    return NETWORK_FILE_SYSTEM_TYPES.has(type >>> 0) ? pooledCalls : localCalls;
  } catch {
    return pooledCalls;
  }
}
