/**
 * The operator's commands on the embedded mode (PGlite index, fs objects) through the real
 * dispatcher: import a folder, let Lightbox archive it, verify, export byte for byte, lose the index
 * and reindex (same QIDO answers), then corrupt and remove objects and watch verify fail. Also: the
 * CLI refuses to open the PGlite index while Lightbox owns it.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/run.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { createIndexStore } from '../../core/archive/create-index-store.js';
import { objectKey } from '../../core/archive/object-store.js';
import { writeStudy, type SentInstance } from '../e2e/archive.js';
import { startTestLightbox } from '../helpers/start-lightbox.js';
import { seedPgliteDirectory } from '../helpers/pglite-template.js';

const TOKEN = 'cli-test-token-0123456789abcdef0123';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let work: string;
let data: string;
let folder: string;
let study: SentInstance[];
let qidoBefore: unknown;

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough().on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await runCli(argv, {
    stdout: out,
    stderr: err,
    env: { LIGHTBOX_DATA_DIR: data, LOG_LEVEL: 'silent' },
  });
  return { code, stdout, stderr };
}

/**
 * Starts Lightbox on the data directory, lets it archive what is queued, runs `during` (the CLI
 * beside it), and answers QIDO-RS at the three levels with every attribute, as a viewer sees it.
 */
async function qido(during: () => Promise<void> = async () => undefined): Promise<unknown> {
  const lightbox = await startTestLightbox(
    // A fixed public URL: RetrieveURL must not differ by the port of each start.
    { viewerApi: { apiToken: TOKEN, publicUrl: 'http://lightbox.test' } },
    { dataDirectory: data },
  );
  try {
    await lightbox.settled();
    await during();
    const get = async (p: string) => {
      const r = await fetch(`${lightbox.viewerApi.url}/dicom-web${p}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return r.status === 204 ? [] : r.json();
    };
    const StudyInstanceUID = study[0].StudyInstanceUID;
    return {
      studies: await get('/studies?includefield=all'),
      series: await get(`/studies/${StudyInstanceUID}/series?includefield=all`),
      instances: await get(`/studies/${StudyInstanceUID}/instances?includefield=all`),
    };
  } finally {
    await lightbox.stop({ keepData: true });
  }
}

const objectFile = (i: SentInstance) => path.join(data, 'objects', objectKey(i));

test.before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-cli-'));
  data = path.join(work, 'data');
  await seedPgliteDirectory(path.join(data, 'index'));
  folder = path.join(work, 'in');
  await mkdir(path.join(folder, 'nested'), { recursive: true });
  study = [
    ...(await writeStudy(folder, 4, 'top')),
    ...(await writeStudy(path.join(folder, 'nested'), 2, 'deep')),
  ];
  await writeFile(path.join(folder, 'README.txt'), 'not DICOM');
});
test.after.always(async () => {
  await rm(work, { recursive: true, force: true });
});

test.serial('import: every file through the ingest path; the junk one refused', async (t) => {
  t.timeout(300_000); // a new PGlite directory: minutes on a loaded machine
  const result = await cli('import', folder);
  t.is(result.code, ExitCode.Failure, result.stdout + result.stderr);
  t.regex(result.stdout, /imported 7 files: 6 accepted, 0 duplicates, 1 refused/);
  t.regex(result.stdout, /REFUSED .*README\.txt: InvalidDataset/);
  t.regex(result.stderr, /import: 7\/7/, 'plain progress lines when stderr is not a TTY');
  const ready = await readdir(path.join(data, 'spool', 'ready'));
  t.is(ready.length, 6, 'queued in the spool, as a C-STORE would be');
});

test.serial('Lightbox archives them; the CLI refuses its PGlite index while it runs', async (t) => {
  qidoBefore = await qido(async () => {
    const busy = await cli('verify');
    t.is(busy.code, ExitCode.Unavailable);
    t.regex(busy.stderr, /is in use by Lightbox .*stop Lightbox first/);
  });
  const { studies, instances } = qidoBefore as { studies: unknown[]; instances: unknown[] };
  t.is(studies.length, 2);
  t.is(instances.length, 4);
  for (const i of study) {
    t.is(sha256(await readFile(objectFile(i))), sha256(await readFile(i.path)), 'byte for byte');
  }
});

test.serial('verify: every object intact; import again: all duplicates', async (t) => {
  const verified = await cli('verify');
  t.is(verified.code, ExitCode.Ok, verified.stdout);
  t.regex(verified.stdout, /verified 6 objects: 6 intact, 0 with problems/);
  const again = await cli('import', folder);
  t.regex(again.stdout, /imported 7 files: 0 accepted, 6 duplicates, 1 refused/);
});

test.serial('export: one study, byte for byte', async (t) => {
  const dest = path.join(work, 'export');
  const StudyInstanceUID = study[4].StudyInstanceUID; // the nested study of 2
  const result = await cli('export', dest, '--study', StudyInstanceUID);
  t.is(result.code, ExitCode.Ok, result.stdout + result.stderr);
  t.regex(result.stdout, /exported 2 instances/);
  for (const i of study.slice(4)) {
    const file = path.join(
      dest,
      i.StudyInstanceUID,
      i.SeriesInstanceUID,
      `${i.SOPInstanceUID}.dcm`,
    );
    t.deepEqual(await readFile(file), await readFile(i.path));
  }
  t.deepEqual(await readdir(dest), [StudyInstanceUID]);
  const bad = await cli('export', dest, '--study', 'not-a-uid');
  t.is(bad.code, ExitCode.Failure);
  const both = await cli('export', dest, '--study', StudyInstanceUID, '--patient-id', 'x');
  t.is(both.code, ExitCode.Usage);
});

test.serial(
  'reindex after losing the index: the same QIDO answers; again: unchanged',
  async (t) => {
    t.timeout(300_000); // a new PGlite directory, opened four times: minutes on a loaded machine
    await rm(path.join(data, 'index'), { recursive: true, force: true });
    const rebuilt = await cli('reindex');
    t.is(rebuilt.code, ExitCode.Ok, rebuilt.stdout + rebuilt.stderr);
    t.regex(rebuilt.stdout, /reindexed 6 objects: 6 indexed, 0 unchanged/);
    t.deepEqual(await qido(), qidoBefore);
    const again = await cli('reindex');
    t.regex(again.stdout, /reindexed 6 objects: 0 indexed, 6 unchanged/);
  },
);

test.serial('verify: a corrupted and a missing object are listed, exit 1', async (t) => {
  const corrupted = objectFile(study[0]);
  const bytes = await readFile(corrupted);
  bytes[bytes.length - 1] ^= 0xff;
  await writeFile(corrupted, bytes);
  await unlink(objectFile(study[1]));
  const result = await cli('verify');
  t.is(result.code, ExitCode.Failure);
  t.true(result.stdout.includes(`MISMATCH ${objectKey(study[0])}: SHA-256 differs from the index`));
  t.true(result.stdout.includes(`MISSING  ${objectKey(study[1])}: missing`));
  t.regex(result.stdout, /verified 6 objects: 4 intact, 2 with problems/);
});
