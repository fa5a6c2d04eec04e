/**
 * Process plumbing for the benchmark: every child is tracked and killed when the harness exits for
 * any reason, and servers are measured from /proc (peak RSS, CPU time per thread) rather than from
 * their own reports, so Lightbox and Orthanc are measured the same way.
 */
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { freePort, portOpen } from '../test/helpers/ports.js';

export { freePort, portOpen };

const tracked = new Set<ChildProcess>();
const directories = new Set<string>();
let hooksInstalled = false;

function killTracked(): void {
  for (const child of tracked) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const directory of directories)
    rmSync(directory, { recursive: true, force: true, maxRetries: 5 });
}

/**
 * Removes `directory` when the harness exits, if the run that made it has not (an interrupted run
 * must not leave gigabytes behind). `removed()` forgets it once the run has removed it itself.
 */
export function removeOnExit(directory: string): { removed(): void } {
  installExitHooks();
  directories.add(directory);
  return { removed: () => directories.delete(directory) };
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killTracked);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killTracked();
      process.exit(130);
    });
  }
}

/** spawn() whose child is killed if the harness exits first (normal exit, error or signal). */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  installExitHooks();
  const child = spawn(command, args, options);
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  child.once('error', () => tracked.delete(child));
  return child;
}

/** Resolves with the exit code once `child` has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
export async function stopProcess(child: ChildProcess, graceMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (options.alive && !options.alive()) throw new Error(`${what}: the process exited`);
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${options.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Peak resident set size (VmHWM, all threads of the process) in bytes. */
export function peakRss(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) in bytes. */
export function currentRss(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/**
 * Resets VmHWM to the current RSS (Linux ≥ 4.0: `echo 5 > /proc/PID/clear_refs`), so that the peak
 * read later is the peak of what happened since, not of start-up. False if the kernel refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

let ticksPerSecond = 0;
function clockTicks(): number {
  if (!ticksPerSecond) {
    ticksPerSecond =
      Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  }
  return ticksPerSecond;
}

/** utime and stime of a /proc stat line, in seconds (the command name may contain spaces). */
function cpuOfStat(line: string): { user: number; system: number } {
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
}

/**
 * CPU seconds per thread of `pid`, keyed by thread id. Node names every thread "node", so a thread
 * is labelled `main` or by its creation offset (`node+12`: thread id = pid + 12).
 */
export type ThreadCpu = Map<number, { label: string; user: number; system: number }>;

export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const label = Number(tid) === pid ? 'main' : `${name}+${Number(tid) - pid}`;
      out.set(Number(tid), { label, ...cpuOfStat(stat) });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** CPU a thread spent between two snapshots. */
export interface ThreadSpent {
  thread: string;
  user: number;
  system: number;
}

/**
 * CPU seconds spent between two threadCpu() snapshots per thread (a thread born in between counts
 * from zero), busiest first, threads under 10 ms left out.
 */
export function cpuBetween(before: ThreadCpu, after: ThreadCpu): ThreadSpent[] {
  const r = (n: number) => Math.round(n * 100) / 100;
  return [...after]
    .map(([tid, now]) => {
      const then = before.get(tid) ?? { user: 0, system: 0 };
      return {
        thread: now.label,
        user: r(now.user - then.user),
        system: r(now.system - then.system),
      };
    })
    .filter((t) => t.user + t.system >= 0.01)
    .sort((a, b) => b.user + b.system - (a.user + a.system));
}

/** CPU seconds (user + system) of the whole process, threads that already ended included. */
export function processCpu(pid: number): number {
  const { user, system } = cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return user + system;
}

/**
 * Busy CPU seconds of the whole machine since boot (/proc/stat: everything but idle and iowait), to
 * tell how much of a run's CPU was someone else's.
 */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / clockTicks();
}

/** CPU seconds of this process's children that have exited and been reaped (cutime + cstime). */
export function reapedChildrenCpu(): number {
  const line = readFileSync('/proc/self/stat', 'utf8');
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / clockTicks();
}
