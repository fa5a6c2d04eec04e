/**
 * `npm run bench -- [--instances 2002] [--associations 1,4] [--targets lightbox,orthanc]
 *  [--repeat 3] [--retries 2] [--quiet-wait 300] [--big] [--big-only] [--big-frames 4000] [--entry source|dist]
 *  [--commit REV] [--source-dir DIR] [--cpu-prof DIR] [--lightbox-env K=V] [--node-arg=--trace-gc]
 *  [--out FILE]`
 *
 * End-to-end C-STORE ingest with dcmtk storescu (TCP_NODELAY for everyone): generates (or reuses)
 * the corpus, then for each repeat, association count and target starts a fresh receiver, sends,
 * and times acknowledged and indexed. Prints the median table with the Lightbox / Orthanc ratio and
 * writes every run to bench/results/<date>.json. See bench/README.md and docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureCorpus } from './corpus.js';
import { exportCommit, type LightboxOptions } from './lightbox-process.js';
import { ORTHANC_BINARY } from './orthanc.js';
import { formatBig, formatTable, summarize } from './report.js';
import { runBig, type BigRun } from './big.js';
import { quietWait, runIngest, type IngestRun } from './run.js';
import type { ThreadSpent } from './proc.js';
import type { TargetName } from './server.js';

const REPOSITORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '2002' },
    associations: { type: 'string', default: '1,4' },
    targets: { type: 'string', default: 'lightbox,orthanc' },
    repeat: { type: 'string', default: '1' },
    retries: { type: 'string', default: '2' },
    'quiet-wait': { type: 'string', default: '300' },
    big: { type: 'boolean', default: false },
    'big-only': { type: 'boolean', default: false },
    'big-frames': { type: 'string', default: '4000' },
    entry: { type: 'string', default: 'source' },
    commit: { type: 'string' },
    'source-dir': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'lightbox-env': { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`${readUsage()}\n`);
  process.exit(0);
}

function readUsage(): string {
  return [
    'npm run bench -- [--instances 2002] [--associations 1,4] [--targets lightbox,orthanc]',
    '  [--repeat 3] [--retries 2] [--quiet-wait 300] [--big | --big-only] [--big-frames 4000] [--entry source|dist]',
    '  [--commit REV] [--source-dir DIR] [--cpu-prof DIR] [--lightbox-env KEY=VALUE]',
    '  [--node-arg=--OPTION] [--out FILE]',
    'See bench/README.md.',
  ].join('\n');
}

function integers(list: string, name: string): number[] {
  const out = list.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name}: ${list}`);
  return out;
}

function tool(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]
      .trim();
  } catch {
    return 'unavailable';
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const threads = (spent: ThreadSpent[]) =>
  spent
    .slice(0, 5)
    .map((t) => `${t.thread} ${t.user}u+${t.system}s`)
    .join(', ');

const instances = integers(values.instances, 'instances')[0];
const associationCounts = integers(values.associations, 'associations');
const repeats = integers(values.repeat, 'repeat')[0];
const retries = Number(values.retries);
quietWait.timeoutMs = Number(values['quiet-wait']) * 1000;
const targets = values.targets.split(',').map((t) => t.trim()) as TargetName[];
if (targets.some((t) => t !== 'lightbox' && t !== 'orthanc')) {
  throw new Error(`--targets: ${values.targets}`);
}
const lightbox: LightboxOptions = {
  entry: values.entry === 'dist' ? 'dist' : 'source',
  cpuProfileDirectory: values['cpu-prof'] && path.resolve(values['cpu-prof']),
  nodeArgs: values['node-arg'],
  env: Object.fromEntries(
    values['lightbox-env'].map((kv) => [
      kv.slice(0, kv.indexOf('=')),
      kv.slice(kv.indexOf('=') + 1),
    ]),
  ),
};

// --commit: measure that commit (exported read-only from git), not the working tree.
const exported = values.commit ? await exportCommit(values.commit) : undefined;
if (exported) {
  lightbox.sourceDirectory = exported.directory; // removed on exit
  // --entry dist with --commit: build the export (what `npm start` runs), outside this checkout.
  if (lightbox.entry === 'dist') {
    log(`building ${exported.commit} in ${exported.directory}`);
    execFileSync('npm', ['run', 'build', '--silent'], {
      cwd: exported.directory,
      stdio: 'inherit',
    });
  }
}
// --source-dir: another tree (e.g. an export built with `npm run build`, for --entry dist).
if (values['source-dir']) lightbox.sourceDirectory = path.resolve(values['source-dir']);

const startedAt = new Date();
const outFile =
  values.out ??
  path.join(
    REPOSITORY,
    'bench',
    'results',
    `${startedAt.toISOString().slice(0, 19).replace(/:/g, '-')}.json`,
  );
const report = {
  startedAt: startedAt.toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    orthanc: tool(ORTHANC_BINARY, ['--version']),
    storescu: tool('storescu', ['--version']),
    loadAverageAtStart: os.loadavg(),
  },
  lightbox: {
    commit:
      exported?.commit ??
      tool('git', ['-C', lightbox.sourceDirectory ?? REPOSITORY, 'rev-parse', '--short', 'HEAD']),
    sourceDirectory: lightbox.sourceDirectory ?? REPOSITORY,
    /** Files differing from that commit in what was run (0 with --commit). */
    uncommittedFiles: exported
      ? '0'
      : tool('sh', ['-c', `git -C ${REPOSITORY} status --porcelain | wc -l`]),
    entry: lightbox.entry,
    env: lightbox.env,
    nodeArgs: lightbox.nodeArgs,
  },
  options: { instances, associations: associationCounts, targets, repeats },
  corpus: null as unknown,
  runs: [] as IngestRun[],
  summary: [] as ReturnType<typeof summarize>,
  big: [] as BigRun[],
  failures: [] as { target: string; associations: number; repeat: number; message: string }[],
};

/** Written after every run (tmp + rename), so an interrupted benchmark keeps what it measured. */
async function save(): Promise<void> {
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(`${outFile}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${outFile}.tmp`, outFile);
}

if (!values['big-only']) {
  const corpus = await ensureCorpus(instances, {
    parts: Math.max(4, ...associationCounts),
    log,
  });
  report.corpus = corpus;
  log(
    `corpus: ${corpus.instances} instances, ` +
      `${(corpus.bytes / 1e6).toFixed(0)} MB in ${corpus.directory}`,
  );
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const associations of associationCounts) {
      // Alternate which target goes first, so slow drift on a shared machine favours neither.
      const order = repeat % 2 ? targets : [...targets].reverse();
      for (const target of order) {
        // A run disturbed by someone else's CPU, or failed, is kept in the JSON and run again
        // (up to --retries).
        for (let attempt = 0; attempt <= retries; attempt++) {
          let run: IngestRun;
          try {
            run = await runIngest({ target, associations, corpus, repeat, lightbox });
          } catch (error) {
            // Recorded and reported; the other runs go on.
            const message = (error as Error).message ?? String(error);
            report.failures.push({ target, associations, repeat, message });
            log(`#${repeat} ${target} ×${associations}: FAILED ${message.slice(0, 2000)}`);
            await save();
            continue; // a failed run counts as an attempt
          }
          report.runs.push(run);
          log(
            `#${repeat} ${target} ×${associations}: ack ${run.ackSeconds} s, indexed ` +
              `${run.indexedSeconds} s, ${run.mbPerSecond} MB/s, ` +
              `${run.instancesPerSecond} inst/s, ` +
              `RSS ${run.rssBeforeMB} → peak ${run.peakRssMB} MB, CPU ${run.cpuSeconds} s ` +
              `[${threads(run.cpuByThread)}], storescu ${run.senderCpuSeconds} s, ` +
              `others ${run.otherCpuSeconds} s${run.disturbed ? ' DISTURBED' : ''}`,
          );
          await save();
          if (!run.disturbed) break;
        }
        report.summary = summarize(report.runs);
        await save();
      }
    }
  }
  process.stdout.write(`\n${formatTable(report.summary)}\n`);
}

if (values.big || values['big-only']) {
  // Fresh: PGlite's initdb has just run in the process. Restarted: what a long-running install is.
  for (const restarted of [false, true]) {
    log(`big instance: sparse file → ${restarted ? 'restarted' : 'fresh'} Lightbox`);
    const frames = integers(values['big-frames'], 'big-frames')[0];
    let big: BigRun;
    try {
      big = await runBig({ lightbox, frames, restarted });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      report.failures.push({ target: 'lightbox-big', associations: 1, repeat: 1, message });
      log(`big instance FAILED ${message.slice(0, 2000)}`);
      await save();
      continue;
    }
    report.big.push(big);
    await save();
    process.stdout.write(
      `${formatBig(big)}\n  CPU ${big.cpuSeconds} s [${threads(big.cpuByThread)}]\n`,
    );
  }
}

await save();
process.stdout.write(`\nresults: ${path.relative(process.cwd(), outFile)}\n`);
if (report.failures.length > 0) {
  process.stdout.write(`${report.failures.length} run(s) failed: see "failures" in the results\n`);
  process.exitCode = 1;
}
