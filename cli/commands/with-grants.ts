/**
 * Opens the index of this installation (migrated) with core/grants over it, for the account and
 * token commands; flushes the audit trail and closes the index afterwards.
 */
import { createIndexStore } from '../../core/archive/create-index-store.js';
import { createGrantServices, type GrantServices } from '../../core/grants/grant-services.js';
import type { CliIO } from '../command.js';

export async function withGrantServices<T>(
  io: CliIO,
  fn: (grants: GrantServices) => Promise<T>,
): Promise<T> {
  const index = await createIndexStore(io.config.index);
  try {
    await index.migrate();
    const grants = await createGrantServices(io.config, index.sql, io.log);
    try {
      return await fn(grants);
    } finally {
      await grants.audit.flush();
    }
  } finally {
    await index.close();
  }
}
