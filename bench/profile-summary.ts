/**
 * `npx tsx bench/profile-summary.ts DIR [--top 25]`: where Lightbox's CPU went during a profiled
 * benchmark run (`npm run bench -- --cpu-prof DIR`). Reads every V8 .cpuprofile in DIR (one per
 * thread: the main thread runs the gateway and the worker's JavaScript, the other is PGlite's
 * thread), keeps only the samples taken while receiving (window.json written by the harness, same
 * CLOCK_MONOTONIC as V8's timestamps), and prints self time by area (package, Node internals,
 * Lightbox folder, GC, idle) and by function.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The V8 CPU profile format written by `node --cpu-prof`. */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one thread's profile, in milliseconds, by area and by function. */
export interface ProfileSummary {
  file: string;
  sampledMs: number;
  byArea: [string, number][];
  /** Time with the area anywhere on the stack (a package's callees included). */
  inclusiveByArea: [string, number][];
  byFunction: [string, number][];
}

/** The package, Node module or Lightbox folder a script belongs to. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName || '(native)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const repository = url.match(/\/(bin|config|core|gateway|worker|viewer-api)\/(.*)$/);
  if (repository) return `lightbox ${repository[1]}/${repository[2].split('/')[0]}`;
  return url;
}

const sorted = (map: Map<string, number>): [string, number][] =>
  [...map].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v)]);

/** Sums self time per area and per function over the samples inside `windowMicros`. */
export function summarizeProfile(
  file: string,
  profile: CpuProfile,
  windowMicros?: number[],
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const inclusiveByArea = new Map<string, number>();
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let at = profile.startTime;
  let sampledMs = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    if (windowMicros && (at < windowMicros[0] || at > windowMicros[1])) return;
    // A sample's delta is the time until the next one: attribute it to this sample's frame.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const { functionName, url, lineNumber } = nodes.get(id)?.callFrame ?? {
      functionName: '?',
      url: '',
      lineNumber: 0,
    };
    const area = areaOf(url, functionName);
    const where = url ? `${path.basename(url)}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'} ${where}`;
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)?.callFrame;
      if (frame && (frame.url || frame.functionName))
        onStack.add(areaOf(frame.url, frame.functionName));
    }
    for (const a of onStack) inclusiveByArea.set(a, (inclusiveByArea.get(a) ?? 0) + ms);
    byFunction.set(
      `${name.trim()} [${area}]`,
      (byFunction.get(`${name.trim()} [${area}]`) ?? 0) + ms,
    );
    sampledMs += ms;
  });
  return {
    file,
    sampledMs: Math.round(sampledMs),
    byArea: sorted(byArea),
    inclusiveByArea: sorted(inclusiveByArea),
    byFunction: sorted(byFunction),
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const directory = positionals[0];
  if (!directory) throw new Error('usage: bench/profile-summary.ts DIR [--top 25]');
  const window = await readFile(path.join(directory, 'window.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { windowMicros: number[] }).windowMicros,
    () => undefined,
  );
  const top = Number(values.top);
  for (const name of (await readdir(directory)).filter((n) => n.endsWith('.cpuprofile')).sort()) {
    const profile = JSON.parse(await readFile(path.join(directory, name), 'utf8')) as CpuProfile;
    const summary = summarizeProfile(name, profile, window);
    if (summary.sampledMs === 0) continue;
    const pct = (ms: number) => `${((100 * ms) / summary.sampledMs).toFixed(1).padStart(5)}%`;
    process.stdout.write(
      `\n${name}: ${summary.sampledMs} ms sampled${window ? ' while receiving' : ''}\n`,
    );
    process.stdout.write('  by area:\n');
    for (const [area, ms] of summary.byArea.slice(0, 15)) {
      process.stdout.write(`    ${pct(ms)} ${String(ms).padStart(7)} ms  ${area}\n`);
    }
    process.stdout.write('  by area, callees included:\n');
    for (const [area, ms] of summary.inclusiveByArea.slice(0, 15)) {
      process.stdout.write(`    ${pct(ms)} ${String(ms).padStart(7)} ms  ${area}\n`);
    }
    process.stdout.write('  by function (self):\n');
    for (const [fn, ms] of summary.byFunction.slice(0, top)) {
      process.stdout.write(`    ${pct(ms)} ${String(ms).padStart(7)} ms  ${fn}\n`);
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
