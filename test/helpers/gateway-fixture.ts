/**
 * A gateway in the test process, as gateway/main.ts builds it: startGateway over a real Spool in a
 * fresh temporary directory and the given queue (in-process by default), all torn down with the test.
 */
import type { ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GatewayConfig, QueueConfig } from '../../config/schema.js';
import { createLogger } from '../../core/log.js';
import { createIngestQueue } from '../../core/queue/create-ingest-queue.js';
import type { IngestQueue } from '../../core/queue/ingest-queue.js';
import { Spool } from '../../core/spool/spool.js';
import { startGateway, type Gateway } from '../../gateway/gateway.js';

export interface GatewayFixture {
  dir: string;
  spool: Spool;
  queue: IngestQueue;
  gateway: Gateway;
}

export async function startGatewayFixture(
  t: ExecutionContext,
  options: { queue?: QueueConfig; gateway?: Partial<GatewayConfig>; fsync?: boolean } = {},
): Promise<GatewayFixture> {
  const log = createLogger({ level: 'silent' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lightbox-gateway-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const spool = new Spool({ directory: path.join(dir, 'spool'), fsync: options.fsync ?? true });
  await spool.init();
  const queue = createIngestQueue({
    config: options.queue ?? QueueConfig.parse({ kind: 'in-process' }),
    spool,
    log,
  });
  const gateway = await startGateway({
    config: GatewayConfig.parse({ port: 0, ...options.gateway }),
    spool,
    queue,
    log,
  });
  t.teardown(async () => {
    await gateway.close(0);
    await queue.close();
  });
  return { dir, spool, queue, gateway };
}
