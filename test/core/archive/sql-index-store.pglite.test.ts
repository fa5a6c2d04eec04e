/**
 * SqlIndexStore on PGlite (in process, a temporary data directory) against the IndexStore contract.
 * PGlite takes a few seconds to initialise a new directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createIndexStore } from '../../../core/archive/create-index-store.js';
import type { SqlIndexStore } from '../../../core/archive/sql-index-store.js';
import { seedPgliteDirectory } from '../../helpers/pglite-template.js';
import { indexStoreContract } from './index-store.contract.js';

indexStoreContract(test, 'pglite', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'lightbox-index-'));
  await seedPgliteDirectory(join(parent, 'index'));
  let owner: Promise<SqlIndexStore> | undefined;
  return {
    // One process, one PGlite: every open() shares the store that owns the directory.
    open: () => (owner ??= createIndexStore({ kind: 'pglite', directory: join(parent, 'index') })),
    async drop() {
      await (await owner)?.close();
      await rm(parent, { recursive: true, force: true });
    },
  };
});
