/**
 * The commands of `lightbox`, by name. Each branch adds its own module in cli/commands/ and ONE line
 * here (keep the list sorted by name so that merges only add lines).
 */
import type { CliCommand } from '../command.js';
import { account } from './account.js';
import { token } from './token.js';

export const COMMANDS: readonly CliCommand[] = [account, token];
