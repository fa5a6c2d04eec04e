/**
 * Lightbox under test: the embedded default (`bin/lightbox.ts`: gateway + worker + viewer-api in
 * one process, spool + fs objects + PGlite index under one fresh data directory), started as its
 * own process so that its RSS and CPU are its own.
 *
 * "Indexed" is observed from outside, then verified: the spool entry is removed only after
 * completeInstance's index transaction has committed (worker/store-instance.ts), so the first
 * instant at which ready/ and incoming/ are empty AND every object is present under
 * objects/studies/ is the instant the last instance was indexed. After the process has stopped, the
 * PGlite index is opened and counts().instances must equal the number sent.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIndexStore } from '../core/archive/create-index-store.js';
import { objectKey } from '../core/archive/object-store.js';
import type { InstanceRow } from '../core/archive/index-store.js';
import { freePort, portOpen, removeOnExit, spawnTracked, stopProcess, waitUntil } from './proc.js';
import type { ServerUnderTest } from './server.js';

/**
 * The V8 flags of every launcher (package.json's start scripts, Dockerfile, docker-compose): heap
 * growth 300% (fewer major GCs while ingesting), young generation semi-spaces of 2 MB (less idle
 * RSS; ingest throughput unchanged in alternated runs), one V8 background thread instead of four
 * (50 MB less idle RSS, +8% C-STORE throughput with four associations on two cores;
 * docs/benchmarks.md). A flag given in `nodeArgs` replaces the launcher's of the same name.
 */
export const LAUNCHER_NODE_FLAGS = [
  '--heap-growing-percent=300',
  '--max-semi-space-size=2',
  '--v8-pool-size=1',
];

/** This checkout: where Lightbox runs from unless `sourceDirectory` says otherwise. */
export const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Variables that would switch Lightbox to services mode: removed so the embedded default runs. */
const SERVICE_VARIABLES = [
  'LIGHTBOX_CONFIG',
  'REDIS_URL',
  'DATABASE_URL',
  'S3_ENDPOINT',
  'SPOOL_DIR',
];

export interface LightboxOptions {
  /** `source` runs bin/lightbox.ts through tsx; `dist` runs the build in dist/ (npm run build). */
  entry?: 'source' | 'dist';
  /** Directory for V8 CPU profiles (node --cpu-prof, every thread), written when Lightbox stops. */
  cpuProfileDirectory?: string;
  /** Extra environment for Lightbox (e.g. QUEUE_CONCURRENCY). */
  env?: Record<string, string>;
  /** Extra node options for Lightbox (e.g. --trace-gc, --max-semi-space-size=16). */
  nodeArgs?: string[];
  /** Run Lightbox from this tree (e.g. a commit exported by exportCommit), not this checkout. */
  sourceDirectory?: string;
}

export interface LightboxUnderTest extends ServerUnderTest {
  dataDirectory: string;
  /**
   * stopAndCount(), also reading the index rows of `SOPInstanceUIDs` (null when absent) while the
   * index is open.
   */
  stopAndInspect(SOPInstanceUIDs: string[]): Promise<{
    instances: number;
    detail: Record<string, number>;
    rows: (InstanceRow | null)[];
  }>;
  /** Where the fs object store keeps an instance (objectKey under objects/). */
  objectPath(uids: {
    StudyInstanceUID: string;
    SeriesInstanceUID: string;
    SOPInstanceUID: string;
  }): string;
}

/**
 * Files under `directory` and its immediate subdirectories (incoming/ has one folder per receiving
 * process in newer layouts, incoming/*.part in older ones).
 */
async function countFiles(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) {
      total += (await readdir(path.join(directory, entry.name)).catch(() => [])).length;
    } else total += 1;
  }
  return total;
}

/** Objects under objects/studies/<study>/series/<series>/<sop>.dcm (temporary names excluded). */
async function countObjects(studies: string): Promise<number> {
  let total = 0;
  for (const study of await readdir(studies).catch(() => [])) {
    const seriesRoot = path.join(studies, study, 'series');
    for (const series of await readdir(seriesRoot).catch(() => [])) {
      const names = await readdir(path.join(seriesRoot, series)).catch(() => []);
      total += names.filter((n) => n.endsWith('.dcm')).length;
    }
  }
  return total;
}

/**
 * Starts Lightbox on free ports and a fresh data directory; resolves once it answers on DICOM. With
 * `restarted`, it is started once (PGlite initdb, migrations), stopped, and started again on the
 * same directory: the state of a long-running install after its first restart.
 */
export async function startLightboxProcess(
  options: LightboxOptions & { restarted?: boolean } = {},
): Promise<LightboxUnderTest> {
  const runDirectory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-bench-run-'));
  const cleanup = removeOnExit(runDirectory);
  const dataDirectory = path.join(runDirectory, 'data');
  await mkdir(dataDirectory);
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SERVICE_VARIABLES) delete env[name];
  Object.assign(env, {
    LIGHTBOX_DATA_DIR: dataDirectory,
    DICOM_HOST: '127.0.0.1',
    DICOM_PORT: String(dicomPort),
    OPS_PORT: '0', // the gateway and worker ops listeners: any free port
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    // As every launcher (package.json, Dockerfile) sets it: see README, "Every launcher".
    MALLOC_ARENA_MAX: '2',
    ...options.env,
  });
  const entry =
    options.entry === 'dist' ? ['dist/bin/lightbox.js'] : ['--import', 'tsx', 'bin/lightbox.ts'];
  const logFile = path.join(runDirectory, 'lightbox.log');
  const log = createWriteStream(logFile);
  const logTail = async () => (await readFile(logFile, 'utf8').catch(() => '')).slice(-3000);

  const launch = async (profile: boolean): Promise<ChildProcess> => {
    const profiling =
      profile && options.cpuProfileDirectory
        ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`]
        : [];
    // The flags every launcher (npm start, Dockerfile, compose) passes, unless overridden.
    const given = options.nodeArgs ?? [];
    const launcher = LAUNCHER_NODE_FLAGS.filter(
      (flag) => !given.some((a) => a.startsWith(flag.slice(0, flag.indexOf('=')))),
    );
    const nodeArgs = [...profiling, ...launcher, ...(options.nodeArgs ?? [])];
    const started = spawnTracked(process.execPath, [...nodeArgs, ...entry], {
      cwd: options.sourceDirectory ?? REPOSITORY,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout?.pipe(log, { end: false });
    started.stderr?.pipe(log, { end: false });
    const running = () => started.exitCode === null && started.signalCode === null;
    try {
      // Generous: on a shared 2-core machine at load 30+, PGlite's initdb alone took over 2 minutes.
      await waitUntil('Lightbox DICOM port', () => portOpen(dicomPort), {
        timeoutMs: 600_000,
        alive: running,
      });
    } catch (error) {
      await stopProcess(started, 5_000);
      throw new Error(`${(error as Error).message}\n${await logTail()}`);
    }
    return started;
  };

  let child: ChildProcess;
  try {
    if (options.restarted) {
      const code = await stopProcess(await launch(false));
      if (code !== 0) throw new Error(`Lightbox exited with ${code}\n${await logTail()}`);
    }
    child = await launch(true);
  } catch (error) {
    log.end();
    await rm(runDirectory, { recursive: true, force: true, maxRetries: 5 });
    cleanup.removed();
    throw error;
  }
  const alive = () => child.exitCode === null && child.signalCode === null;

  const spool = path.join(dataDirectory, 'spool');
  const studies = path.join(dataDirectory, 'objects', 'studies');

  const stopAndInspect: LightboxUnderTest['stopAndInspect'] = async (SOPInstanceUIDs) => {
    const code = await stopProcess(child);
    log.end();
    if (code !== 0) throw new Error(`Lightbox exited with ${code}\n${await logTail()}`);
    // PGlite does not lock its directory: open it only now that the owning process is gone.
    const index = await createIndexStore({
      kind: 'pglite',
      directory: path.join(dataDirectory, 'index'),
    });
    try {
      const counts = await index.counts();
      const rows: (InstanceRow | null)[] = [];
      for (const uid of SOPInstanceUIDs) rows.push(await index.getInstance(uid));
      return { instances: counts.instances, detail: { ...counts }, rows };
    } finally {
      await index.close();
    }
  };

  return {
    target: 'lightbox',
    aeTitle: 'LIGHTBOX',
    httpBase: `http://127.0.0.1:${httpPort}`,
    dicomPort,
    pid: child.pid ?? 0,
    alive,
    logTail,
    dataDirectory,

    async indexedAt(instances, t0, signal) {
      for (;;) {
        if (signal.aborted) throw new Error('indexing wait aborted');
        if (!alive()) throw new Error(`Lightbox exited while ingesting\n${await logTail()}`);
        const failed = await countFiles(path.join(spool, 'failed'));
        if (failed > 0) throw new Error(`Lightbox moved ${failed} spool entries to failed/`);
        const spoolEmpty =
          (await countFiles(path.join(spool, 'ready'))) === 0 &&
          (await countFiles(path.join(spool, 'incoming'))) === 0;
        if (spoolEmpty && (await countObjects(studies)) === instances)
          return performance.now() - t0;
        await new Promise((r) => setTimeout(r, 50));
      }
    },

    objectPath: (uids) => path.join(dataDirectory, 'objects', objectKey(uids)),

    stopAndInspect,

    async stopAndCount() {
      const { instances, detail } = await stopAndInspect([]);
      return { instances, detail };
    },

    async dispose() {
      if (alive()) await stopProcess(child, 5_000);
      log.end();
      // A profiled run keeps Lightbox's output beside its profiles (e.g. --trace-gc lines).
      if (options.cpuProfileDirectory) {
        await copyFile(logFile, path.join(options.cpuProfileDirectory, 'lightbox.log')).catch(
          () => undefined,
        );
      }
      await rm(runDirectory, { recursive: true, force: true, maxRetries: 5 });
      cleanup.removed();
    },
  };
}

/**
 * Exports `revision` (git archive: reads the repository, changes nothing) into a temporary
 * directory with this checkout's node_modules linked in, so that a benchmark measures one commit
 * rather than a working tree that others are editing. The caller removes the directory.
 */
export async function exportCommit(
  revision: string,
): Promise<{ directory: string; commit: string }> {
  const commit = execFileSync('git', ['-C', REPOSITORY, 'rev-parse', '--short', revision], {
    encoding: 'utf8',
  }).trim();
  const directory = await mkdtemp(path.join(os.tmpdir(), `lightbox-bench-src-${commit}-`));
  removeOnExit(directory);
  execFileSync('sh', [
    '-c',
    `git -C "$0" archive --format=tar "$1" | tar -x -C "$2"`,
    REPOSITORY,
    commit,
    directory,
  ]);
  await symlink(path.join(REPOSITORY, 'node_modules'), path.join(directory, 'node_modules'));
  return { directory, commit };
}
