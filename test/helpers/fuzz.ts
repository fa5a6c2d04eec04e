/**
 * Bounds for the property-based fuzz tests (fast-check): each property runs until `numRuns` or its
 * time budget, whichever comes first. CI default: a few seconds per property (≈ 30 s in all);
 * LIGHTBOX_FUZZ_SECONDS=600 gives each property ten minutes, with as many runs as fit.
 */
import type { Parameters } from 'fast-check';

const seconds = Number(process.env.LIGHTBOX_FUZZ_SECONDS ?? 0);

export function fuzzBudget(ciSeconds: number): Pick<
  Parameters<unknown>,
  'numRuns' | 'interruptAfterTimeLimit' | 'markInterruptAsFailure'
> & {
  timeoutMs: number;
} {
  const budget = (seconds > 0 ? seconds : ciSeconds) * 1000;
  return {
    numRuns: seconds > 0 ? 1_000_000_000 : 100_000,
    interruptAfterTimeLimit: budget,
    markInterruptAsFailure: false,
    timeoutMs: budget + 60_000,
  };
}
