/**
 * Lightbox in services mode on servers of its own, for the reliability suite: private Redis,
 * PostgreSQL and s3rver (test/helpers/private-services.ts, so that stopping them harms no one
 * else), a spool directory optionally on a size-limited tmpfs, and gateway, worker and viewer-api as
 * processes configured by environment only, each of which can be killed and started again.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client as MinioClient } from 'minio';
import { TEST_API_TOKEN } from '../../helpers/dicomweb.js';
import { freePort } from '../../helpers/ports.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  startS3rverProcess,
  type RestartableServer,
  type S3Credentials,
} from '../../helpers/private-services.js';
import {
  spawnLightbox,
  waitFor,
  waitForListening,
  type EntryPoint,
  type SpawnedProcess,
} from '../../helpers/processes.js';
import { mountTmpfs, type Mount } from '../../helpers/tmpfs.js';
import { s3Client, storedCount } from '../archive.js';

export const BUCKET = 'lightbox-reliability';
export const PREFIX = 'lbrel';

export type Role = Extract<EntryPoint, 'gateway' | 'worker' | 'viewer-api'>;

export interface Stack {
  work: string;
  spool: string;
  /** The spool's tmpfs, when the stack was asked for one. */
  spoolMount?: Mount;
  redis: RestartableServer;
  postgres: RestartableServer;
  s3: RestartableServer & S3Credentials;
  minio: MinioClient;
  dicomPort: number;
  httpPort: number;
  processes: Record<Role, SpawnedProcess>;
  /** Starts (again) one process and waits until it serves. */
  start(role: Role): Promise<SpawnedProcess>;
  /** Everything down, everything removed. */
  destroy(): Promise<void>;
}

export interface StackOptions {
  /** Mount a tmpfs of this size on the spool directory (root only; see test/helpers/tmpfs.ts). */
  spoolBytes?: number;
  /** Workers' reconciliation of ready/ entries without a job (queue.reconcileAfterMs). */
  reconcileAfterMs?: number;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'lightbox-reliability-'));
  await chmod(work, 0o755); // PostgreSQL runs as its own user below it
  const spool = path.join(work, 'spool');
  await mkdir(spool);
  const spoolMount = options.spoolBytes ? await mountTmpfs(spool, options.spoolBytes) : undefined;
  const servers = await Promise.allSettled([
    startPrivateRedis(path.join(work, 'redis')),
    startPrivatePostgres(path.join(work, 'postgres')),
    startS3rverProcess(path.join(work, 's3')),
  ]);
  const failed = servers.find((s) => s.status === 'rejected');
  if (failed) {
    for (const s of servers) if (s.status === 'fulfilled') await s.value.destroy();
    await spoolMount?.unmount();
    await rm(work, { recursive: true, force: true });
    throw failed.reason;
  }
  const [redis, postgres, s3] = servers.map(
    (s) => (s as PromiseFulfilledResult<RestartableServer>).value,
  ) as [RestartableServer, RestartableServer, RestartableServer & S3Credentials];
  const configFile = path.join(work, 'lightbox.json');
  // Only what has no environment variable: the reconciliation delay (120 s by default).
  await writeFile(
    configFile,
    JSON.stringify({
      queue: { kind: 'bullmq', reconcileAfterMs: options.reconcileAfterMs ?? 2_000 },
    }),
  );
  const stack = {
    work,
    spool,
    spoolMount,
    redis,
    postgres,
    s3,
    minio: s3Client(s3),
    dicomPort: await freePort(),
    httpPort: await freePort(),
    processes: {} as Record<Role, SpawnedProcess>,
  } as Stack;
  const env = (): Record<string, string> => ({
    LIGHTBOX_CONFIG: configFile,
    REDIS_URL: redis.url,
    REDIS_PREFIX: PREFIX,
    DATABASE_URL: postgres.url,
    S3_ENDPOINT: s3.endPoint,
    S3_PORT: String(s3.port),
    S3_USE_SSL: 'false',
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    S3_BUCKET: BUCKET,
    SPOOL_DIR: spool,
    DICOM_PORT: String(stack.dicomPort),
    HTTP_PORT: String(stack.httpPort),
    DICOM_MAX_ASSOCIATIONS: '16',
    LIGHTBOX_API_TOKEN: TEST_API_TOKEN,
    LOG_LEVEL: 'warn',
  });
  stack.start = async (role: Role) => {
    const p = spawnLightbox(role, env());
    stack.processes[role] = p;
    if (role === 'gateway') await waitForListening(p, stack.dicomPort, 120_000);
    else if (role === 'viewer-api') await waitForListening(p, stack.httpPort, 120_000);
    else {
      await waitFor(
        'the worker to create the bucket and migrate the index',
        async () =>
          (await stack.minio.bucketExists(BUCKET).catch(() => false)) &&
          (await storedCount(postgres.url)) !== undefined,
        { timeoutMs: 120_000, intervalMs: 100, alive: [p] },
      );
    }
    return p;
  };
  stack.destroy = async () => {
    await Promise.all(Object.values(stack.processes).map((p) => p.kill9()));
    await Promise.all([redis.destroy(), postgres.destroy(), s3.destroy()]);
    await spoolMount?.unmount();
    await rm(work, { recursive: true, force: true });
  };
  try {
    // The worker first: it makes the bucket and migrates the index.
    await stack.start('worker');
    await Promise.all([stack.start('gateway'), stack.start('viewer-api')]);
  } catch (error) {
    await stack.destroy();
    throw error;
  }
  return stack;
}
