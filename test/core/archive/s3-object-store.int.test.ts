/**
 * S3ObjectStore against the ObjectStore contract, on s3rver (an in-process fake S3).
 *
 * s3rver answers 501 to the minio client's multipart uploads, so every object in these tests stays
 * below partSize (64 MiB) and minio sends a single PUT. The multipart path is not exercised here.
 */
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Client } from 'minio';
import { createObjectStore } from '../../../core/archive/create-object-store.js';
import { S3ObjectStore, type S3ObjectsConfig } from '../../../core/archive/s3-object-store.js';
import { startS3rver, type S3rverHandle } from '../../helpers/s3rver.js';
import { objectStoreContract } from './object-store.contract.js';

const partSize = 64 * 1024 * 1024;

function configFor(s3: S3rverHandle, bucket: string): S3ObjectsConfig {
  const { endPoint, port, accessKey, secretKey } = s3;
  return {
    kind: 's3',
    endPoint,
    port,
    useSSL: false,
    accessKey,
    secretKey,
    region: 'us-east-1',
    bucket,
    partSize,
  };
}

objectStoreContract(test, 's3', async () => {
  const s3 = await startS3rver();
  const bucket = `lightbox-${randomBytes(4).toString('hex')}`;
  const store = await createObjectStore(configFor(s3, bucket));
  const client = new Client({ ...configFor(s3, bucket), retryOptions: { disableRetry: true } });
  return {
    store,
    /** Every object under the prefix (complete uploads; s3rver has no multipart ones). */
    async listKeys(prefix) {
      const keys: string[] = [];
      for await (const item of client.listObjectsV2(bucket, `${prefix}/`, true)) {
        if (item.name) keys.push(item.name);
      }
      return keys;
    },
    async close() {
      await store.close();
      await s3.close();
    },
  };
});

test('s3: the factory creates the bucket, and a second start finds it', async (t) => {
  const s3 = await startS3rver();
  t.teardown(() => s3.close());
  const first = await createObjectStore(configFor(s3, 'lightbox-objects'));
  const second = await createObjectStore(configFor(s3, 'lightbox-objects'));
  await t.notThrowsAsync(first.ping());
  await t.notThrowsAsync(second.ping());
  await Promise.all([first.close(), second.close()]);
});

test('s3: an unreachable endpoint is StorageUnavailable', async (t) => {
  const s3 = await startS3rver();
  const config = configFor(s3, 'lightbox-objects');
  await s3.close();
  const store = new S3ObjectStore(config);
  t.teardown(() => store.close());
  await t.throwsAsync(store.ping(), { code: 'StorageUnavailable' });
  await t.throwsAsync(store.statObject('a.dcm'), { code: 'StorageUnavailable' });
  await t.throwsAsync(createObjectStore(config), { code: 'StorageUnavailable' });
});

test('s3: ping fails when the bucket does not exist', async (t) => {
  const s3 = await startS3rver();
  t.teardown(() => s3.close());
  const store = new S3ObjectStore(configFor(s3, 'never-created'));
  t.teardown(() => store.close());
  await t.throwsAsync(store.ping(), { code: 'StorageUnavailable' });
});
