/**
 * How Lightbox opens PGlite, shared by the initdb child process and the database thread.
 * PGlite's default shared_buffers (128 MB) lives in WASM memory on top of the OS page cache, which
 * already caches the data files; 16 MB keeps the embedded process small (~225 MB less ~140).
 */
import type { PGliteOptions } from '@electric-sql/pglite';

export const PGLITE_OPTIONS: PGliteOptions = {
  postgresqlconf: ['shared_buffers = 16MB', 'wal_buffers = 1MB'],
};
