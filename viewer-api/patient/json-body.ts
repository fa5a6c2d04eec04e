/**
 * The JSON request bodies of the patient / doctor API: application/json, at most 16 KiB, an object.
 * Anything else is 400 or 415 before a handler looks at it.
 */
import type Koa from 'koa';
import { LightboxError } from '../../core/errors.js';

const MAX_BYTES = 16 * 1024;

export async function jsonBody(ctx: Koa.Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) {
    throw new LightboxError('UnsupportedMediaType', 'the body must be application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BYTES) throw new LightboxError('PayloadTooLarge', 'the body is too large');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new LightboxError('BadRequest', 'the body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LightboxError('BadRequest', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
