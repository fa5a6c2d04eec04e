/**
 * An ingest as modalities do it: several storescu associations at once, each sending its share of a
 * study, carrying on after a refusal (--no-halt). What each sender was told, per file, is parsed from
 * storescu's output: Success, a failure status, or nothing (the association was cut, or the file was
 * never sent).
 */
import {
  parseStorescu,
  spawnStorescu,
  type BackgroundStorescu,
  type StoreResult,
} from '../../helpers/processes.js';

export interface Ingest {
  senders: BackgroundStorescu[];
  /** Files acknowledged with Success so far. */
  acknowledged(): string[];
  /** Every file's outcome so far (files not reached yet are absent). */
  results(): StoreResult[];
  /** Resolves when every sender has exited. */
  done: Promise<void>;
}

export function startIngest(port: number, files: string[], associations: number): Ingest {
  const share = Math.ceil(files.length / associations);
  const senders: BackgroundStorescu[] = [];
  for (let i = 0; i < files.length; i += share) {
    senders.push(spawnStorescu(port, files.slice(i, i + share), { extra: ['--no-halt'] }));
  }
  const outputs = () => senders.map((s) => s.process.output());
  return {
    senders,
    acknowledged: () => senders.flatMap((s) => s.acknowledged()),
    results: () => outputs().flatMap((o) => parseStorescu(o)),
    done: Promise.all(senders.map((s) => s.done)).then(() => undefined),
  };
}

/** Outcome counts: Success, a failure status (refused), no status at all. */
export interface OutcomeCounts {
  success: number;
  refused: number;
  noResponse: number;
}

export function countOutcomes(results: StoreResult[], total: number): OutcomeCounts {
  const success = results.filter((r) => r.status === 'Success').length;
  const refused = results.filter((r) => r.status && r.status !== 'Success').length;
  return { success, refused, noResponse: total - success - refused };
}
