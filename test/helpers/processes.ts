/**
 * Lightbox as operating-system processes, the way production runs it: `gateway/main.ts`,
 * `worker/main.ts`, `viewer-api/main.ts` (services mode) or `bin/lightbox.ts` (embedded default),
 * configured through the environment only. Crash tests kill them with SIGKILL.
 *
 * Every process spawned here is killed when the test process exits, whatever happened, and each
 * test should also `t.teardown(() => p.stop())`. Nothing is ever killed by name: only by the pid
 * this module started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RunResult } from './dcmtk.js';
import { freePort, portOpen } from './ports.js';

export { portOpen };

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const ENTRY_POINTS = {
  gateway: 'gateway/main.ts',
  worker: 'worker/main.ts',
  'viewer-api': 'viewer-api/main.ts',
  lightbox: 'bin/lightbox.ts',
} as const;

export type EntryPoint = keyof typeof ENTRY_POINTS;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KiB (or `keepBytes`) of stdout and stderr. */
  output(): string;
  running(): boolean;
  exited: Promise<ExitInfo>;
  /** SIGKILL (no shutdown code runs) and wait for the exit. */
  kill9(): Promise<ExitInfo>;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const live = new Set<SpawnedProcess>();
process.once('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
});

const KEEP_OUTPUT = 64 * 1024;

/** PATH and HOME only: a variable of the test's own environment (REDIS_URL…) must not leak in. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Starts any binary, keeping its output and registering it for the final kill. */
export function spawnTracked(
  name: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; keepBytes?: number } = {},
): SpawnedProcess {
  const keepBytes = options.keepBytes ?? KEEP_OUTPUT;
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? baseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > keepBytes * 2) output = output.slice(-keepBytes);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      keep(Buffer.from(String(error)));
      resolve({ code: null, signal: null });
    });
  });
  const spawned: SpawnedProcess = {
    name,
    pid: child.pid ?? -1,
    child,
    output: () => output.slice(-keepBytes),
    running: () => child.exitCode === null && child.signalCode === null,
    exited,
    async kill9() {
      if (spawned.running()) child.kill('SIGKILL');
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (!spawned.running()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
  live.add(spawned);
  void exited.then(() => live.delete(spawned));
  return spawned;
}

/**
 * `node --import tsx <entry point>` with exactly `env` (plus PATH and HOME). The ops listener of a
 * gateway or worker takes a free port (OPS_PORT=0) unless `env` names one: its defaults (9464, 9465)
 * are fixed ports, which tests never use.
 */
export function spawnLightbox(
  entry: EntryPoint,
  env: Record<string, string>,
  name: string = entry,
): SpawnedProcess {
  return spawnTracked(name, process.execPath, ['--import', 'tsx', ENTRY_POINTS[entry]], {
    env: { ...baseEnv(), OPS_PORT: '0', ...env },
  });
}

/** Polls `probe` until it returns something other than undefined/false; throws after the bound. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; alive?: SpawnedProcess[] } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    for (const p of options.alive ?? []) {
      if (!p.running())
        throw new Error(`${p.name} exited while waiting for ${what}:\n${p.output()}`);
    }
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(options.intervalMs ?? 100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `p` listens on `port`, failing early (with its output) if it exits. */
export async function waitForListening(
  p: SpawnedProcess,
  port: number,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(`${p.name} listening on ${port}`, () => portOpen(port), {
    timeoutMs,
    alive: [p],
  });
}

/** storescu running in the background; its output is parsed as it arrives. */
export interface BackgroundStorescu {
  process: SpawnedProcess;
  /** Files whose C-STORE-RSP was Success so far. */
  acknowledged(): string[];
  /** Resolves when storescu exits (never rejects). */
  done: Promise<RunResult>;
}

/** storescu -v (one association) in the background, so that a test can crash things mid-send. */
export function spawnStorescu(
  port: number,
  files: string[],
  options: { extra?: string[]; callingAETitle?: string; calledAETitle?: string } = {},
): BackgroundStorescu {
  const p = spawnTracked(
    'storescu',
    'storescu',
    [
      '-v',
      '-aet',
      options.callingAETitle ?? 'STORESCU',
      '-aec',
      options.calledAETitle ?? 'LIGHTBOX',
      ...(options.extra ?? []),
      '127.0.0.1',
      String(port),
      ...files,
    ],
    { keepBytes: 16 * 1024 * 1024 }, // every line: the acknowledged files are parsed from it
  );
  return {
    process: p,
    acknowledged: () =>
      parseStorescu(p.output())
        .filter((r) => r.status === 'Success')
        .map((r) => r.file),
    done: p.exited.then(({ code }) => ({ code, stdout: p.output(), stderr: '' })),
  };
}

/** What storescu -v reported for one file, in sending order. */
export interface StoreResult {
  file: string;
  /** The C-STORE-RSP status as dcmtk names it ("Success", "Refused: OutOfResources"…). */
  status?: string;
  /** Why storescu did not send it, or why the send failed without a response. */
  notSent?: string;
}

/** dcmtk's names of the C-STORE statuses (dcmtk dimse DU_cstoreStatusString), by code. */
export const STORE_STATUS_CODE: Record<string, number> = {
  Success: 0x0000,
  'Refused: OutOfResources': 0xa700,
  'Error: DataSetDoesNotMatchSOPClass': 0xa900,
  'Error: CannotUnderstand': 0xc000,
  'Refused: SOPClassNotSupported': 0x0122,
};

/**
 * Parses `storescu -v` output into one result per file it considered. A file storescu skips with a
 * warning ("missing SOP class (or instance) in file: …, ignoring file") is listed as not sent.
 */
export function parseStorescu(output: string): StoreResult[] {
  const results: StoreResult[] = [];
  let current: StoreResult | undefined;
  for (const line of output.split('\n')) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^W: missing SOP class \(or instance\) in file: (.*), ignoring file$/))) {
      results.push({ file: m[1], notSent: 'missing SOP class or instance' });
    } else if ((m = line.match(/^I: Sending file: (.*)$/))) {
      current = { file: m[1] };
      results.push(current);
    } else if (current && (m = line.match(/^I: Received Store Response \((.*)\)$/))) {
      current.status = m[1];
    } else if (current && !current.status && !current.notSent) {
      if ((m = line.match(/^E: (No presentation context for: .*)$/))) current.notSent = m[1];
      else if ((m = line.match(/^E: (Bad DICOM file: .*)$/))) current.notSent = m[1];
      else if (/^E: Store Failed/.test(line)) current.notSent = 'Store Failed';
    }
  }
  return results;
}

/** dcmtk storescp that reports, in order, the file each reception was written to. */
export interface RecordingStorescp {
  port: number;
  directory: string;
  /** Stops storescp; resolves with the received files (names in `directory`), in arrival order. */
  close(): Promise<string[]>;
}

/**
 * storescp in bit-preserving mode (+B: each data set written exactly as received), unique file names
 * (+uf: a re-sent SOP Instance UID does not overwrite the first), announcing each file on stdout as
 * it is written (-xcr, synchronously with -xs) so that receptions can be matched to storescu's sends.
 * `preference` is storescp's transfer syntax option (+xa: accept all, uncompressed preferred;
 * +xy, +xv…: prefer that compressed syntax).
 */
export async function startRecordingStorescp(
  directory: string,
  options: { preference?: string; aeTitle?: string } = {},
): Promise<RecordingStorescp> {
  const port = await freePort();
  const p = spawnTracked('storescp', 'storescp', [
    '+B',
    options.preference ?? '+xa',
    '+uf',
    '-xs',
    '-xcr',
    'echo RECEIVED #f',
    '-aet',
    options.aeTitle ?? 'LIGHTBOX',
    '-od',
    directory,
    String(port),
  ]);
  await waitForListening(p, port, 10_000);
  return {
    port,
    directory,
    async close() {
      await p.stop(5_000);
      return [...p.output().matchAll(/^RECEIVED (.+)$/gm)].map((m) => m[1]);
    },
  };
}
