/**
 * The dispatcher behind cli/main.ts: `lightbox [--config file.json] <command> [args…]`. Parses the
 * configuration the way every process does (config/load.ts), finds the command by name and returns its
 * exit code. `help` needs no configuration, so it works even when the configuration is broken.
 */
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../core/log.js';
import { isLightboxError } from '../core/errors.js';
import type { CliCommand, CliIO } from './command.js';
import { COMMANDS } from './commands/index.js';
import { ExitCode, UsageError } from './exit-codes.js';
import { pino } from 'pino';

export interface RunOptions {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The environment configuration is read from; default: the process's (through config/load.ts). */
  env?: Record<string, string | undefined>;
  commands?: readonly CliCommand[];
}

export async function runCli(argv: readonly string[], options: RunOptions): Promise<number> {
  const commands = options.commands ?? COMMANDS;
  const { stderr } = options;
  let args = [...argv];
  let configFile: string | undefined;
  if (args[0] === '--config') {
    configFile = args[1];
    if (!configFile) return usage(stderr, 'lightbox: --config needs a file', commands);
    args = args.slice(2);
  }
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    return help(options.stdout, commands, rest[0]);
  }
  const command = commands.find((c) => c.name === name);
  if (!command) return usage(stderr, `lightbox: unknown command "${name}"`, commands);
  if (rest.includes('--help') || rest.includes('-h')) return help(options.stdout, commands, name);

  let io: CliIO;
  try {
    const config = loadConfig({ env: options.env, file: configFile });
    // Logs go to stderr: stdout carries the command's results (and may be piped).
    const log = createLogger(config.log, { process: 'cli', command: name }, pino.destination(2));
    io = { stdout: options.stdout, stderr, config, log };
  } catch (error) {
    if (error instanceof ConfigError) {
      stderr.write(`${error.message}\n`);
      return ExitCode.Config;
    }
    throw error;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return failure(error, command, stderr);
  }
}

function failure(error: unknown, command: CliCommand, stderr: NodeJS.WritableStream): number {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError || isParseArgsError(error)) {
    stderr.write(`lightbox ${command.name}: ${message}\n\nusage: ${command.usage}\n`);
    return ExitCode.Usage;
  }
  stderr.write(`lightbox ${command.name}: ${message}\n`);
  return isLightboxError(error, 'StorageUnavailable') ? ExitCode.Unavailable : ExitCode.Failure;
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or bad options. */
function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

function help(
  stdout: NodeJS.WritableStream,
  commands: readonly CliCommand[],
  name?: string,
): number {
  const command = name ? commands.find((c) => c.name === name) : undefined;
  if (command) {
    stdout.write(`lightbox ${command.name}: ${command.summary}\n\nusage: ${command.usage}\n`);
    return ExitCode.Ok;
  }
  stdout.write(overview(commands));
  return name ? ExitCode.Usage : ExitCode.Ok;
}

function usage(
  stderr: NodeJS.WritableStream,
  message: string,
  commands: readonly CliCommand[],
): number {
  stderr.write(`${message}\n\n${overview(commands)}`);
  return ExitCode.Usage;
}

function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(4, ...commands.map((c) => c.name.length));
  const lines = [...commands]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: lightbox [--config file.json] <command> [arguments]',
    '',
    'Commands:',
    `  ${'help'.padEnd(width)}  this list; \`lightbox help <command>\` for one command`,
    ...lines,
    '',
    'Configuration: the same environment variables and LIGHTBOX_CONFIG file as the servers.',
    `Exit codes: ${ExitCode.Ok} ok, ${ExitCode.Failure} problems found or failed, ${ExitCode.Usage} usage, ` +
      `${ExitCode.Unavailable} storage unavailable or in use, ${ExitCode.Config} invalid configuration.`,
    '',
  ].join('\n');
}
