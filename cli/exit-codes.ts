/**
 * Exit codes of `lightbox <command>`, the same for every command (sysexits.h where one fits), so that
 * scripts can tell "found problems" from "used wrongly" from "could not run".
 */
export const ExitCode = {
  /** Done, nothing wrong found. */
  Ok: 0,
  /** The command ran and found problems (verify: a mismatch; import: a refused file) or failed. */
  Failure: 1,
  /** Unknown command, unknown option, missing argument (EX_USAGE is 64; 2 is the shell's habit). */
  Usage: 2,
  /** The configuration is invalid, or the data directory is owned by a running Lightbox. */
  Unavailable: 69,
  Config: 78,
} as const;

/** Thrown by a command for bad arguments: the dispatcher prints the message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
