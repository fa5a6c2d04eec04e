/**
 * core/lifecycle.ts in a process of its own: a stop signal that arrives while the entry point is
 * still starting is kept and honoured by the graceful close once startup has finished.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** An entry point whose startup takes STARTUP_MS, then serves until closed; each step on stdout. */
const script = `
  import pino from 'pino';
  import { closeOnSignals, runMain } from './core/lifecycle.ts';
  runMain(async () => {
    process.stdout.write('starting\\n');
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.STARTUP_MS)));
    process.stdout.write('started\\n');
    const serving = setInterval(() => {}, 1_000); // what a listening server does: keeps it alive
    closeOnSignals(pino({ level: 'silent' }), async () => {
      clearInterval(serving);
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.stdout.write('closed\\n');
    });
  });
`;

interface Run {
  signal(name: NodeJS.Signals): void;
  waitFor(line: string): Promise<void>;
  exit(): Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

function start(startupMs: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, STARTUP_MS: String(startupMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    signal: (name) => child.kill(name),
    async waitFor(line) {
      while (!stdout.split('\n').includes(line)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`exited before "${line}": ${stdout}${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async exit() {
      const [code, signal] = await exited;
      return { code, signal, stdout, stderr };
    },
  };
}

test('SIGTERM while starting: startup finishes, then the graceful close runs, exit 0', async (t) => {
  const run = start(1_500);
  await run.waitFor('starting');
  run.signal('SIGTERM');
  const { code, signal, stdout } = await run.exit();
  t.is(signal, null, 'not killed by the signal');
  t.is(code, 0);
  t.deepEqual(stdout.trim().split('\n'), ['starting', 'started', 'closed']);
});

test('a second signal while starting exits at once with 1, without closing', async (t) => {
  const run = start(30_000);
  await run.waitFor('starting');
  run.signal('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 200));
  run.signal('SIGINT');
  const { code, stdout, stderr } = await run.exit();
  t.is(code, 1);
  t.deepEqual(stdout.trim().split('\n'), ['starting']);
  t.regex(stderr, /SIGINT again while starting/);
});

test('SIGINT once started: the graceful close runs, exit 0', async (t) => {
  const run = start(0);
  await run.waitFor('started');
  run.signal('SIGINT');
  const { code, stdout } = await run.exit();
  t.is(code, 0);
  t.deepEqual(stdout.trim().split('\n'), ['starting', 'started', 'closed']);
});
