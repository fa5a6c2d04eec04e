/**
 * The error edge: a full rendering pool (LightboxError 'Busy') is 503 with Retry-After as a problem
 * document (RFC 9110 §10.2.3, RFC 9457), and so is an index that is unavailable.
 */
import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { LightboxError, type LightboxErrorCode } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { problems, RETRY_AFTER_SECONDS } from '../../viewer-api/problem.js';

async function answer(code: LightboxErrorCode) {
  const app = new Koa();
  app.use(problems(createLogger({ level: 'silent' })));
  app.use(() => {
    throw new LightboxError(code, 'too many images being rendered; try again shortly');
  });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    return { res, body: (await res.json()) as Record<string, unknown> };
  } finally {
    server.close();
  }
}

test('Busy is 503 with Retry-After and a problem document without detail', async (t) => {
  const { res, body } = await answer('Busy');
  t.is(res.status, 503);
  t.is(res.headers.get('retry-after'), String(RETRY_AFTER_SECONDS));
  t.is(res.headers.get('content-type'), 'application/problem+json');
  t.deepEqual(body, { type: 'about:blank', title: 'Service Unavailable', status: 503 });
});

test('an unavailable index is 503 with Retry-After too; a 404 has none', async (t) => {
  t.is(
    (await answer('StorageUnavailable')).res.headers.get('retry-after'),
    String(RETRY_AFTER_SECONDS),
  );
  const notFound = await answer('NotFound');
  t.is(notFound.res.status, 404);
  t.is(notFound.res.headers.get('retry-after'), null);
});
