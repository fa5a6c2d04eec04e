#!/usr/bin/env node
/**
 * `lightbox <command>`: the command-line tool (`npm run cli -- <command>`, `node dist/cli/main.js`).
 * Everything is in run.ts; this file only binds it to the real process.
 */
import { runCli } from './run.js';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `lightbox: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
