/** The reliability suite's own requirement: PostgreSQL's server binaries (initdb, pg_ctl). */
import type { TestFn } from 'ava';
import { postgresBin } from '../../helpers/private-services.js';
import { requireService } from '../../helpers/tools.js';

export function requirePostgresBinaries<Context>(test: TestFn<Context>): Promise<boolean> {
  return requireService(test, 'PostgreSQL binaries (initdb, pg_ctl)', async () => {
    if (!(await postgresBin())) throw new Error('nothing under /usr/lib/postgresql/*/bin');
  });
}
