/**
 * One `lightbox <command>` of the command-line tool (cli/main.ts dispatches by name). Each command is
 * one module in cli/commands/ exporting a CliCommand; it reads the same validated configuration as
 * the servers (config/load.ts) and writes its results to io.stdout, its progress and errors to
 * io.stderr. The exit code is what run() resolves to.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The configuration of this installation, as every process loads it. */
  config: Readonly<Config>;
  log: Logger;
}

export interface CliCommand {
  name: string;
  /** One line for `lightbox help`. */
  summary: string;
  /** Usage text: arguments and options. */
  usage: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}
