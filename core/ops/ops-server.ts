/**
 * The ops listener of a process without an HTTP API of its own (gateway, worker): GET /metrics
 * (Prometheus text format), /healthz (the process answers) and /readyz (its dependencies answer, 503
 * otherwise). node:http only: nothing else is served here. viewer-api serves the same three on its
 * own port (opsResponse), which is also what the embedded mode uses.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpsConfig } from '../../config/schema.js';
import type { Logger } from '../log.js';
import type { LightboxMetrics } from './metrics.js';
import { checkReadiness, type ReadinessChecks } from './readiness.js';

export interface OpsEndpoints {
  metrics: LightboxMetrics;
  readiness: ReadinessChecks;
}

export interface OpsResponse {
  status: number;
  contentType: string;
  body: string;
}

/** The answer for an ops path, or undefined when the path is not one of the three. */
export async function opsResponse(
  pathname: string,
  endpoints: OpsEndpoints,
): Promise<OpsResponse | undefined> {
  switch (pathname) {
    case '/metrics':
      return {
        status: 200,
        contentType: endpoints.metrics.contentType,
        body: await endpoints.metrics.render(),
      };
    case '/healthz':
      return json(200, { status: 'ok' });
    case '/readyz': {
      const { ready, checks } = await checkReadiness(endpoints.readiness);
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', checks });
    }
    default:
      return undefined;
  }
}

function json(status: number, body: unknown): OpsResponse {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

export interface OpsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** ops.port when unset, per process: one gateway and one worker per host need no setting. */
export const DEFAULT_OPS_PORTS = { gateway: 9464, worker: 9465 } as const;

/** Listens on ops.host and `port` (the process's default when ops.port is unset). */
export async function startOpsServer(
  config: OpsConfig,
  defaultPort: number,
  endpoints: OpsEndpoints,
  log: Logger,
): Promise<OpsServer> {
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://ops').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    opsResponse(pathname, endpoints).then(
      (answer) => {
        if (!answer) response.writeHead(404).end();
        else
          response
            .writeHead(answer.status, { 'content-type': answer.contentType })
            .end(answer.body);
      },
      (error: unknown) => {
        log.warn({ err: error }, 'ops endpoint failed');
        response.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? defaultPort, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info({ url }, 'ops endpoints listening (/metrics, /healthz, /readyz)');
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
