/**
 * Process lifecycle shared by every entry point: graceful shutdown on SIGINT/SIGTERM (stop accepting,
 * let work in flight finish, close connections), a clear message and exit 1 when startup fails.
 */
import type { Logger } from './log.js';

export function closeOnSignals(log: Logger, close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Runs an entry point; a startup error (bad config included) prints its message and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`lightbox: ${message}\n`);
    process.exit(1);
  });
}
