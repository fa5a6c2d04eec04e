/**
 * `lightbox account create|link|list`: the accounts of the embedded mode (patients, doctors,
 * administrators) and the patient records linked to patient accounts. Prints JSON lines.
 */
import { parseArgs } from 'node:util';
import { ACCOUNT_KINDS, type AccountKind } from '../../core/grants/accounts.js';
import type { CliCommand, CliIO } from '../command.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { withGrantServices } from './with-grants.js';

const USAGE = `account create --kind ${ACCOUNT_KINDS.join('|')} --name <display name> [--organisation <id>]
       account link --account <id> --patient-id <PatientID> [--issuer <IssuerOfPatientID>]
       account list [--kind <kind>]`;

function kindOf(value: string | undefined): AccountKind | undefined {
  if (value === undefined) return undefined;
  if (!(ACCOUNT_KINDS as readonly string[]).includes(value)) {
    throw new UsageError(`--kind must be one of ${ACCOUNT_KINDS.join(', ')}`);
  }
  return value as AccountKind;
}

async function create(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kind: { type: 'string' },
      name: { type: 'string' },
      organisation: { type: 'string' },
    },
  });
  const kind = kindOf(values.kind);
  if (!kind || !values.name) throw new UsageError('--kind and --name are required');
  const organisationId = values.organisation;
  if (
    organisationId !== undefined &&
    !io.config.organisations.some((o) => o.id === organisationId)
  ) {
    throw new UsageError(
      `--organisation: no organisation "${organisationId}" in the configuration`,
    );
  }
  const account = await withGrantServices(io, (g) =>
    g.accounts.create({ kind, displayName: values.name!, organisationId }),
  );
  io.stdout.write(`${JSON.stringify(account)}\n`);
  return ExitCode.Ok;
}

async function link(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      account: { type: 'string' },
      issuer: { type: 'string', default: '' },
      'patient-id': { type: 'string' },
    },
  });
  if (!values.account || !values['patient-id']) {
    throw new UsageError('--account and --patient-id are required');
  }
  const patientKey = await withGrantServices(io, (g) =>
    g.accounts.linkPatientRecord(values.account!, {
      IssuerOfPatientID: values.issuer ?? '',
      PatientID: values['patient-id']!,
    }),
  );
  io.stdout.write(`${JSON.stringify({ accountId: values.account, patientKey })}\n`);
  return ExitCode.Ok;
}

async function list(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { kind: { type: 'string' } } });
  const accounts = await withGrantServices(io, (g) => g.accounts.list(kindOf(values.kind)));
  for (const account of accounts) io.stdout.write(`${JSON.stringify(account)}\n`);
  return ExitCode.Ok;
}

export const account: CliCommand = {
  name: 'account',
  summary: 'create accounts (patient, doctor, administrators), link patient records, list',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'create') return create(rest, io);
    if (sub === 'link') return link(rest, io);
    if (sub === 'list') return list(rest, io);
    throw new UsageError('expected create, link or list');
  },
};
