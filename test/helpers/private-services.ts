/**
 * Private Redis, PostgreSQL and S3 (s3rver) servers for tests that stop and restart them: never the
 * machine's shared servers. Each runs as a child process on a free loopback port with its data in a
 * directory of its own, so that a stop (SIGKILL, or PostgreSQL's immediate shutdown: a crash) and a
 * start on the same port and directory is what an outage and a recovery look like to Lightbox.
 *
 * PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the `postgres` user (runuser),
 * on a data directory owned by it. The binaries come from /usr/lib/postgresql/<version>/bin.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import {
  spawnLightboxScript,
  spawnTracked,
  waitForListening,
  type SpawnedProcess,
} from './processes.js';

const run = promisify(execFile);

/** A server that can be stopped and started again on the same port and data. */
export interface RestartableServer {
  port: number;
  url: string;
  /** Stops it the hard way (no clean shutdown). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** redis-server with AOF on (what docker-compose.yml runs), no RDB snapshots. */
export async function startPrivateRedis(directory: string): Promise<RestartableServer> {
  const port = await freePort();
  await mkdir(directory, { recursive: true });
  let server: SpawnedProcess | undefined;
  const start = async () => {
    server = spawnTracked('redis-server', 'redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      directory,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--protected-mode',
      'no',
    ]);
    await waitForListening(server, port, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => void (await server?.kill9()),
    start,
    destroy: async () => {
      await server?.kill9();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The newest PostgreSQL installed under /usr/lib/postgresql, or undefined. */
export async function postgresBin(): Promise<string | undefined> {
  const versions = await readdir('/usr/lib/postgresql').catch(() => []);
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0];
  return newest ? `/usr/lib/postgresql/${newest}/bin` : undefined;
}

/**
 * initdb into `directory`, then a postmaster on a free port (trust authentication, user postgres,
 * database `lightbox`). stop() is `pg_ctl stop -m immediate`: no checkpoint, crash recovery at start.
 */
export async function startPrivatePostgres(directory: string): Promise<RestartableServer> {
  const bin = await postgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const port = await freePort();
  const data = path.join(directory, 'data');
  await mkdir(directory, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(directory, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { timeout: 60_000 })
      : run(path.join(bin, tool), args, { timeout: 60_000 });
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const start = async () =>
    void (await pg('pg_ctl', [
      '-D',
      data,
      '-o',
      options,
      '-l',
      path.join(directory, 'log'),
      '-w',
      'start',
    ]));
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await run('psql', [url, '-qc', 'CREATE DATABASE lightbox']);
  const stop = async () =>
    void (await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined));
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/lightbox`,
    stop,
    start,
    destroy: async () => {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** s3rver in a child process (test/helpers/s3rver-main.ts): a kill -9 is an object store outage. */
export async function startS3rverProcess(
  directory: string,
): Promise<RestartableServer & S3Credentials> {
  const port = await freePort();
  await mkdir(directory, { recursive: true });
  let server: SpawnedProcess | undefined;
  const start = async () => {
    server = spawnLightboxScript('s3rver', 'test/helpers/s3rver-main.ts', [
      String(port),
      directory,
    ]);
    await waitForListening(server, port, 20_000);
  };
  await start();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    endPoint: '127.0.0.1',
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    directory,
    stop: async () => void (await server?.kill9()),
    start,
    destroy: async () => {
      await server?.kill9();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface S3Credentials {
  endPoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  directory: string;
}
