/**
 * A small JSON request body (the patient API's bodies are a few fields): at most 64 KiB, parsed once,
 * BadRequest for anything else, UnsupportedMediaType for another content type.
 */
import type Koa from 'koa';
import { LightboxError } from '../../core/errors.js';

const MAX_BYTES = 64 * 1024;

export async function readJsonBody(ctx: Koa.Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) {
    throw new LightboxError('UnsupportedMediaType', 'the body must be application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BYTES) throw new LightboxError('PayloadTooLarge', 'request body too large');
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new LightboxError('BadRequest', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new LightboxError('BadRequest', 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
