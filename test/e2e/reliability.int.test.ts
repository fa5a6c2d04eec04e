/**
 * The reliability suite (docs/reliability.md): services mode (gateway, worker, viewer-api as
 * processes) on private Redis, PostgreSQL and s3rver, with the spool on a size-limited tmpfs. Each
 * test disrupts one thing at a random point of a multi-association storescu ingest (kill -9 of a
 * process; a server stopped and started again; the spool's disk full), lets the senders retry what
 * was not acknowledged, and checks the one verdict of reliability/invariants.ts: every instance
 * acknowledged is stored byte for byte and indexed, nothing is half done, the spool is empty.
 *
 * CI size: LIGHTBOX_RELIABILITY_INSTANCES (default 100) over 3 associations. The 2,000-instance runs
 * of the results table are `npx tsx bench/reliability.ts` (same scenarios, same verdict).
 */
import test from 'ava';
import { requirePostgresBinaries } from './reliability/requirements.js';
import { runScenario } from './reliability/run-scenario.js';
import { SCENARIOS } from './reliability/scenarios.js';
import { startStack, type Stack } from './reliability/stack.js';
import { probeTmpfs } from '../helpers/tmpfs.js';
import { requireService, requireTool } from '../helpers/tools.js';

const COUNT = Number(process.env.LIGHTBOX_RELIABILITY_INSTANCES ?? 100);
const ctx: { stack?: Stack } = {};

if (
  (await requireTool(test, 'storescu')) &&
  (await requireTool(test, 'redis-server')) &&
  (await requirePostgresBinaries(test))
) {
  const mountable = await requireService(test, 'a tmpfs mount (root)', probeTmpfs);
  test.before(async () => {
    ctx.stack = await startStack(mountable ? { spoolBytes: 64 * 1024 * 1024 } : {});
  });
  test.after.always(async () => {
    await ctx.stack?.destroy();
  });

  for (const scenario of SCENARIOS) {
    if (scenario.needsSpoolMount && !mountable) continue;
    test.serial(
      `${scenario.name} mid-ingest: every acknowledged instance stored and indexed, nothing half done`,
      async (t) => {
        t.timeout(120_000);
        const result = await runScenario(ctx.stack!, scenario, {
          count: COUNT,
          associations: 3,
          outageMs: 3_000,
          realStall: false,
          settleTimeoutMs: 60_000,
        });
        t.log(JSON.stringify(result));
        t.deepEqual(result.violations, []);
        t.is(result.indexed, COUNT, 'after the retries, the whole study');
        t.is(result.compared, COUNT, 'every object compared with the file sent');
        t.true(result.success >= result.disruptedAt);
      },
    );
  }
}
