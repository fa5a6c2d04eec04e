/**
 * Run as a child process (`node pglite-initdb.js <directory>`): creates a PGlite data directory
 * (initdb) and exits. initdb grows PGlite's WASM memory to ~700 MB, which it never returns; in a
 * thread of the main process, even one that exits, the process kept ~110 MB of it. A process of
 * its own gives all of it back to the operating system when it exits.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { syncDirectoryTree } from './pglite-durability.js';
import { PGLITE_OPTIONS } from './pglite-options.js';

const directory = process.argv[2];
if (!directory) throw new Error('usage: pglite-initdb <directory>');
await mkdir(directory, { recursive: true });
const { PGlite } = await import('@electric-sql/pglite');
const db = await PGlite.create(resolve(directory), PGLITE_OPTIONS);
await db.close();
// PGlite wrote it all without a single fsync (pglite-durability.ts): on disk before first use.
await syncDirectoryTree(resolve(directory));
