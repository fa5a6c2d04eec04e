/**
 * The principal kinds each patient / doctor API resource serves. Any other kind gets 404, like a
 * resource that does not exist (default deny; nothing says "exists, but not for you").
 */
import type Koa from 'koa';
import { LightboxError } from '../../core/errors.js';
import type { Principal } from '../../core/grants/grants.js';
import { principalOf } from '../auth.js';

type Of<K extends Principal['kind']> = Extract<Principal, { kind: K }>;

export function requireKind<K extends Principal['kind']>(ctx: Koa.Context, ...kinds: K[]): Of<K> {
  const principal = principalOf(ctx);
  if (!principal || !(kinds as string[]).includes(principal.kind)) {
    throw new LightboxError('NotFound', 'not found');
  }
  return principal as Of<K>;
}

/** limit (1–500, default 100) and offset (≥ 0) query parameters. */
export function page(ctx: Koa.Context): { limit: number; offset: number } {
  const int = (name: string, fallback: number, max: number) => {
    const raw = ctx.query[name];
    if (raw === undefined) return fallback;
    const n = typeof raw === 'string' && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n > max) throw new LightboxError('BadRequest', `bad ${name}`);
    return n;
  };
  return { limit: Math.max(1, int('limit', 100, 500)), offset: int('offset', 0, 1e9) };
}
