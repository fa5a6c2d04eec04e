/**
 * `lightbox account` and `lightbox token` on a data directory of their own (PGlite): a patient is
 * created and linked to a record, a token printed with its sign-in link; the token carries the
 * account's id and kind, signed by the key the server verifies with. Bad arguments exit 2.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { decodeJwt } from 'jose';
import { runCli } from '../../../cli/run.js';
import { ExitCode } from '../../../cli/exit-codes.js';
import { seedPgliteDirectory } from '../../helpers/pglite-template.js';

let dataDir: string;
test.before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-cli-grants-'));
  await seedPgliteDirectory(path.join(dataDir, 'index'));
});
test.after.always(() => rm(dataDir, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const stdout = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(argv, {
    stdout,
    stderr,
    env: { LOG_LEVEL: 'silent', LIGHTBOX_DATA_DIR: dataDir, HTTP_PORT: '9999' },
  });
  return { code, out, err };
}

test.serial('create a patient, link a record, mint a token and sign-in link', async (t) => {
  const created = await cli('account', 'create', '--kind', 'patient', '--name', 'Jane Test');
  t.is(created.code, ExitCode.Ok, created.err);
  const account = JSON.parse(created.out) as { accountId: string; kind: string };
  t.is(account.kind, 'patient');
  const linked = await cli(
    'account',
    'link',
    '--account',
    account.accountId,
    '--patient-id',
    'P-CLI-1',
  );
  t.is(linked.code, ExitCode.Ok, linked.err);
  t.regex(JSON.parse(linked.out).patientKey, /^[0-9]+$/);
  const minted = await cli('token', '--account', account.accountId, '--ttl', '30m');
  t.is(minted.code, ExitCode.Ok, minted.err);
  const [jwt, link] = minted.out.trim().split('\n');
  t.is(link, `http://127.0.0.1:9999/portal/#token=${jwt}`);
  const claims = decodeJwt(jwt);
  t.like(claims, { sub: account.accountId, kind: 'patient', iss: 'lightbox', aud: 'lightbox' });
  t.is(claims.exp! - claims.iat!, 1800);
});

test.serial('bad kinds, unknown accounts and missing options are usage errors', async (t) => {
  t.is((await cli('account', 'create', '--kind', 'nurse', '--name', 'X')).code, ExitCode.Usage);
  t.is((await cli('account', 'create', '--kind', 'doctor')).code, ExitCode.Usage);
  t.is((await cli('token', '--account', 'pat_nobody')).code, ExitCode.Usage);
  t.is((await cli('token')).code, ExitCode.Usage);
  t.is((await cli('account', 'frobnicate')).code, ExitCode.Usage);
});
