/**
 * Orthanc under test: Debian's Orthanc 1.10 (/usr/sbin/Orthanc) with a generated configuration in a
 * fresh temporary directory (storage and SQLite index there, no plugins, no compression, HTTP on
 * 127.0.0.1 only for the readiness probe and the final count).
 *
 * TCP_NODELAY=1 in its environment: dcmtk (which Orthanc's DICOM server is built on) honours it,
 * and without it Debian's Orthanc leaves Nagle on its DICOM port (≈ 20 instances/s per
 * association). Orthanc stores and indexes an instance before it answers the C-STORE, so
 * acknowledged == indexed; the count is checked through GET /statistics before it is stopped.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, removeOnExit, spawnTracked, stopProcess, waitUntil } from './proc.js';
import type { ServerUnderTest } from './server.js';
import { ORTHANC_BINARY, orthancBaseConfig } from '../test/helpers/orthanc.js';

/** The Orthanc binary measured (Debian package orthanc). */
export { ORTHANC_BINARY };

interface OrthancStatistics {
  CountPatients: number;
  CountStudies: number;
  CountSeries: number;
  CountInstances: number;
  TotalDiskSize: string;
}

/** Debian's orthanc-dicomweb plugin (1.7), loaded only for the DICOMweb benchmark. */
export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancOptions {
  /** Load the DICOMweb plugin under /dicom-web/ (bench/dicomweb.ts); off for the ingest runs. */
  dicomWeb?: boolean;
}

/** Starts Orthanc on free ports; resolves once GET /system answers. */
export async function startOrthanc(options: OrthancOptions = {}): Promise<ServerUnderTest> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-bench-orthanc-'));
  const cleanup = removeOnExit(directory);
  const [dicomPort, httpPort] = [await freePort(), await freePort()];
  const config = {
    ...orthancBaseConfig(directory, dicomPort, httpPort),
    Name: 'lightbox-bench',
    Plugins: options.dicomWeb ? [ORTHANC_DICOMWEB_PLUGIN] : [],
    // The plugin's defaults, spelled out: what the DICOMweb benchmark compares with.
    ...(options.dicomWeb ? { DicomWeb: { Enable: true, Root: '/dicom-web/' } } : {}),
  };
  const configFile = path.join(directory, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(directory, 'orthanc.log');
  const log = createWriteStream(logFile);
  const child = spawnTracked(ORTHANC_BINARY, [configFile], {
    cwd: directory,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const base = `http://127.0.0.1:${httpPort}`;
  const logTail = async () => (await readFile(logFile, 'utf8').catch(() => '')).slice(-3000);

  try {
    await waitUntil(
      'Orthanc HTTP /system',
      async () => (await fetch(`${base}/system`).catch(() => null))?.ok === true,
      { timeoutMs: 60_000, alive },
    );
  } catch (error) {
    await stopProcess(child, 5_000);
    const tail = await logTail();
    await rm(directory, { recursive: true, force: true, maxRetries: 5 });
    cleanup.removed();
    throw new Error(`${(error as Error).message}\n${tail}`);
  }

  return {
    target: 'orthanc',
    aeTitle: 'ORTHANC',
    httpBase: base,
    dicomPort,
    pid: child.pid ?? 0,
    alive,
    logTail,

    // Orthanc answers a C-STORE only after its SQLite index has the instance.
    indexedAt: () => Promise.resolve(null),

    async stopAndCount() {
      const response = await fetch(`${base}/statistics`);
      if (!response.ok) throw new Error(`Orthanc /statistics: HTTP ${response.status}`);
      const stats = (await response.json()) as OrthancStatistics;
      const code = await stopProcess(child);
      log.end();
      if (code !== 0) throw new Error(`Orthanc exited with ${code}\n${await logTail()}`);
      return {
        instances: stats.CountInstances,
        detail: {
          patients: stats.CountPatients,
          studies: stats.CountStudies,
          series: stats.CountSeries,
          instances: stats.CountInstances,
          diskBytes: Number(stats.TotalDiskSize),
        },
      };
    },

    async dispose() {
      if (alive()) await stopProcess(child, 5_000);
      log.end();
      await rm(directory, { recursive: true, force: true, maxRetries: 5 });
      cleanup.removed();
    },
  };
}
