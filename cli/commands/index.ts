/**
 * The commands of `lightbox`, by name. Each branch adds its own module in cli/commands/ and ONE line
 * here (keep the list sorted by name so that merges only add lines).
 */
import type { CliCommand } from '../command.js';

export const COMMANDS: readonly CliCommand[] = [];
