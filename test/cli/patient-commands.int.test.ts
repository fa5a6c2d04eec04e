/**
 * `lightbox patient-export` and `lightbox patient-erase` on an archive in PostgreSQL: the ZIP holds
 * DICOMDIR and every instance of the record byte for byte; the erasure prints its receipt, a second
 * run prints the same one, and the record is gone. Usage errors are refused (no --yes, bad key).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import test from 'ava';
import { ExitCode } from '../../cli/exit-codes.js';
import { runCli } from '../../cli/run.js';
import { createArchiveFixture, type ArchiveFixture } from '../helpers/archive-fixture.js';
import { requirePostgres } from '../helpers/postgres.js';
import { makeUID, writeInstanceFile } from '../helpers/synthetic.js';
import { requireTool } from '../helpers/tools.js';

const exec = promisify(execFile);

if ((await requirePostgres(test)) && (await requireTool(test, 'unzip', ['-v']))) {
  let fixture: ArchiveFixture;
  let databaseUrl: string;
  let patientKey: string;
  const hashes: string[] = [];

  test.before(async () => {
    fixture = await createArchiveFixture();
    databaseUrl = fixture.databaseUrl;
    const inbox = path.join(fixture.directory, 'in');
    await mkdir(inbox);
    const StudyInstanceUID = makeUID();
    const SeriesInstanceUID = makeUID();
    for (let i = 1; i <= 2; i++) {
      const file = path.join(inbox, `${i}.dcm`);
      await writeInstanceFile(file, { StudyInstanceUID, SeriesInstanceUID, InstanceNumber: i });
      const archived = await fixture.archive(file);
      patientKey = archived.patientKey;
      hashes.push(archived.sha256);
    }
  });
  test.after.always(() => fixture?.close());

  async function cli(...argv: string[]) {
    let stdout = '';
    const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await runCli(argv, {
      stdout: out,
      stderr: new PassThrough().resume(),
      env: {
        DATABASE_URL: databaseUrl,
        LIGHTBOX_DATA_DIR: fixture.directory,
        LOG_LEVEL: 'silent',
      },
    });
    return { code, stdout };
  }

  test.serial('patient-export writes PS3.10 media in a ZIP', async (t) => {
    const zip = path.join(fixture.directory, 'record.zip');
    const { code, stdout } = await cli('patient-export', patientKey, zip);
    t.is(code, ExitCode.Ok);
    t.regex(stdout, /exported 2 instances with DICOMDIR/);
    const entries = (await exec('unzip', ['-Z1', zip])).stdout.trim().split('\n');
    t.is(entries[0], 'DICOMDIR');
    const media = path.join(fixture.directory, 'media');
    await exec('unzip', ['-q', zip, '-d', media]);
    for (const entry of entries.slice(1)) {
      const bytes = await readFile(path.join(media, entry));
      t.true(hashes.includes(createHash('sha256').update(bytes).digest('hex')));
    }
  });

  test.serial('patient-erase needs --yes, prints the receipt, and again the same', async (t) => {
    t.not((await cli('patient-erase', patientKey)).code, ExitCode.Ok);
    t.not((await cli('patient-erase', 'not-a-key', '--yes')).code, ExitCode.Ok);
    const first = await cli('patient-erase', patientKey, '--yes');
    t.is(first.code, ExitCode.Ok);
    const receipt = JSON.parse(first.stdout) as {
      counts: { instances: number };
      receiptSha256: string;
    };
    t.is(receipt.counts.instances, 2);
    const again = await cli('patient-erase', patientKey, '--yes');
    t.deepEqual(JSON.parse(again.stdout), receipt);
    t.is((await fixture.index.counts()).instances, 0);
  });
}
