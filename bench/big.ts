/**
 * The --big run: ONE ≈ 2 GiB instance sent once to Lightbox over one association. What it shows is
 * memory: the instance must stream from socket to spool to object store without being held, so the
 * peak RSS while receiving stays near the idle RSS (target: under 300 MB in all).
 */
import os from 'node:os';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { derivedUID, writeBigInstance } from './corpus.js';
import {
  startLightboxProcess,
  type LightboxOptions,
  type LightboxUnderTest,
} from './lightbox-process.js';
import { removeOnExit, type ThreadSpent } from './proc.js';
import { measure, profileDirectory, round, writeWindow } from './run.js';

const MB = 1e6;

/** What the --big run measured. */
export interface BigRun {
  /** Lightbox on a fresh data directory, or restarted once on it (index already initialised). */
  lightbox: 'fresh' | 'restarted';
  bytes: number;
  ackSeconds: number;
  indexedSeconds: number;
  mbPerSecond: number;
  peakRssMB: number;
  rssBeforeMB: number;
  startupPeakRssMB: number;
  cpuSeconds: number;
  cpuByThread: ThreadSpent[];
  senderCpuSeconds: number;
  otherCpuSeconds: number;
  /** Size of the object Lightbox stored, and its data set bytes (after the File Meta group). */
  storedBytes: number;
  datasetBytesSent: number;
  datasetBytesStored: number;
  /** The index row says `stored`, with the stored object's size. */
  indexedSize: number;
  loadAverage: { before: number[]; after: number[] };
}

/** Bytes after the PS3.10 File Meta group (preamble, DICM, (0002,0000) and the group it counts). */
async function datasetBytes(file: string, size: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(144);
    await handle.read(head, 0, head.length, 0);
    if (head.toString('latin1', 128, 132) !== 'DICM' || head.readUInt16LE(132) !== 0x0002) {
      throw new Error(`${file}: not a Part 10 file`);
    }
    return size - 144 - head.readUInt32LE(140);
  } finally {
    await handle.close();
  }
}

/**
 * ONE ≈ 2 GiB instance (sparse file: 4,000 frames of 512 × 512 × 16 bit) sent once to a fresh
 * Lightbox: time, peak RSS (target: under 300 MB), and checks that it is indexed and that the
 * stored object holds the same data set bytes. The 2 GiB files (sent and stored) are removed at the
 * end.
 */
export async function runBig(
  options: { lightbox?: LightboxOptions; frames?: number; restarted?: boolean } = {},
): Promise<BigRun> {
  const directory = path.join(os.tmpdir(), `lightbox-bench-big-${process.pid}`);
  const cleanup = removeOnExit(directory);
  let server: LightboxUnderTest | undefined;
  try {
    const big = await writeBigInstance(directory, options.frames);
    const name = `big-${options.restarted ? 'restarted' : 'fresh'}-${Date.now()}`;
    const lightbox = await profileDirectory(options.lightbox ?? {}, name);
    server = await startLightboxProcess({ ...lightbox, restarted: options.restarted });
    const m = await measure(server, [[directory]], 1);
    await writeWindow(lightbox, m.windowMicros);
    const storedFile = server.objectPath({
      StudyInstanceUID: derivedUID('lightbox-bench big study'),
      SeriesInstanceUID: derivedUID('lightbox-bench big series'),
      SOPInstanceUID: big.SOPInstanceUID,
    });
    const storedBytes = (await stat(storedFile).catch(() => null))?.size ?? -1;
    const datasetBytesStored = storedBytes < 0 ? -1 : await datasetBytes(storedFile, storedBytes);
    const inspected = await server.stopAndInspect([big.SOPInstanceUID]);
    const row = inspected.rows[0];
    if (inspected.instances !== 1 || row?.state !== 'stored') {
      throw new Error(`big instance not indexed (${inspected.instances} instances, ${row?.state})`);
    }
    const seconds = m.indexedMs / 1000;
    const result: BigRun = {
      lightbox: options.restarted ? 'restarted' : 'fresh',
      bytes: big.size,
      ackSeconds: round(m.ackMs / 1000),
      indexedSeconds: round(seconds),
      mbPerSecond: round(big.size / MB / seconds, 1),
      peakRssMB: round(m.peakRss / MB, 1),
      rssBeforeMB: round(m.rssBefore / MB, 1),
      startupPeakRssMB: round(m.startupPeakRss / MB, 1),
      cpuSeconds: round(m.cpuSeconds),
      cpuByThread: m.cpuByThread,
      senderCpuSeconds: round(m.senderCpuSeconds),
      otherCpuSeconds: round(m.otherCpuSeconds),
      storedBytes,
      datasetBytesSent: await datasetBytes(big.file, big.size),
      datasetBytesStored,
      indexedSize: row.size,
      loadAverage: {
        before: m.loadAverage.before.map((l) => round(l)),
        after: m.loadAverage.after.map((l) => round(l)),
      },
    };
    if (result.datasetBytesStored !== result.datasetBytesSent || row.size !== storedBytes) {
      throw new Error(`big instance stored with other sizes: ${JSON.stringify(result)}`);
    }
    return result;
  } finally {
    await server?.dispose();
    await rm(directory, { recursive: true, force: true, maxRetries: 5 });
    cleanup.removed();
  }
}
