/**
 * Process lifecycle shared by every entry point: graceful shutdown on SIGINT/SIGTERM (stop accepting,
 * let work in flight finish, close connections), a clear message and exit 1 when startup fails.
 *
 * The signals are trapped from the moment runMain starts, not only once the process is up: a stop
 * that arrives while the ports are opening (systemd, docker stop, Ctrl-C right after start) is kept
 * and honoured as soon as startup has finished, with the same graceful close, instead of Node's
 * default of dying on the spot with the index half-opened. A second signal during startup exits at
 * once (exit 1); nothing acknowledged can be lost by that, the spool is durable before any answer.
 */
import type { Logger } from './log.js';

type Handler = (signal: NodeJS.Signals) => void;

let trapped = false;
/** The signal received before closeOnSignals was called (the process still starting). */
let pending: NodeJS.Signals | undefined;
let handler: Handler | undefined;

function trapSignals(): void {
  if (trapped) return;
  trapped = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (handler) return handler(signal);
    if (pending) {
      process.stderr.write(`lightbox: ${signal} again while starting: exiting now\n`);
      process.exit(1);
    }
    pending = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * From now on SIGINT/SIGTERM run `close` once, then exit 0 (1 if closing failed). A signal received
 * earlier, while the process was starting, runs it at once.
 */
export function closeOnSignals(log: Logger, close: () => Promise<void>): void {
  trapSignals();
  let closing = false;
  handler = (signal) => {
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
  if (pending) handler(pending);
}

/** Runs an entry point; a startup error (bad config included) prints its message and exits 1. */
export function runMain(main: () => Promise<void>): void {
  trapSignals();
  main().then(
    () => {
      // An entry point with nothing to close: a signal ends it as Node's default would.
      if (handler) return;
      handler = () => process.exit(0);
      if (pending) process.exit(0);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`lightbox: ${message}\n`);
      process.exit(1);
    },
  );
}
