/**
 * The sender: dcmtk storescu, one process per association, exactly as a modality or PACS would
 * push. TCP_NODELAY=1 is set for it too: dcmtk honours that variable, and without it the sender's
 * own Nagle delay (~10 ms per instance) would be measured instead of the receiver.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnTracked } from './proc.js';

/** What one storescu association did. */
export interface SendResult {
  code: number | null;
  /** "Received Store Response (Success)" lines: instances the receiver acknowledged with 0x0000. */
  successes: number;
  /** Store responses with any other status. */
  failures: number;
  /** Milliseconds from the harness's t0 until this storescu exited. */
  exitedAtMs: number;
  /** The last lines storescu printed (for a failure message). */
  stderrTail: string;
}

/**
 * Sends every file under `directories` (+sd, recursively) over ONE association to `aeTitle` at
 * 127.0.0.1:`port`, counting the store responses storescu reports with -v.
 */
export function sendDirectories(
  port: number,
  aeTitle: string,
  directories: string[],
  t0: number,
): { child: ChildProcess; done: Promise<SendResult> } {
  const child = spawnTracked(
    'storescu',
    [
      '-v',
      '-aet',
      'LIGHTBOXBENCH',
      '-aec',
      aeTitle,
      '+sd',
      '+r',
      '+sp',
      '*.dcm',
      '127.0.0.1',
      String(port),
      ...directories,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TCP_NODELAY: '1' } },
  );
  let successes = 0;
  let failures = 0;
  let tail = '';
  // dcmtk's logger writes to stdout or stderr depending on the level: watch both, line by line.
  const lineCounter = () => {
    let pending = '';
    return (chunk: Buffer) => {
      const lines = (pending + chunk.toString('latin1')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('Received Store Response')) continue;
        if (line.includes('Received Store Response (Success)')) successes += 1;
        else failures += 1;
      }
      tail = `${tail}${lines.join('\n')}\n`.slice(-4000);
    };
  };
  child.stdout?.on('data', lineCounter());
  child.stderr?.on('data', lineCounter());
  let exitedAtMs = 0;
  child.once('exit', () => (exitedAtMs = performance.now() - t0));
  // 'close' comes after both output streams ended, so every response line has been counted.
  const done = new Promise<SendResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({ code, successes, failures, exitedAtMs, stderrTail: tail }),
    );
  });
  return { child, done };
}
