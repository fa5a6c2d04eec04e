/**
 * The one rule for tests that need something outside Node (a server or a binary): when it is
 * missing, the tests that need it are skipped with a message, unless CI=true, where a missing
 * dependency is a failure.
 *
 * ava cannot skip from inside a running test, so the check runs before the tests are declared
 * (top-level await) and the file declares them only when it passes:
 *
 * ```ts
 * if (await requireService(test, 'PostgreSQL at 127.0.0.1:5432', probePostgres)) {
 *   test('…', async (t) => { … });
 * }
 * ```
 */
import { spawn } from 'node:child_process';
import type { TestFn } from 'ava';

/** Resolves when the dependency answers; rejects (or times out) when it does not. */
export type Probe = () => Promise<unknown>;

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Runs `probe`. Resolves true when it succeeds. Otherwise declares one test named after the missing
 * dependency, skipped locally and failing under CI=true, and resolves false.
 */
export async function requireService<Context>(
  test: TestFn<Context>,
  name: string,
  probe: Probe,
): Promise<boolean> {
  const failure = await withTimeout(Promise.resolve().then(probe), PROBE_TIMEOUT_MS).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  if (failure === undefined) return true;
  const reason = `${name} is not available (${failure})`;
  if (process.env.CI === 'true') {
    test(`requires ${name}`, (t) => t.fail(`${reason}; CI=true requires it`));
  } else {
    console.warn(`skipping tests: ${reason}`);
    test.skip(`requires ${name}: ${failure}`, () => undefined);
  }
  return false;
}

/** requireService for an executable on PATH, probed with `<binary> <args…>` (default --version). */
export function requireTool<Context>(
  test: TestFn<Context>,
  binary: string,
  args: string[] = ['--version'],
): Promise<boolean> {
  return requireService(test, binary, () => runQuietly(binary, args));
}

/** Starts the binary and resolves when it exits; rejects when it cannot be started. */
function runQuietly(binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
