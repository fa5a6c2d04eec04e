/**
 * The image engines (sharp with libvips, dcmjs-imaging with its WASM codecs: about 35 MB of RSS) are
 * loaded by the render threads only. The process that runs gateway + worker + viewer-api never maps
 * libvips merely by importing them.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('importing what `npm start` runs does not load sharp (libvips) in the main thread', (t) => {
  const script = `
    import { readFileSync } from 'node:fs';
    await import('./bin/start-lightbox.ts');
    await import('./viewer-api/app.ts');
    const maps = readFileSync('/proc/self/maps', 'utf8');
    const sharp = await import('sharp'); // the check is able to see libvips once it is loaded
    const after = readFileSync('/proc/self/maps', 'utf8');
    process.stdout.write(JSON.stringify({ before: maps.includes('libvips'), after: after.includes('libvips'), loaded: typeof sharp.default }));
  `;
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  const { before, after, loaded } = JSON.parse(output) as Record<string, unknown>;
  t.is(loaded, 'function');
  t.true(after, 'libvips is mapped once sharp is imported (the probe works)');
  t.false(before, 'libvips was mapped by the entry modules');
});
