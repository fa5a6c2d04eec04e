/**
 * `npm run bench:dicomweb -- [--search-studies 2000] [--passes 2] [--qido-requests 60] [--entry dist|source]
 *  [--targets lightbox,orthanc] [--only REGEX] [--cpu-prof DIR] [--lightbox-env K=V]
 *  [--node-arg=--OPT] [--out FILE]`
 *
 * DICOMweb read performance, Lightbox against Orthanc 1.10 with its DICOMweb plugin on the same
 * corpus: both servers are started on fresh storage and receive the CT corpus (7 studies, 2,002
 * instances, 986 MB) and the search corpus (many small studies) with storescu; then every scenario
 * of dicomweb-scenarios.ts runs against each, in alternating order per pass, with a keep-alive HTTP
 * client. Latency percentiles pool the passes; MB/s is body bytes ÷ wall time. Match counts of
 * the QIDO scenarios are compared between the two servers. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCorpus } from './corpus.js';
import { httpRequests, scenarios, type Scenario } from './dicomweb-scenarios.js';
import { curlAvailable, runCurlLoad } from './curl-load.js';
import { get, keepAliveAgent, percentile, runLoad, type LoadResult } from './http-load.js';
import { REPOSITORY, startLightboxProcess } from './lightbox-process.js';
import { startOrthanc } from './orthanc.js';
import { machineBusySeconds, processCpu, waitUntil } from './proc.js';
import { round, senderGroups } from './run.js';
import { ensureSearchCorpus } from './search-corpus.js';
import type { ServerUnderTest, TargetName } from './server.js';
import { sendDirectories } from './storescu.js';

const { values } = parseArgs({
  options: {
    'search-studies': { type: 'string', default: '2000' },
    passes: { type: 'string', default: '2' },
    'qido-requests': { type: 'string', default: '60' },
    entry: { type: 'string', default: 'dist' },
    targets: { type: 'string', default: 'lightbox,orthanc' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'lightbox-env': { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const searchStudies = Number(values['search-studies']);
const passes = Number(values.passes);
const targets = values.targets.split(',') as TargetName[];
const token = randomBytes(24).toString('hex');

const corpus = await ensureCorpus(2002, { parts: 4, log });
const search = await ensureSearchCorpus(searchStudies, log);
const plan = scenarios(corpus, searchStudies, {
  qido: Number(values['qido-requests']),
  metadataPasses: 4,
  retrievePasses: 1,
  frames: 60,
}).filter((s) => !values.only || new RegExp(values.only, 'i').test(s.name));

interface Target {
  server: ServerUnderTest;
  root: string;
  headers: Record<string, string>;
}

async function start(name: TargetName): Promise<Target> {
  const server =
    name === 'orthanc'
      ? await startOrthanc({ dicomWeb: true })
      : await startLightboxProcess({
          entry: values.entry === 'source' ? 'source' : 'dist',
          cpuProfileDirectory: values['cpu-prof'] && path.resolve(values['cpu-prof']),
          nodeArgs: values['node-arg'], // the launchers' heap flags unless overridden
          env: {
            LIGHTBOX_API_TOKEN: token,
            ...Object.fromEntries(values['lightbox-env'].map((kv) => kv.split('=', 2))),
          },
        });
  const headers: Record<string, string> =
    name === 'lightbox' ? { Authorization: `Bearer ${token}` } : {};
  const root = `${server.httpBase}/dicom-web`;
  await waitUntil(
    `${name} DICOMweb`,
    async () =>
      (await fetch(`${root}/studies?limit=1`, { headers }).catch(() => null))?.ok === true,
    { timeoutMs: 60_000, alive: server.alive },
  );
  return { server, root, headers };
}

/** Sends both corpora (CT over 4 associations, then the search corpus) and waits until indexed. */
async function ingest(target: Target): Promise<number> {
  const t0 = performance.now();
  const groups = [...senderGroups(corpus, 4), [search.directory]];
  const sends = groups.map((g) =>
    sendDirectories(target.server.dicomPort, target.server.aeTitle, g, t0),
  );
  const results = await Promise.all(sends.map((s) => s.done));
  const total = corpus.instances + search.instances;
  const acknowledged = results.reduce((sum, r) => sum + r.successes, 0);
  if (acknowledged !== total || results.some((r) => r.code !== 0)) {
    throw new Error(`${target.server.target}: ${acknowledged}/${total} acknowledged`);
  }
  await target.server.indexedAt(total, t0, new AbortController().signal);
  return (performance.now() - t0) / 1000;
}

/** QIDO match counts of each distinct request (the first pass), to compare the two servers. */
async function matchCounts(target: Target, scenario: Scenario): Promise<number> {
  const agent = keepAliveAgent(1);
  let matches = 0;
  for (const request of new Set(
    httpRequests(scenario, target.root, target.headers).map((r) => r.url),
  )) {
    const answer = await get(
      agent,
      { url: request, headers: { ...target.headers, Accept: 'application/dicom+json' } },
      true,
    );
    matches +=
      answer.status === 204 || answer.bytes === 0
        ? 0
        : (JSON.parse(answer.body!.toString()) as unknown[]).length;
  }
  agent.destroy();
  return matches;
}

interface Measured extends LoadResult {
  serverCpuS: number;
  othersCores: number;
}

/**
 * Study retrieves (141 MB bodies) and metadata (≈ 0.45 MB of JSON per study) by curl when it is
 * there: see curl-load.ts. The harness's node:http client added 3-4 ms to each 0.45 MB metadata
 * response (p50 7.8 ms against curl's 4.1 ms for the same kept response of the same server).
 */
const useCurl = await curlAvailable();
const byCurl = (scenario: Scenario) =>
  useCurl && (scenario.group === 'retrieve' || scenario.group === 'metadata');

async function measure(target: Target, scenario: Scenario): Promise<Measured> {
  const requests = httpRequests(scenario, target.root, target.headers);
  const load = byCurl(scenario) ? runCurlLoad : runLoad;
  // Warm-up: a few of the scenario's own requests (connections, caches of the file system).
  await load(
    requests.slice(0, Math.min(requests.length, scenario.group === 'retrieve' ? 1 : 5)),
    1,
  );
  const machine = machineBusySeconds();
  const cpu = processCpu(target.server.pid);
  const harness = process.cpuUsage();
  const result = await load(requests, scenario.concurrency);
  const serverCpuS = processCpu(target.server.pid) - cpu;
  const own = process.cpuUsage(harness);
  // The harness's own CPU, and that of its curl clients (curl-load.ts), is not the others'.
  const clientCpuS = (own.user + own.system) / 1e6 + (result.clientCpuS ?? 0);
  const others = machineBusySeconds() - machine - serverCpuS - clientCpuS;
  return { ...result, serverCpuS, othersCores: others / (result.wallMs / 1000) };
}

const started = new Date();
const report = {
  startedAt: started.toISOString(),
  machine: { cpus: os.cpus().length, node: process.version, loadAverageAtStart: os.loadavg() },
  lightboxCommit: execFileSync('git', ['-C', REPOSITORY, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim(),
  corpus: { ct: corpus, search },
  options: {
    passes,
    searchStudies,
    entry: values.entry,
    targets,
    lightboxEnv: values['lightbox-env'],
    nodeArgs: values['node-arg'],
    retrieveClient: useCurl ? 'curl' : 'node:http',
  },
  ingestSeconds: {} as Record<string, number>,
  matches: {} as Record<string, Record<string, number>>,
  results: [] as Record<string, unknown>[],
};
const outFile =
  values.out ??
  path.join(
    REPOSITORY,
    'bench',
    'results',
    `dicomweb-${started.toISOString().slice(0, 16).replace(/:/g, '-')}.json`,
  );

const running: Partial<Record<TargetName, Target>> = {};
try {
  for (const name of targets) {
    running[name] = await start(name);
    report.ingestSeconds[name] = round(await ingest(running[name]!));
    log(`${name}: ingested in ${report.ingestSeconds[name]} s`);
  }
  for (const scenario of plan.filter((s) => s.group === 'qido')) {
    const counts: Record<string, number> = {};
    for (const name of targets) counts[name] = await matchCounts(running[name]!, scenario);
    report.matches[scenario.name] = counts;
  }
  const pooled = new Map<string, Measured[]>();
  for (let pass = 1; pass <= passes; pass++) {
    for (const scenario of plan) {
      const order = pass % 2 ? targets : [...targets].reverse();
      for (const name of order) {
        const m = await measure(running[name]!, scenario);
        const key = `${scenario.name}\t${name}`;
        pooled.set(key, [...(pooled.get(key) ?? []), m]);
        log(
          `#${pass} ${name.padEnd(8)} ${scenario.name.padEnd(48)} p50 ${percentile(m.latenciesMs, 50).toFixed(1)} ` +
            `p95 ${percentile(m.latenciesMs, 95).toFixed(1)} ms, ${(m.bytes / 1e6 / (m.wallMs / 1000)).toFixed(0)} MB/s` +
            `${m.statuses.ok === m.requests ? '' : ` statuses ${JSON.stringify(m.statuses)}`}` +
            ` others ${m.othersCores.toFixed(2)} cores`,
        );
      }
    }
  }
  for (const scenario of plan) {
    for (const name of targets) {
      const runs = pooled.get(`${scenario.name}\t${name}`) ?? [];
      const latencies = runs.flatMap((r) => r.latenciesMs);
      const wallS = runs.reduce((s, r) => s + r.wallMs, 0) / 1000;
      const bytes = runs.reduce((s, r) => s + r.bytes, 0);
      report.results.push({
        scenario: scenario.name,
        group: scenario.group,
        target: name,
        concurrency: scenario.concurrency,
        requests: latencies.length,
        p50: round(percentile(latencies, 50)),
        p95: round(percentile(latencies, 95)),
        p99: round(percentile(latencies, 99)),
        requestsPerS: round(latencies.length / wallS, 1),
        MBps: round(bytes / 1e6 / wallS, 1),
        bytesPerRequest: Math.round(bytes / Math.max(1, latencies.length)),
        serverCpuMsPerRequest: round(
          (runs.reduce((s, r) => s + r.serverCpuS, 0) * 1000) / latencies.length,
        ),
        // Only when the requests ran in curl processes (curl-load.ts).
        clientCpuMsPerRequest: runs.some((r) => r.clientCpuS !== undefined)
          ? round((runs.reduce((s, r) => s + (r.clientCpuS ?? 0), 0) * 1000) / latencies.length)
          : undefined,
        othersCoresMax: round(Math.max(...runs.map((r) => r.othersCores))),
        notOk: runs.reduce((s, r) => s + r.requests - (r.statuses.ok ?? 0), 0),
      });
    }
  }
} finally {
  for (const target of Object.values(running)) await target?.server.dispose();
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(`${outFile}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${outFile}.tmp`, outFile);
  log(`written ${outFile}`);
}
process.stdout.write(`${formatDicomWebTable(report.results)}\n`);

/** Markdown table: one row per scenario, Lightbox and Orthanc side by side with the ratio. */
function formatDicomWebTable(rows: Record<string, unknown>[]): string {
  const byScenario = new Map<string, Record<string, Record<string, unknown>>>();
  for (const row of rows) {
    const entry = byScenario.get(row.scenario as string) ?? {};
    entry[row.target as string] = row;
    byScenario.set(row.scenario as string, entry);
  }
  const lines = [
    '| scenario | c | Lightbox p50 / p95 / p99 ms | Orthanc p50 / p95 / p99 ms | p95 Orthanc/Lightbox | Lightbox MB/s | Orthanc MB/s | MB/s Lightbox/Orthanc |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [scenario, t] of byScenario) {
    const l = t.lightbox;
    const o = t.orthanc;
    const lat = (r?: Record<string, unknown>) => (r ? `${r.p50} / ${r.p95} / ${r.p99}` : '–');
    const ratio = (a?: unknown, b?: unknown) =>
      a && b ? `${(Number(a) / Number(b)).toFixed(2)}×` : '–';
    lines.push(
      `| ${scenario} | ${(l ?? o)?.concurrency} | ${lat(l)} | ${lat(o)} | ${ratio(o?.p95, l?.p95)} | ` +
        `${l?.MBps ?? '–'} | ${o?.MBps ?? '–'} | ${ratio(l?.MBps, o?.MBps)} |`,
    );
  }
  return lines.join('\n');
}
