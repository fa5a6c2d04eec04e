/**
 * The DICOMweb benchmark's client: node:http with a keep-alive agent (one socket per lane, reused
 * for every request), bodies counted chunk by chunk and never concatenated unless asked for, so the
 * client costs little next to the server it measures. A scenario runs its requests on `concurrency`
 * lanes; each request's latency is from the request being written to the last body byte.
 */
import http from 'node:http';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
}

export interface HttpAnswer {
  status: number;
  bytes: number;
  ms: number;
  /** The body, only when asked for (small JSON answers checked for their match count). */
  body?: Buffer;
}

export function keepAliveAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** One GET on `agent`: status, body bytes and milliseconds until the last byte. */
export function get(
  agent: http.Agent,
  request: HttpRequest,
  keepBody = false,
): Promise<HttpAnswer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(request.url, { agent, headers: request.headers }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
      });
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ms: performance.now() - started,
          body: keepBody ? Buffer.concat(chunks) : undefined,
        }),
      );
    });
    req.once('error', reject);
  });
}

export interface LoadResult {
  requests: number;
  concurrency: number;
  wallMs: number;
  bytes: number;
  latenciesMs: number[];
  statuses: Record<string, number>;
  /** CPU seconds of client processes, when the load ran in them (curl-load.ts). */
  clientCpuS?: number;
}

/**
 * Runs `requests` (in order, each once) on `concurrency` lanes sharing one keep-alive agent; a
 * status other than `expectStatus` is counted, not thrown, so the caller can report it.
 */
export async function runLoad(
  requests: HttpRequest[],
  concurrency: number,
  expectStatus = 200,
): Promise<LoadResult> {
  const agent = keepAliveAgent(concurrency);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let bytes = 0;
  let next = 0;
  const started = performance.now();
  const lanes = Array.from({ length: concurrency }, async () => {
    while (next < requests.length) {
      const answer = await get(agent, requests[next++]);
      latenciesMs.push(answer.ms);
      bytes += answer.bytes;
      const key = answer.status === expectStatus ? 'ok' : String(answer.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  });
  await Promise.all(lanes);
  const wallMs = performance.now() - started;
  agent.destroy();
  return { requests: requests.length, concurrency, wallMs, bytes, latenciesMs, statuses };
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
