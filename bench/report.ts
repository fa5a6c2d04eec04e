/**
 * Summaries of benchmark runs: the median of the repeats per target and association count, the
 * Lightbox / Orthanc ratio of throughput (acknowledged and indexed), a plain-text table for the
 * terminal and a Markdown one for docs/benchmarks.md.
 */
import type { BigRun } from './big.js';
import type { IngestRun } from './run.js';
import type { TargetName } from './server.js';

/** The median run of one target at one association count. */
export interface Summary {
  target: TargetName;
  associations: number;
  runs: number;
  instances: number;
  MB: number;
  ackSeconds: number;
  indexedSeconds: number;
  mbPerSecond: number;
  instancesPerSecond: number;
  /** Peak RSS while receiving (VmHWM reset at t0). */
  peakRssMB: number;
  /** RSS at t0: the receiver ready and idle. */
  rssBeforeMB: number;
  cpuSeconds: number;
  /** Lightbox MB/s ÷ Orthanc MB/s at the same association count (Lightbox rows only). */
  ratio: number | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Medians per (target, associations), each column the median of its own; runs flagged `disturbed`
 * (someone else's CPU on the shared machine) are left out unless there is nothing else.
 */
export function summarize(runs: IngestRun[]): Summary[] {
  const keys = [...new Set(runs.map((r) => `${r.associations}|${r.target}`))].sort();
  const rows = keys.map((key): Summary => {
    const all = runs.filter((r) => `${r.associations}|${r.target}` === key);
    const calm = all.filter((r) => !r.disturbed);
    const group = calm.length > 0 ? calm : all;
    const pick = (f: (r: IngestRun) => number) => median(group.map(f));
    return {
      target: group[0].target,
      associations: group[0].associations,
      runs: group.length,
      instances: group[0].instances,
      MB: round(group[0].bytes / 1e6, 0),
      ackSeconds: round(pick((r) => r.ackSeconds)),
      indexedSeconds: round(pick((r) => r.indexedSeconds)),
      mbPerSecond: round(
        pick((r) => r.mbPerSecond),
        1,
      ),
      instancesPerSecond: round(
        pick((r) => r.instancesPerSecond),
        1,
      ),
      peakRssMB: round(
        pick((r) => r.peakRssMB),
        0,
      ),
      rssBeforeMB: round(
        pick((r) => r.rssBeforeMB),
        0,
      ),
      cpuSeconds: round(
        pick((r) => r.cpuSeconds),
        1,
      ),
      ratio: null,
    };
  });
  for (const row of rows) {
    if (row.target !== 'lightbox') continue;
    const orthanc = rows.find((o) => o.target === 'orthanc' && o.associations === row.associations);
    if (orthanc) row.ratio = round(row.mbPerSecond / orthanc.mbPerSecond);
  }
  return rows;
}

const HEADERS = [
  'target',
  'assoc',
  'runs',
  'instances',
  'MB',
  'ack s',
  'indexed s',
  'MB/s',
  'inst/s',
  'idle RSS MB',
  'peak RSS MB',
  'CPU s',
  'LB/Orthanc',
];

function cells(row: Summary): string[] {
  return [
    row.target,
    String(row.associations),
    String(row.runs),
    String(row.instances),
    String(row.MB),
    row.ackSeconds.toFixed(2),
    row.indexedSeconds.toFixed(2),
    row.mbPerSecond.toFixed(1),
    row.instancesPerSecond.toFixed(1),
    String(row.rssBeforeMB),
    String(row.peakRssMB),
    row.cpuSeconds.toFixed(1),
    row.ratio === null ? '' : `${row.ratio.toFixed(2)}×`,
  ];
}

/** A fixed-width table for the terminal. */
export function formatTable(rows: Summary[]): string {
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  return table.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
}

/** The same table in Markdown. */
export function formatMarkdown(rows: Summary[]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(HEADERS), line(HEADERS.map(() => '---')), ...rows.map((r) => line(cells(r)))].join(
    '\n',
  );
}

/** One line for a --big run. */
export function formatBig(big: BigRun): string {
  const verdict = big.peakRssMB < 300 ? 'under' : 'OVER';
  return (
    `big instance, ${big.lightbox} Lightbox: ${(big.bytes / 1e6).toFixed(0)} MB in ` +
    `${big.indexedSeconds.toFixed(1)} s (ack ${big.ackSeconds.toFixed(1)} s, ` +
    `${big.mbPerSecond.toFixed(1)} MB/s), RSS idle ${big.rssBeforeMB.toFixed(0)} MB, ` +
    `peak while receiving ${big.peakRssMB.toFixed(0)} MB (${verdict} 300 MB), ` +
    `stored ${big.storedBytes} bytes, data set ${big.datasetBytesStored} = ` +
    `${big.datasetBytesSent} sent`
  );
}
