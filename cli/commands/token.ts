/**
 * `lightbox token --account <id> [--ttl <seconds>]`: a bearer JWT for an account, signed with this
 * installation's key, and its portal sign-in link; `--organisation <id>` makes an organisation's
 * token instead (STOW-RS, its own studies). Prints the token, then the link.
 */
import { parseArgs } from 'node:util';
import { configuredBaseUrl, signInFor } from '../../core/grants/sign-in.js';
import type { CliCommand } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { withGrantServices } from './with-grants.js';

function ttlOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^([0-9]{1,8})([smhd]?)$/.exec(value);
  if (!match) throw new UsageError('--ttl: a number of seconds, or with s, m, h or d');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 60 || seconds > 366 * 86_400) throw new UsageError('--ttl: 1 minute to 366 days');
  return seconds;
}

export const token: CliCommand = {
  name: 'token',
  summary: 'mint a bearer token (JWT) and portal sign-in link for an account or organisation',
  usage: 'token (--account <id> | --organisation <id>) [--ttl <seconds|30m|8h|7d>]',
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        account: { type: 'string' },
        organisation: { type: 'string' },
        ttl: { type: 'string' },
      },
    });
    const ttl = ttlOf(values.ttl);
    if (!values.account === !values.organisation) {
      throw new UsageError('exactly one of --account or --organisation');
    }
    const base = configuredBaseUrl(io.config);
    const result = await withGrantServices(io, async (g) => {
      if (values.organisation) {
        const id = values.organisation;
        if (!g.organisations.some((o) => o.id === id)) {
          throw new UsageError(`--organisation: no organisation "${id}" in the configuration`);
        }
        return g.tokens.sign(
          { sub: `organisation:${id}`, kind: 'organisation', organisationId: id },
          ttl,
        );
      }
      const account = await g.accounts.get(values.account!);
      if (!account) throw new UsageError(`--account: no account "${values.account}"`);
      const signIn = await signInFor(g.tokens, account, base, ttl);
      g.audit.record({
        action: 'sign-in',
        principal:
          account.kind === 'organisation-admin'
            ? {
                kind: account.kind,
                accountId: account.accountId,
                organisationId: account.organisationId!,
              }
            : { kind: account.kind, accountId: account.accountId },
        via: 'cli',
        outcome: 'ok',
        detail: { tokenIssued: true, expiresAt: signIn.expiresAt },
      });
      return signIn;
    });
    io.stdout.write(`${result.token}\n`);
    if ('link' in result) io.stdout.write(`${result.link}\n`);
    io.stderr.write(`expires ${result.expiresAt}\n`);
    return ExitCode.Ok;
  },
};
