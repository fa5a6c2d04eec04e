import test from 'ava';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../../cli/command.js';
import { ExitCode, UsageError } from '../../cli/exit-codes.js';
import { runCli } from '../../cli/run.js';

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const seen: { args: readonly string[]; aeTitle: string }[] = [];
const echo: CliCommand = {
  name: 'echo',
  summary: 'prints its arguments',
  usage: 'lightbox echo [--fail] <words…>',
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { fail: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (positionals.length === 0) throw new UsageError('nothing to echo');
    seen.push({ args, aeTitle: io.config.gateway.aeTitle });
    io.stdout.write(`${positionals.join(' ')}\n`);
    return values.fail ? ExitCode.Failure : ExitCode.Ok;
  },
};

async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    env: { LOG_LEVEL: 'silent', ...env },
    commands: [echo],
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

test.serial('dispatches to the command with the loaded configuration', async (t) => {
  const result = await run(['echo', 'hello', 'world'], { DICOM_AE_TITLE: 'ARCHIVE1' });
  t.is(result.code, ExitCode.Ok);
  t.is(result.stdout, 'hello world\n');
  t.deepEqual(seen.at(-1), { args: ['hello', 'world'], aeTitle: 'ARCHIVE1' });
});

test('the command decides the exit code', async (t) => {
  t.is((await run(['echo', '--fail', 'x'])).code, ExitCode.Failure);
});

test('help lists every command and works without a valid configuration', async (t) => {
  const result = await run(['help'], { DICOM_PORT: 'not-a-port' });
  t.is(result.code, ExitCode.Ok);
  t.regex(result.stdout, /usage: lightbox/);
  t.regex(result.stdout, /echo\s+prints its arguments/);
  const one = await run(['help', 'echo']);
  t.regex(one.stdout, /usage: lightbox echo \[--fail\]/);
});

test('unknown command and bad options are usage errors (exit 2) with the usage on stderr', async (t) => {
  const unknown = await run(['frobnicate']);
  t.is(unknown.code, ExitCode.Usage);
  t.regex(unknown.stderr, /unknown command "frobnicate"/);
  const option = await run(['echo', '--nope', 'x']);
  t.is(option.code, ExitCode.Usage);
  t.regex(option.stderr, /usage: lightbox echo/);
  const missing = await run(['echo']);
  t.is(missing.code, ExitCode.Usage);
  t.regex(missing.stderr, /nothing to echo/);
});

test('an invalid configuration lists its problems and exits 78', async (t) => {
  const result = await run(['echo', 'x'], { DICOM_PORT: 'not-a-port' });
  t.is(result.code, ExitCode.Config);
  t.regex(result.stderr, /gateway\.port/);
});

test('the real entry point prints help (npm run cli)', async (t) => {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('node', ['--import', 'tsx', 'cli/main.ts', 'help'], (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  t.regex(out, /usage: lightbox \[--config file\.json\] <command>/);
});
