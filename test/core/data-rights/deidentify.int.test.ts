/**
 * De-identified copies (PS3.15 Annex E, Basic Profile) of real DICOM files nobody on the project
 * wrote (pydicom's test files: explicit and implicit VR, big endian, encapsulated JPEG, RT plan with
 * nested references, SR content, private sequences, UN sequences, character sets): every attribute of
 * Table E.1-1, at every depth, handled per its action code (checked independently with pydicom),
 * dcmdump reads every output, pixel data unchanged, UIDs consistent within a share.
 * Then the consent gate: no share without the patient's consent, none served after withdrawal.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { DataRights, type Actor } from '../../../core/data-rights/data-rights.js';
import { BASIC_PROFILE } from '../../../core/data-rights/deidentify/basic-profile-table.js';
import { deidentify } from '../../../core/data-rights/deidentify/deidentify-stream.js';
import { createLogger } from '../../../core/log.js';
import { createArchiveFixture, type ArchiveFixture } from '../../helpers/archive-fixture.js';
import { requirePostgres } from '../../helpers/postgres.js';
import { pydicomFiles, sample, type SampleFile } from '../../helpers/samples.js';
import { requireService, requireTool } from '../../helpers/tools.js';

const exec = promisify(execFile);
const CHECKER = new URL('../../helpers/deidentify-check.py', import.meta.url).pathname;
/** Debian's python3-pydicom is installed for the system Python. */
const PYTHON = '/usr/bin/python3';
const FILES = [
  'CT_small.dcm',
  'MR_small.dcm',
  'MR_small_implicit.dcm',
  'MR_small_bigendian.dcm',
  'JPEG-lossy.dcm',
  'rtplan.dcm',
  'rtdose.dcm',
  'test-SR.dcm',
  'nested_priv_SQ.dcm',
  'priv_SQ.dcm',
  'UN_sequence.dcm',
  'chrSQEncoding.dcm',
  'waveform_ecg.dcm',
];

let files: SampleFile[] = [];
const ready =
  (await requireTool(test, 'dcmdump')) &&
  (await requireService(test, 'pydicom (python3-pydicom)', () =>
    access('/usr/lib/python3/dist-packages/pydicom/__init__.py'),
  )) &&
  (await requireService(test, 'pydicom test data', async () => (files = await pydicomFiles()))) &&
  (await requirePostgres(test));

if (ready) {
  let fixture: ArchiveFixture;
  test.before(async () => {
    fixture = await createArchiveFixture();
  });
  test.after.always(() => fixture?.close());

  test('every Table E.1-1 attribute handled per its action; dcmdump reads the copies', async (t) => {
    const out = path.join(fixture.directory, 'deidentified');
    await mkdir(out);
    const pairs: string[] = [];
    for (const name of FILES) {
      const input = sample(files, name).path;
      const output = path.join(out, name);
      await pipeline(
        deidentify(createReadStream(input), 'share-secret-1'),
        createWriteStream(output),
      );
      const dump = await exec('dcmdump', ['+E', output]);
      t.notRegex(dump.stderr, /^E: /m, `${name}: dcmdump reports no error`);
      pairs.push(input, output);
    }
    const tableFile = path.join(fixture.directory, 'table.json');
    const table = Object.fromEntries(
      [...BASIC_PROFILE].map(([tag, code]) => [tag.toString(16).padStart(8, '0'), code]),
    );
    await writeFile(tableFile, JSON.stringify(table));
    const report = JSON.parse(
      (await exec(PYTHON, [CHECKER, tableFile, ...pairs], { maxBuffer: 1 << 24 })).stdout,
    ) as { violations: string[]; checked: Record<string, number> };
    t.deepEqual(report.violations, []);
    // The corpus exercises each kind of action, nested ones included.
    for (const code of ['X', 'Z', 'D', 'U', 'K', 'Z/D', 'X/Z', 'X/D', 'X/Z/D', 'X/Z/U*']) {
      t.true((report.checked[code] ?? 0) > 0, `action ${code} exercised`);
    }
  });

  test('no share without consent; a withdrawn consent stops the share', async (t) => {
    const dataRights = new DataRights({
      sql: fixture.index.sql,
      objects: fixture.objects,
      config: {
        exportDirectory: path.join(fixture.directory, 'exports'),
        discardErasedPatients: false,
        regions: {},
      },
      log: createLogger({ level: 'silent' }, {}),
    });
    const actor: Actor = { principal: { kind: 'patient', accountId: 'p1' }, via: 'api' };
    const archived = await fixture.archive(sample(files, 'CT_small.dcm').path);
    const { patientKey, StudyInstanceUID } = archived;
    await t.throwsAsync(dataRights.createDeidentifiedShare(patientKey, StudyInstanceUID, actor), {
      message: /consent/,
    });
    await dataRights.giveDeidentificationConsent(patientKey, 'research on CT dose', actor);
    const { shareId } = await dataRights.createDeidentifiedShare(
      patientKey,
      StudyInstanceUID,
      actor,
    );
    const [listed] = await dataRights.listDeidentifiedShare(shareId);
    t.not(listed.SOPInstanceUID, archived.SOPInstanceUID);
    t.regex(listed.StudyInstanceUID, /^2\.25\.\d+$/);
    const copy = path.join(fixture.directory, 'shared.dcm');
    await pipeline(
      await dataRights.openDeidentifiedInstance(shareId, listed.SOPInstanceUID),
      createWriteStream(copy),
    );
    const dump = (await exec('dcmdump', [copy])).stdout;
    t.true(dump.includes(listed.SOPInstanceUID));
    t.false(dump.includes(archived.SOPInstanceUID));
    t.regex(dump, /\(0012,0062\) CS \[YES\]/);

    await dataRights.withdrawDeidentificationConsent(patientKey);
    await t.throwsAsync(dataRights.listDeidentifiedShare(shareId), { message: 'not found' });
    await t.throwsAsync(dataRights.openDeidentifiedInstance(shareId, listed.SOPInstanceUID), {
      message: 'not found',
    });
  });
}
