/**
 * The DICOMweb benchmark's client for large bodies (study retrieve): one `curl` process per lane,
 * each fetching its requests over one keep-alive connection and discarding the bodies. A Node
 * client in the harness process spent 80-300 ms of CPU per 141 MB study (HTTP parsing and a Buffer
 * per socket read, and the GC of them), more than either server, so the retrieve scenarios measured
 * the harness; curl spends about 25 ms. Latency is curl's time_total: from the start of the
 * transfer (the connection, for a lane's first request) to the last body byte.
 */
import { spawn } from 'node:child_process';
import type { HttpRequest, LoadResult } from './http-load.js';
import { reapedChildrenCpu } from './proc.js';

/** Whether curl can be run here. */
export async function curlAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/**
 * Runs `requests` on `concurrency` curl processes (request i on lane i mod concurrency); every
 * request of a run must carry the same headers. A status other than `expectStatus` is counted.
 */
export async function runCurlLoad(
  requests: HttpRequest[],
  concurrency: number,
  expectStatus = 200,
): Promise<LoadResult> {
  const headers = JSON.stringify(requests[0]?.headers ?? {});
  if (requests.some((r) => JSON.stringify(r.headers) !== headers)) {
    throw new Error('runCurlLoad: every request must carry the same headers');
  }
  const headerArgs = Object.entries(requests[0]?.headers ?? {}).flatMap(([k, v]) => [
    '-H',
    `${k}: ${v}`,
  ]);
  const lanes = Array.from({ length: concurrency }, (_, lane) =>
    requests.filter((_, i) => i % concurrency === lane),
  ).filter((lane) => lane.length > 0);
  const started = performance.now();
  const children = reapedChildrenCpu();
  const answers = await Promise.all(
    lanes.map((lane) =>
      curl([
        '--silent',
        '--show-error',
        ...headerArgs,
        '--write-out',
        '%{http_code} %{time_total} %{size_download}\\n',
        ...lane.flatMap((r) => ['--output', '/dev/null', r.url]),
      ]),
    ),
  );
  const wallMs = performance.now() - started;
  const clientCpuS = reapedChildrenCpu() - children;
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let bytes = 0;
  for (const line of answers.flatMap((out) => out.trim().split('\n'))) {
    const [code, seconds, size] = line.split(' ');
    latenciesMs.push(Number(seconds) * 1000);
    bytes += Number(size);
    const key = Number(code) === expectStatus ? 'ok' : String(code);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  if (latenciesMs.length !== requests.length) {
    throw new Error(`curl answered ${latenciesMs.length} of ${requests.length} requests`);
  }
  return {
    requests: requests.length,
    concurrency,
    wallMs,
    bytes,
    latenciesMs,
    statuses,
    clientCpuS,
  };
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`curl exited with ${code}: ${err.trim()}`)),
    );
  });
}
