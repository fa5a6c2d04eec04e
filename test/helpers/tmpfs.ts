/**
 * A size-limited tmpfs mounted on a directory: a disk that really fills up (ENOSPC), for the spool's
 * disk-full test. Mounting needs root with CAP_SYS_ADMIN (the case on this project's machines and
 * CI containers run as root with that capability); probeTmpfs tells whether it is allowed here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Mount {
  directory: string;
  bytes: number;
  unmount(): Promise<void>;
}

export async function mountTmpfs(directory: string, bytes: number): Promise<Mount> {
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', directory]);
  return {
    directory,
    bytes,
    // Lazy (-l): a process killed an instant before may still hold a descriptor.
    unmount: () => run('umount', ['-l', directory]).then(() => undefined),
  };
}

/** Mounts and unmounts a 1 MiB tmpfs; rejects with the reason when that is not permitted. */
export async function probeTmpfs(): Promise<void> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-tmpfs-probe-'));
  try {
    const mount = await mountTmpfs(directory, 1024 * 1024);
    await mount.unmount();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`cannot mount a tmpfs here: ${(e.stderr || e.message).trim()}`);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
