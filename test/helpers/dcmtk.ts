/**
 * dcmtk, the modality and PACS a user would point at Lightbox: storescu/echoscu as senders, storescp
 * in bit-preserving mode (+B) as the reference receiver for byte-level comparisons.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, portOpen } from './ports.js';

export { freePort };

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a binary to completion (bounded by `timeoutMs`), capturing output. Never throws on exit codes. */
export function run(binary: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** C-STORE files (or directories with +sd) to an SCP; `-v` output makes statuses visible. */
export function storescu(
  port: number,
  files: string[],
  options: {
    callingAETitle?: string;
    calledAETitle?: string;
    extra?: string[];
    host?: string;
  } = {},
): Promise<RunResult> {
  return run('storescu', [
    '-v',
    '-aet',
    options.callingAETitle ?? 'STORESCU',
    '-aec',
    options.calledAETitle ?? 'LIGHTBOX',
    ...(options.extra ?? []),
    options.host ?? '127.0.0.1',
    String(port),
    ...files,
  ]);
}

export function echoscu(
  port: number,
  options: { callingAETitle?: string; calledAETitle?: string } = {},
): Promise<RunResult> {
  return run('echoscu', [
    '-v',
    '-aet',
    options.callingAETitle ?? 'ECHOSCU',
    '-aec',
    options.calledAETitle ?? 'LIGHTBOX',
    '127.0.0.1',
    String(port),
  ]);
}

export interface Storescp {
  port: number;
  close(): Promise<void>;
}

/**
 * dcmtk storescp in bit-preserving mode (+B: the data set is written exactly as received) accepting
 * all transfer syntaxes it knows (+xa), writing into `directory`.
 */
export async function startStorescp(directory: string, aeTitle = 'LIGHTBOX'): Promise<Storescp> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'storescp',
    ['+B', '+xa', '-aet', aeTitle, '-od', directory, String(port)],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
