/**
 * The DIMSE listener. Lightbox owns the TCP server (dcmjs-dimse's Server cannot bind an address or cap
 * connections): it binds gateway.host (127.0.0.1 by default), refuses connections past
 * maxAssociations, disables Nagle (one C-STORE-RSP per instance must not wait 40 ms) and hands each socket
 * to a LightboxScp.
 */
import net from 'node:net';
import dimse from 'dcmjs-dimse';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { LightboxMetrics } from '../core/ops/metrics.js';
import type { IngestQueue } from '../core/queue/ingest-queue.js';
import type { Spool } from '../core/spool/spool.js';
import { LightboxScp, type ScpContext } from './scp.js';

export interface GatewayDependencies {
  config: GatewayConfig;
  spool: Spool;
  queue: IngestQueue;
  log: Logger;
  onInstance?: ScpContext['onInstance'];
  /** Associations and received instances are counted here (core/ops/metrics.ts). */
  metrics?: LightboxMetrics;
}

export interface Gateway {
  /** The bound port (useful with port 0). */
  port: number;
  host: string;
  /** Open associations right now. */
  associations(): number;
  /** Stops accepting, lets open associations finish for up to `graceMs`, then closes them. */
  close(graceMs?: number): Promise<void>;
}

export async function startGateway(deps: GatewayDependencies): Promise<Gateway> {
  const { config } = deps;
  const log = deps.log.child({ component: 'gateway' });
  // dcmjs-dimse logs AE titles and command data sets through loglevel at info; Lightbox logs itself.
  dimse.log.setLevel('silent');
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    if (sockets.size >= config.maxAssociations) {
      log.warn({ open: sockets.size }, 'connection refused: maxAssociations reached');
      deps.metrics?.associationRejected('max-associations');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    const scp = new LightboxScp(socket, { ...deps, log });
    (scp as unknown as { connected: boolean }).connected = true;
    scp.on('networkError', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'gateway server error'));
  deps.metrics?.observe({ associations: () => sockets.size });
  const address = server.address() as net.AddressInfo;
  log.info(
    { host: address.address, port: address.port, aeTitle: config.aeTitle },
    'DIMSE listening',
  );

  return {
    port: address.port,
    host: address.address,
    associations: () => sockets.size,
    async close(graceMs = 5000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
