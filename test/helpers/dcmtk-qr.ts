/**
 * dcmtk's Query/Retrieve SCUs as a PACS would use them: findscu (responses extracted to files and
 * read back with dcm2json), movescu and getscu (received objects written bit-preserving), each
 * against 127.0.0.1 with its own calling AE title.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DicomJson } from '../../core/archive/index-store.js';
import { run, type RunResult } from './dcmtk.js';

export interface QrOptions {
  callingAETitle: string;
  calledAETitle?: string;
  model: 'patient' | 'study';
  /** -k arguments: "QueryRetrieveLevel=STUDY", "PatientName=DOE*", "StudyInstanceUID"… */
  keys: string[];
  extra?: string[];
}

function common(port: number, options: QrOptions): string[] {
  return [
    '-v',
    options.model === 'patient' ? '-P' : '-S',
    '-aet',
    options.callingAETitle,
    '-aec',
    options.calledAETitle ?? 'LIGHTBOX',
    ...options.keys.flatMap((k) => ['-k', k]),
    ...(options.extra ?? []),
  ];
}

export interface FindResult extends RunResult {
  /** The Pending responses' identifiers, in order (dcm2json of findscu's extracted files). */
  responses: DicomJson[];
}

export async function findscu(port: number, options: QrOptions): Promise<FindResult> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-findscu-'));
  try {
    const result = await run('findscu', [
      ...common(port, options),
      '-X',
      '-od',
      directory,
      '127.0.0.1',
      String(port),
    ]);
    const responses: DicomJson[] = [];
    for (const name of (await readdir(directory)).sort()) {
      const json = await run('dcm2json', ['-fc', path.join(directory, name)]);
      if (json.code !== 0) throw new Error(`dcm2json ${name}: ${json.stderr}`);
      responses.push(JSON.parse(json.stdout) as DicomJson);
    }
    return { ...result, responses };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** C-MOVE to `destination` (an AE the SCP knows); movescu itself receives nothing. */
export function movescu(port: number, destination: string, options: QrOptions): Promise<RunResult> {
  return run('movescu', [...common(port, options), '-aem', destination, '127.0.0.1', String(port)]);
}

/** C-GET into `directory`, bit-preserving (+B): the files hold the data sets exactly as received. */
export function getscu(port: number, directory: string, options: QrOptions): Promise<RunResult> {
  return run('getscu', [
    ...common(port, options),
    '+B',
    '-od',
    directory,
    '127.0.0.1',
    String(port),
  ]);
}

/** The final response line of a dcmtk SCU's verbose output, e.g. "Success" or "Warning". */
export function statuses(output: string): string[] {
  return [
    ...output.matchAll(/Received (?:Final )?(?:Find|Move|Get) Response[^\n]*\((\w[^)]*)\)/g),
  ].map((m) => m[1]);
}

/** First value of a DICOM JSON attribute, as text (PN: alphabetic). */
export function value(json: DicomJson, tag: string): string | number | undefined {
  const v = json[tag]?.Value?.[0];
  if (v && typeof v === 'object') return (v as { Alphabetic?: string }).Alphabetic;
  return v as string | number | undefined;
}
