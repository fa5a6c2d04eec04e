/**
 * One reliability scenario from start to verdict: a fresh study of `count` instances sent over
 * `associations` storescu associations; the disruption at a random point (after 15–60 % were
 * acknowledged); what the senders were told; then, as a modality would, the instances not
 * acknowledged sent again until each got Success; the archive left to settle; the verdict.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { jobCounts } from '../../helpers/bullmq.js';
import { parseStorescu, spawnStorescu, waitFor } from '../../helpers/processes.js';
import { spoolEntries, storedCount, writeStudy } from '../archive.js';
import { countOutcomes, startIngest, type OutcomeCounts } from './ingest.js';
import { checkArchive, type ArchiveVerdict } from './invariants.js';
import type { Scenario } from './scenarios.js';
import { PREFIX, type Stack } from './stack.js';

export interface ScenarioOptions {
  count: number;
  associations: number;
  outageMs: number;
  realStall: boolean;
  /** Bound on the archive settling after the last send. */
  settleTimeoutMs: number;
}

export interface ScenarioResult extends OutcomeCounts, ArchiveVerdict {
  scenario: string;
  instances: number;
  associations: number;
  /** Acknowledged instances when the disruption started. */
  disruptedAt: number;
  /** Instances sent again after the first pass, and how many rounds that took. */
  resent: number;
  rounds: number;
  /** Instances of this study indexed at the end. */
  indexed: number;
  notes: string[];
  seconds: number;
}

export async function runScenario(
  stack: Stack,
  scenario: Scenario,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const started = Date.now();
  const dir = path.join(stack.work, 'input', scenario.name.replace(/\W+/g, '-'));
  await mkdir(dir, { recursive: true });
  const study = await writeStudy(dir, options.count, 'r');
  const byPath = new Map(study.map((i) => [i.path, i]));
  const baseline = (await storedCount(stack.postgres.url)) ?? 0;

  const ingest = startIngest(
    stack.dicomPort,
    study.map((i) => i.path),
    options.associations,
  );
  const disruptedAt = Math.floor(options.count * (0.15 + Math.random() * 0.45));
  await waitFor(`${disruptedAt} acknowledged`, () => ingest.acknowledged().length >= disruptedAt, {
    timeoutMs: 120_000,
    intervalMs: 5,
    alive: [stack.processes.gateway],
  });
  const notes = await scenario.disrupt({
    stack,
    ingest,
    outageMs: options.outageMs,
    realStall: options.realStall,
  });
  await ingest.done;
  const first = countOutcomes(ingest.results(), options.count);
  const acknowledged = new Set(ingest.acknowledged());

  // The senders retry what was not acknowledged, as a modality's queue does.
  let rounds = 0;
  let resent = 0;
  while (acknowledged.size < options.count && rounds < 5) {
    rounds++;
    const pending = study.map((i) => i.path).filter((p) => !acknowledged.has(p));
    resent += pending.length;
    const retry = spawnStorescu(stack.dicomPort, pending, { extra: ['--no-halt'] });
    await retry.done;
    for (const r of parseStorescu(retry.process.output()))
      if (r.status === 'Success') acknowledged.add(r.file);
    if (acknowledged.size < options.count) await new Promise((r) => setTimeout(r, 2_000));
  }

  const expected = baseline + options.count;
  await waitFor(
    'the archive to settle',
    async () => {
      if ((await storedCount(stack.postgres.url).catch(() => undefined)) !== expected) return false;
      if ((await spoolEntries(stack.spool, 'ready')).length > 0) return false;
      const c = await jobCounts({ redisUrl: stack.redis.url, prefix: PREFIX }).catch(
        () => undefined,
      );
      return c !== undefined && c.waiting + c.active + c.delayed + c.prioritized === 0;
    },
    {
      timeoutMs: options.settleTimeoutMs,
      intervalMs: 250,
      alive: [stack.processes.gateway, stack.processes.worker],
    },
  ).catch((error: Error) => notes.push(error.message));

  const sent = new Map(study.map((i) => [i.SOPInstanceUID, i]));
  const acknowledgedUIDs = [...acknowledged].map((file) => byPath.get(file)!.SOPInstanceUID);
  const verdict = await checkArchive(stack, sent, acknowledgedUIDs);
  if (acknowledged.size < options.count)
    verdict.violations.push(`${options.count - acknowledged.size} never acknowledged`);
  return {
    scenario: scenario.name,
    instances: options.count,
    associations: options.associations,
    disruptedAt,
    ...first,
    resent,
    rounds,
    indexed: ((await storedCount(stack.postgres.url)) ?? 0) - baseline,
    ...verdict,
    notes,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}
