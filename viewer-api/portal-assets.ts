/**
 * The web portal's static files (viewer-api/portal/: plain HTML, CSS and ES modules, no bundler),
 * served under /portal/. The directory is read once, on first use, into a fixed table of assets with
 * their media type and a strong ETag: nothing outside that table can be asked for (no path is ever
 * joined from a request), and the files are small. Every response carries a strict
 * Content-Security-Policy (everything from our own origin; images also from blob: URLs, which is how
 * the pages show images fetched with the bearer token) and no Referer, since a share-link page has
 * its token in its path.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import { LightboxError } from '../core/errors.js';
import { SHARE_TOKEN } from '../core/grants/share-token.js';

/** Next to this module in the sources and in dist/ (scripts/copy-assets.mjs copies it). */
export const PORTAL_DIRECTORY = fileURLToPath(new URL('./portal/', import.meta.url));

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

async function loadAssets(directory: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const type = MEDIA_TYPES[path.extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const file = path.join(entry.parentPath, entry.name);
    const body = await readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(path.relative(directory, file).split(path.sep).join('/'), { body, type, etag });
  }
  return assets;
}

/** Handlers for the portal's routes (routes.ts lists the paths). */
export function portalAssets(directory = PORTAL_DIRECTORY) {
  let assets: Promise<Map<string, Asset>> | undefined;

  const send = async (ctx: Koa.Context, name: string) => {
    assets ??= loadAssets(directory);
    const asset = (await assets).get(name);
    if (!asset) throw new LightboxError('NotFound', 'not found');
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    // Names are not content-hashed, so every use revalidates; an unchanged file is a 304.
    ctx.set('Cache-Control', 'no-cache');
    ctx.etag = asset.etag;
    ctx.type = asset.type;
    ctx.status = 200; // ctx.fresh compares validators only for a 2xx
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = asset.body;
  };

  return {
    /**
     * The signed-in portal at /portal/ (sign-in by link: /portal/#token=…, kept in the fragment);
     * /portal is redirected there (the router matches both: trailing slashes are optional).
     */
    async index(ctx: Koa.Context) {
      if (!ctx.path.endsWith('/')) {
        ctx.status = 301;
        ctx.redirect('/portal/');
        return;
      }
      await send(ctx, 'index.html');
    },
    /** The landing page of a share link: the token is read by the page from its own path. */
    async shareLanding(ctx: Koa.Context) {
      if (!SHARE_TOKEN.test(String(ctx.params.token)))
        throw new LightboxError('NotFound', 'not found');
      await send(ctx, 'share.html');
    },
    /** Any other file of the portal directory, by its relative path. */
    asset: (ctx: Koa.Context) => send(ctx, String((ctx.params as { path: string }).path)),
  };
}
