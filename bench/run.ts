/**
 * One measured run: a fresh receiver, the corpus sent by `associations` storescu processes at once,
 * timed from the first storescu start until (a) every storescu exited 0 with only Success responses
 * (acknowledged) and (b) every instance is indexed; then peak RSS and CPU from /proc, and an
 * independent count from the receiver's own index. The receiver is always stopped and its directory
 * removed, whatever fails.
 */
import os from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CorpusManifest } from './corpus.js';
import { startLightboxProcess, type LightboxOptions } from './lightbox-process.js';
import { startOrthanc } from './orthanc.js';
import {
  cpuBetween,
  currentRss,
  machineBusySeconds,
  peakRss,
  processCpu,
  reapedChildrenCpu,
  resetPeakRss,
  threadCpu,
  type ThreadSpent,
} from './proc.js';
import type { ServerUnderTest, TargetName } from './server.js';
import { sendDirectories, type SendResult } from './storescu.js';

const MB = 1e6;
const INDEXING_TIMEOUT_MS = 15 * 60_000;
/** Other people's CPU, in cores on average over a run, above which the run counts as disturbed. */
export const DISTURBED_CORES = 0.2;
/** How long a run waits for a quiet machine before starting anyway (`--quiet-wait`, seconds). */
export const quietWait = { timeoutMs: 5 * 60_000 };

/** What one run measured. Times are seconds from the first storescu start. */
export interface IngestRun {
  target: TargetName;
  associations: number;
  repeat: number;
  instances: number;
  bytes: number;
  /** Every storescu exited 0, every response Success. */
  ackSeconds: number;
  /** Acknowledged and indexed (for Orthanc: the same instant, it indexes before answering). */
  indexedSeconds: number;
  /** Corpus bytes / indexedSeconds. */
  mbPerSecond: number;
  instancesPerSecond: number;
  /**
   * Peak RSS of the receiver process (all threads) while receiving: VmHWM reset at t0, read when
   * indexed. MB are 10^6 bytes throughout.
   */
  peakRssMB: number;
  /** RSS when the senders started (idle, ready). */
  rssBeforeMB: number;
  /** VmHWM from process start to t0 (start-up: PGlite initdb on a fresh directory). */
  startupPeakRssMB: number;
  /** CPU (user + system) of the receiver between t0 and indexed. */
  cpuSeconds: number;
  /** The same CPU by thread (Lightbox: main, the PGlite worker thread, libuv pool, V8 helpers). */
  cpuByThread: ThreadSpent[];
  /** CPU of the storescu processes. */
  senderCpuSeconds: number;
  /**
   * Machine busy CPU in the same interval that was neither the receiver, the senders nor this
   * harness: other people's work on a shared machine. Above DISTURBED_CORES × wall time the run is
   * flagged `disturbed`.
   */
  otherCpuSeconds: number;
  disturbed: boolean;
  /** How long the run waited for a quiet machine before starting. */
  waitedForQuietSeconds: number;
  /** The receiver's own counts after the run (Lightbox: PGlite opened after stop). */
  indexCounts: Record<string, number>;
  loadAverage: { before: number[]; after: number[] };
}

function startTarget(target: TargetName, lightbox: LightboxOptions): Promise<ServerUnderTest> {
  return target === 'lightbox' ? startLightboxProcess(lightbox) : startOrthanc();
}

/** Deals the corpus subdirectories out to `associations` senders (all of them to one sender). */
export function senderGroups(corpus: CorpusManifest, associations: number): string[][] {
  if (associations > corpus.parts.length) {
    throw new Error(`${associations} associations need a corpus of at least as many parts`);
  }
  const groups: string[][] = Array.from({ length: associations }, () => []);
  corpus.parts.forEach((part, i) => groups[i % associations].push(part.directory));
  return groups;
}

function assertAcknowledged(results: SendResult[], instances: number): void {
  const successes = results.reduce((sum, r) => sum + r.successes, 0);
  const bad = results.find((r) => r.code !== 0 || r.failures > 0);
  if (bad || successes !== instances) {
    const tail = (bad ?? results[0]).stderrTail.slice(-1500);
    throw new Error(
      `storescu: ${successes}/${instances} Success responses, exit codes ${results
        .map((r) => r.code)
        .join(',')}\n${tail}`,
    );
  }
}

/**
 * Waits (up to `timeoutMs`) for a 3-second window in which the rest of the machine used less than
 * DISTURBED_CORES / 2 cores, so that a run starts on a quiet machine. Returns the milliseconds
 * waited.
 */
async function waitForQuiet(
  server: ServerUnderTest,
  timeoutMs = quietWait.timeoutMs,
): Promise<number> {
  const started = Date.now();
  const { pid } = server;
  for (;;) {
    if (!server.alive()) throw new Error(`${server.target} exited\n${await server.logTail()}`);
    const machine = machineBusySeconds();
    const serverCpu = processCpu(pid);
    const harness = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 3000));
    if (!server.alive()) throw new Error(`${server.target} exited\n${await server.logTail()}`);
    const own = processCpu(pid) - serverCpu + sumCpu(process.cpuUsage(harness));
    const others = (machineBusySeconds() - machine - own) / 3;
    const waited = Date.now() - started;
    if (others < DISTURBED_CORES / 2 || waited > timeoutMs) return waited;
  }
}

const sumCpu = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;

/** Sends `groups` (one storescu each) to `server` and measures until acknowledged and indexed. */
export async function measure(server: ServerUnderTest, groups: string[][], instances: number) {
  const waitedMs = await waitForQuiet(server);
  const loadBefore = os.loadavg();
  const startupPeakRss = peakRss(server.pid);
  if (!resetPeakRss(server.pid)) throw new Error('cannot reset VmHWM (/proc/PID/clear_refs)');
  const rssBefore = currentRss(server.pid);
  const threadsBefore = threadCpu(server.pid);
  const cpuBefore = processCpu(server.pid);
  const machineBefore = machineBusySeconds();
  const sendersBefore = reapedChildrenCpu();
  const harnessBefore = process.cpuUsage();
  const controller = new AbortController();
  const t0 = performance.now();
  const t0Micros = monotonicMicros();
  const sends = groups.map((dirs) => sendDirectories(server.dicomPort, server.aeTitle, dirs, t0));
  const indexed = server.indexedAt(instances, t0, controller.signal);
  indexed.catch(() => undefined); // awaited below; a failure before that must not be unhandled
  let timer: NodeJS.Timeout | undefined;
  try {
    const results = await Promise.all(sends.map((s) => s.done));
    if (!server.alive()) throw new Error(`${server.target} exited\n${await server.logTail()}`);
    assertAcknowledged(results, instances);
    const ackMs = Math.max(...results.map((r) => r.exitedAtMs));
    timer = setTimeout(() => controller.abort(), INDEXING_TIMEOUT_MS);
    const indexedMs = Math.max(ackMs, (await indexed) ?? ackMs);
    // CLOCK_MONOTONIC, the clock of V8's CPU profile timestamps: lets bench/profile-summary.ts keep
    // only the samples taken while receiving.
    const windowMicros = [t0Micros, t0Micros + Math.round(indexedMs * 1000)];
    const cpuSeconds = processCpu(server.pid) - cpuBefore;
    const senderCpuSeconds = reapedChildrenCpu() - sendersBefore;
    const harnessCpuSeconds = sumCpu(process.cpuUsage(harnessBefore));
    const machineCpuSeconds = machineBusySeconds() - machineBefore;
    return {
      ackMs,
      indexedMs,
      peakRss: peakRss(server.pid),
      rssBefore,
      startupPeakRss,
      windowMicros,
      waitedMs,
      cpuSeconds,
      senderCpuSeconds,
      harnessCpuSeconds,
      otherCpuSeconds: machineCpuSeconds - cpuSeconds - senderCpuSeconds - harnessCpuSeconds,
      cpuByThread: cpuBetween(threadsBefore, threadCpu(server.pid)),
      loadAverage: { before: loadBefore, after: os.loadavg() },
    };
  } finally {
    clearTimeout(timer);
    controller.abort();
    for (const send of sends) if (send.child.exitCode === null) send.child.kill('SIGKILL');
  }
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Gives each profiled run its own directory, with the receiving window beside the profiles. */
export async function profileDirectory(
  lightbox: LightboxOptions,
  name: string,
): Promise<LightboxOptions> {
  if (!lightbox.cpuProfileDirectory) return lightbox;
  const directory = path.join(lightbox.cpuProfileDirectory, name);
  await mkdir(directory, { recursive: true });
  return { ...lightbox, cpuProfileDirectory: directory };
}

/** Writes the receiving window (CLOCK_MONOTONIC µs) beside a profiled run's profiles. */
export async function writeWindow(
  lightbox: LightboxOptions,
  windowMicros: number[],
): Promise<void> {
  if (!lightbox.cpuProfileDirectory) return;
  const file = path.join(lightbox.cpuProfileDirectory, 'window.json');
  await writeFile(file, `${JSON.stringify({ windowMicros })}\n`);
}

/** Rounds to `digits` decimals for the report. */
export const round = (value: number, digits = 2): number =>
  Math.round(value * 10 ** digits) / 10 ** digits;

/** One run of the corpus against a fresh `target` over `associations` associations. */
export async function runIngest(options: {
  target: TargetName;
  associations: number;
  corpus: CorpusManifest;
  repeat: number;
  lightbox?: LightboxOptions;
}): Promise<IngestRun> {
  const { target, associations, corpus } = options;
  const lightbox =
    target === 'lightbox'
      ? await profileDirectory(
          options.lightbox ?? {},
          `x${associations}-${options.repeat}-${Date.now()}`,
        )
      : {};
  const server = await startTarget(target, lightbox);
  try {
    const m = await measure(server, senderGroups(corpus, associations), corpus.instances).catch(
      async (error: Error) => {
        // The receiver's own account of a failure (e.g. why it refused an instance).
        const tail = await server.logTail();
        throw new Error(`${error.message}\n--- ${target} log ---\n${tail.slice(-2000)}`);
      },
    );
    await writeWindow(lightbox, m.windowMicros);
    const counts = await server.stopAndCount();
    if (counts.instances !== corpus.instances) {
      throw new Error(`${target} indexed ${counts.instances} of ${corpus.instances} instances`);
    }
    const seconds = m.indexedMs / 1000;
    return {
      target,
      associations,
      repeat: options.repeat,
      instances: corpus.instances,
      bytes: corpus.bytes,
      ackSeconds: round(m.ackMs / 1000),
      indexedSeconds: round(seconds),
      mbPerSecond: round(corpus.bytes / MB / seconds, 1),
      instancesPerSecond: round(corpus.instances / seconds, 1),
      peakRssMB: round(m.peakRss / MB, 1),
      rssBeforeMB: round(m.rssBefore / MB, 1),
      startupPeakRssMB: round(m.startupPeakRss / MB, 1),
      cpuSeconds: round(m.cpuSeconds),
      cpuByThread: m.cpuByThread,
      senderCpuSeconds: round(m.senderCpuSeconds),
      otherCpuSeconds: round(m.otherCpuSeconds),
      disturbed: m.otherCpuSeconds > DISTURBED_CORES * seconds,
      waitedForQuietSeconds: round(m.waitedMs / 1000, 0),
      indexCounts: counts.detail,
      loadAverage: {
        before: m.loadAverage.before.map((l) => round(l)),
        after: m.loadAverage.after.map((l) => round(l)),
      },
    };
  } finally {
    await server.dispose();
  }
}
