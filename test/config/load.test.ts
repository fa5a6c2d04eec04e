/**
 * loadConfig: schema defaults (the embedded default needs no setting), the environment switching each
 * adapter to its service, every bad setting reported at once, and the precedence defaults ← JSON file
 * (LIGHTBOX_CONFIG) ← environment ← overrides.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts that `fn` throws a ConfigError and returns it. */
function configError(t: ExecutionContext, fn: () => unknown): ConfigError {
  const error = t.throws<ConfigError>(fn, { instanceOf: ConfigError });
  if (!error) throw new Error('expected a ConfigError');
  return error;
}

test('defaults: the embedded kinds, local ports, ./data directories', (t) => {
  const config = loadConfig({ env: {} });
  t.like(config, {
    gateway: {
      aeTitle: 'LIGHTBOX',
      host: '127.0.0.1',
      port: 11112,
      allowedCallingAETitles: [],
      checkCalledAETitle: true,
    },
    spool: { directory: './data/spool', fsync: true },
    queue: { kind: 'in-process', concurrency: 16 },
    objects: { kind: 'fs', directory: './data/objects' },
    index: { kind: 'pglite', directory: './data/index' },
    viewerApi: { host: '127.0.0.1', port: 8042 },
    log: { level: 'info' },
  });
  t.true(Object.isFrozen(config) && Object.isFrozen(config.gateway), 'deep-frozen');
  t.throws(() => {
    (config.gateway as { port: number }).port = 1;
  });
});

test('LIGHTBOX_DATA_DIR puts spool, objects and index under one directory', (t) => {
  const config = loadConfig({ env: { LIGHTBOX_DATA_DIR: '/srv/lightbox' } });
  t.is(config.spool.directory, path.join('/srv/lightbox', 'spool'));
  t.deepEqual(config.objects, { kind: 'fs', directory: path.join('/srv/lightbox', 'objects') });
  t.deepEqual(config.index, { kind: 'pglite', directory: path.join('/srv/lightbox', 'index') });
  const spoolElsewhere = loadConfig({
    env: { LIGHTBOX_DATA_DIR: '/srv/lightbox', SPOOL_DIR: '/mnt/spool' },
  });
  t.is(spoolElsewhere.spool.directory, '/mnt/spool', 'SPOOL_DIR wins over the data directory');
});

test('REDIS_URL, DATABASE_URL and S3_ENDPOINT switch each adapter to its service', (t) => {
  const config = loadConfig({
    env: {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'site1',
      QUEUE_CONCURRENCY: '16',
      DATABASE_URL: 'postgres://lightbox@db:5432/lightbox',
      S3_ENDPOINT: 'minio',
      S3_PORT: '9000',
      S3_USE_SSL: 'false',
      S3_ACCESS_KEY: 'access',
      S3_SECRET_KEY: 'secret',
      S3_BUCKET: 'lightbox-objects',
      DICOM_PORT: '104',
      DICOM_ALLOWED_CALLING_AE_TITLES: 'CT01, MR01 ,,PACS',
      HTTP_PORT: '8080',
      SPOOL_FSYNC: 'no',
      LOG_LEVEL: 'warn',
    },
  });
  t.like(config.queue, {
    kind: 'bullmq',
    redisUrl: 'redis://127.0.0.1:6379',
    prefix: 'site1',
    queueName: 'ingest',
    concurrency: 16,
  });
  t.like(config.index, { kind: 'postgres', databaseUrl: 'postgres://lightbox@db:5432/lightbox' });
  t.like(config.objects, {
    kind: 's3',
    endPoint: 'minio',
    port: 9000,
    useSSL: false,
    accessKey: 'access',
    secretKey: 'secret',
    bucket: 'lightbox-objects',
    region: 'us-east-1',
  });
  t.is(config.gateway.port, 104, 'ports are coerced from strings');
  t.deepEqual(config.gateway.allowedCallingAETitles, ['CT01', 'MR01', 'PACS']);
  t.is(config.viewerApi.port, 8080);
  t.false(config.spool.fsync);
  t.is(config.log.level, 'warn');
});

test('each switch is independent: only REDIS_URL leaves objects and index embedded', (t) => {
  const config = loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
  t.is(config.queue.kind, 'bullmq');
  t.like(config.queue, { prefix: 'lightbox' });
  t.is(config.objects.kind, 'fs');
  t.is(config.index.kind, 'pglite');
});

test('a bad configuration throws ConfigError listing every issue, not only the first', (t) => {
  const error = configError(t, () =>
    loadConfig({
      env: {
        DICOM_PORT: 'abc',
        DICOM_AE_TITLE: 'A_CALLED_AE_TITLE_TOO_LONG',
        S3_ENDPOINT: 'minio',
        HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        SPOOL_FSYNC: 'maybe',
      },
    }),
  );
  const issues = error.issues.join('\n');
  t.is(error.code, 'InvalidConfig');
  t.is(error.name, 'ConfigError');
  for (const pathText of [
    'gateway.port',
    'gateway.aeTitle',
    'objects.accessKey',
    'objects.secretKey',
    'objects.bucket',
    'viewerApi.port',
    'log.level',
    'spool.fsync',
  ]) {
    t.true(
      error.issues.some((issue) => issue.startsWith(`${pathText}:`)),
      `${pathText} is reported in:\n${issues}`,
    );
  }
  t.is(error.issues.length, 8, issues);
  for (const issue of error.issues) t.true(error.message.includes(issue), 'the message lists it');
});

test('AE titles: 16 characters at most, no backslash; REDIS_PREFIX without ":"', (t) => {
  t.is(
    loadConfig({ env: { DICOM_AE_TITLE: 'SIXTEEN_CHARS_OK' } }).gateway.aeTitle,
    'SIXTEEN_CHARS_OK',
  );
  configError(t, () => loadConfig({ env: { DICOM_AE_TITLE: 'SEVENTEEN_CHARS_X' } }));
  configError(t, () => loadConfig({ env: { DICOM_AE_TITLE: 'BACK\\SLASH' } }));
  const list = configError(t, () =>
    loadConfig({ env: { DICOM_ALLOWED_CALLING_AE_TITLES: 'CT01,WAY_TOO_LONG_CALLING_AE' } }),
  );
  t.true(list.issues[0].startsWith('gateway.allowedCallingAETitles.1:'), list.issues[0]);
  const prefix = configError(t, () =>
    loadConfig({ env: { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: 'a:b' } }),
  );
  t.true(prefix.issues[0].startsWith('queue.prefix:'), prefix.issues[0]);
});

test('file ← environment ← overrides: the environment wins over LIGHTBOX_CONFIG', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lightbox.json');
  await writeFile(
    file,
    JSON.stringify({
      gateway: { aeTitle: 'FROMFILE', port: 2000, allowedCallingAETitles: ['CT01'] },
      spool: { directory: '/file/spool' },
      queue: { kind: 'in-process', concurrency: 2 },
      objects: { kind: 'fs', directory: '/file/objects' },
      viewerApi: { port: 9000 },
    }),
  );
  const fileOnly = loadConfig({ env: { LIGHTBOX_CONFIG: file } });
  t.like(fileOnly, {
    gateway: { aeTitle: 'FROMFILE', port: 2000, allowedCallingAETitles: ['CT01'] },
    spool: { directory: '/file/spool' },
    queue: { kind: 'in-process', concurrency: 2 },
    objects: { kind: 'fs', directory: '/file/objects' },
    viewerApi: { port: 9000, host: '127.0.0.1' },
  });

  const withEnv = loadConfig({
    env: { LIGHTBOX_CONFIG: file, DICOM_PORT: '3000', SPOOL_DIR: '/env/spool' },
  });
  t.is(withEnv.gateway.port, 3000, 'environment over file');
  t.is(withEnv.gateway.aeTitle, 'FROMFILE', 'file values the environment does not set are kept');
  t.is(withEnv.spool.directory, '/env/spool');
  t.is(withEnv.queue.concurrency, 2);

  const withOverrides = loadConfig({
    env: { LIGHTBOX_CONFIG: file, DICOM_PORT: '3000' },
    overrides: { gateway: { port: 0 } },
  });
  t.is(withOverrides.gateway.port, 0, 'overrides over environment');

  const explicitFile = loadConfig({ env: { DICOM_PORT: '3000' }, file });
  t.is(explicitFile.gateway.aeTitle, 'FROMFILE', 'options.file is read like LIGHTBOX_CONFIG');
});

test('an environment switch replaces the file slice of another kind wholesale', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lightbox.json');
  await writeFile(
    file,
    JSON.stringify({
      queue: { kind: 'in-process', concurrency: 2, attempts: 3 },
      objects: { kind: 'fs', directory: '/file/objects' },
      index: { kind: 'pglite', directory: '/file/index' },
    }),
  );
  const config = loadConfig({
    env: {
      LIGHTBOX_CONFIG: file,
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://db/lightbox',
      S3_ENDPOINT: 's3.example',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 's',
      S3_BUCKET: 'bucket',
    },
  });
  t.like(config.queue, { kind: 'bullmq', concurrency: 8, attempts: 10 }, 'no in-process leftovers');
  t.false('directory' in config.objects);
  t.false('directory' in config.index);
  t.like(config.objects, { kind: 's3', endPoint: 's3.example', useSSL: true });
  t.like(config.index, { kind: 'postgres', databaseUrl: 'postgres://db/lightbox' });
});

test('a file of the same kind as the environment is merged, not replaced', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lightbox.json');
  await writeFile(
    file,
    JSON.stringify({
      queue: { kind: 'bullmq', redisUrl: 'redis://file:6379', queueName: 'from-file' },
      objects: {
        kind: 's3',
        endPoint: 'file.example',
        accessKey: 'file-access',
        secretKey: 'file-secret',
        bucket: 'file-bucket',
      },
    }),
  );
  const config = loadConfig({
    env: { LIGHTBOX_CONFIG: file, REDIS_URL: 'redis://env:6379', S3_ENDPOINT: 'env.example' },
  });
  t.like(config.queue, { kind: 'bullmq', redisUrl: 'redis://env:6379', queueName: 'from-file' });
  t.like(config.objects, {
    kind: 's3',
    endPoint: 'env.example',
    accessKey: 'file-access',
    bucket: 'file-bucket',
  });
});

test('an unreadable or invalid LIGHTBOX_CONFIG is a ConfigError naming the file', async (t) => {
  const dir = await tempDir(t);
  const missing = path.join(dir, 'absent.json');
  const absent = configError(t, () => loadConfig({ env: { LIGHTBOX_CONFIG: missing } }));
  t.true(absent.issues[0].startsWith(`${missing}:`), absent.issues[0]);
  const broken = path.join(dir, 'broken.json');
  await writeFile(broken, '{ "gateway": ');
  const invalid = configError(t, () => loadConfig({ env: { LIGHTBOX_CONFIG: broken } }));
  t.true(invalid.issues[0].startsWith(`${broken}:`), invalid.issues[0]);
  const wrongType = path.join(dir, 'wrong.json');
  await writeFile(wrongType, JSON.stringify({ gateway: { checkCalledAETitle: 'yes' } }));
  const typed = configError(t, () => loadConfig({ env: { LIGHTBOX_CONFIG: wrongType } }));
  t.true(typed.issues[0].startsWith('gateway.checkCalledAETitle:'), typed.issues[0]);
});

// An empty line in an .env or compose file (`DICOM_PORT=`) must not become port 0 (a random port),
// nor `DICOM_HOST=` '' (which net.Server.listen takes as every interface).
test('an empty variable is unset: DICOM_PORT= and DICOM_HOST= keep their defaults', (t) => {
  const config = loadConfig({
    env: { DICOM_PORT: '', DICOM_HOST: '', HTTP_PORT: '', HTTP_HOST: '' },
  });
  t.is(config.gateway.port, 11112);
  t.is(config.gateway.host, '127.0.0.1');
  t.is(config.viewerApi.port, 8042);
  t.is(config.viewerApi.host, '127.0.0.1');
});

test('a host set in the file cannot be empty', (t) => {
  t.throws(() => loadConfig({ env: {}, overrides: { gateway: { host: '' } } }), {
    instanceOf: ConfigError,
  });
});

test('the example configuration file parses', (t) => {
  const example = new URL('../../config/lightbox.example.json', import.meta.url).pathname;
  const config = loadConfig({ env: {}, file: example });
  t.deepEqual(config.gateway.allowedCallingAETitles, ['CT01', 'MR01', 'PACS']);
});
