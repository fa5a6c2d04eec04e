/**
 * The reliability suite at full size (docs/reliability.md): every scenario of
 * test/e2e/reliability/scenarios.ts on a 2,000-instance ingest over 4 storescu associations,
 * servers down 10 s, and after a worker kill BullMQ's real lock expiry (no shortcut). Same stack and
 * same verdict as the CI test (test/e2e/reliability.int.test.ts). Needs root for the tmpfs spool.
 *
 *   npx tsx bench/reliability.ts [instances] [scenario name filter]
 *
 * Writes bench/results/reliability-<timestamp>.json and prints the table for the doc.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runScenario, type ScenarioResult } from '../test/e2e/reliability/run-scenario.js';
import { SCENARIOS } from '../test/e2e/reliability/scenarios.js';
import { startStack } from '../test/e2e/reliability/stack.js';

const count = Number(process.argv[2] ?? 2000);
const filter = process.argv[3];
const stack = await startStack({ spoolBytes: 256 * 1024 * 1024 });
const results: ScenarioResult[] = [];
try {
  for (const scenario of SCENARIOS.filter((s) => !filter || s.name.includes(filter))) {
    const result = await runScenario(stack, scenario, {
      count,
      associations: 4,
      outageMs: 10_000,
      realStall: true,
      settleTimeoutMs: 300_000,
    });
    console.log(JSON.stringify(result));
    results.push(result);
  }
} finally {
  await stack.destroy();
}
const directory = path.join(import.meta.dirname, 'results');
await mkdir(directory, { recursive: true });
const file = path.join(
  directory,
  `reliability-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
);
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\n${table(results)}\nwritten to ${file}`);
process.exit(results.every((r) => r.violations.length === 0) ? 0 : 1);

function table(rows: ScenarioResult[]): string {
  const head =
    '| scenario | instances | disrupted at | Success | refused | no response | resent | indexed | objects compared | verdict | s |';
  const lines = rows.map(
    (r) =>
      `| ${r.scenario}${r.notes.length ? ` (${r.notes.join('; ')})` : ''} | ${r.instances} | ${r.disruptedAt} | ${r.success} | ${r.refused} | ${r.noResponse} | ${r.resent} | ${r.indexed} | ${r.compared} | ${r.violations.length === 0 ? 'pass' : r.violations.join('; ')} | ${r.seconds} |`,
  );
  return [head, `|${'---|'.repeat(11)}`, ...lines].join('\n');
}
