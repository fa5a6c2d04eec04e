/**
 * Starts Lightbox for a test the way `npm start` does (bin/start-lightbox.ts), on ports chosen by the
 * kernel and a private temporary data directory, and tears it down with the test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { startLightbox, type Lightbox } from '../../bin/start-lightbox.js';
import type { Logger } from '../../core/log.js';
import { seedPgliteDirectory } from './pglite-template.js';

type Json = Record<string, unknown>;

export interface TestLightbox extends Lightbox {
  dataDirectory: string;
  /** Resolves once the queue is empty (everything acknowledged is archived or failed). */
  settled(): Promise<void>;
  /** Stops Lightbox; `keepData` leaves the directory for a restart test. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startTestLightbox(
  overrides: Json = {},
  options: { dataDirectory?: string; log?: Logger } = {},
): Promise<TestLightbox> {
  const dataDirectory =
    options.dataDirectory ?? (await mkdtemp(path.join(os.tmpdir(), 'lightbox-test-')));
  const base: Json = {
    gateway: { host: '127.0.0.1', port: 0 },
    viewerApi: { host: '127.0.0.1', port: 0 },
    spool: { directory: path.join(dataDirectory, 'spool') },
    objects: { kind: 'fs', directory: path.join(dataDirectory, 'objects') },
    index: { kind: 'pglite', directory: path.join(dataDirectory, 'index') },
    log: { level: process.env.LIGHTBOX_TEST_LOG ?? 'silent' },
  };
  const config = loadConfig({ env: {}, overrides: deepMerge(base, overrides) });
  if (config.index.kind === 'pglite') await seedPgliteDirectory(config.index.directory);
  const lightbox = await startLightbox(config, options.log);
  let stopped = false;
  return Object.assign(lightbox, {
    dataDirectory,
    settled: () => lightbox.services.queue.drained(),
    async stop(stopOptions: { keepData?: boolean } = {}) {
      if (!stopped) {
        stopped = true;
        await lightbox.close();
      }
      if (!stopOptions.keepData) await rm(dataDirectory, { recursive: true, force: true });
    },
  });
}

function deepMerge(a: Json, b: Json): Json {
  const out: Json = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const current = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && current && typeof current === 'object'
        ? deepMerge(current as Json, v as Json)
        : v;
  }
  return out;
}
