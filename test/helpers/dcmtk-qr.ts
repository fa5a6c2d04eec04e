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

/**
 * C-MOVE to `destination` (an AE the SCP knows); movescu itself receives nothing. Debug output (-d)
 * dumps each C-MOVE-RSP, sub-operation counts included ("Completed Suboperations : 5").
 */
export function movescu(port: number, destination: string, options: QrOptions): Promise<RunResult> {
  return run('movescu', [
    ...common(port, options),
    '-d',
    '-aem',
    destination,
    '127.0.0.1',
    String(port),
  ]);
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

/** First value of a DICOM JSON attribute, as text (PN: alphabetic). */
export function value(json: DicomJson, tag: string): string | number | undefined {
  const v = json[tag]?.Value?.[0];
  if (v && typeof v === 'object') return (v as { Alphabetic?: string }).Alphabetic;
  return v as string | number | undefined;
}

/** The final C-MOVE-RSP of movescu's debug output: its status and sub-operation counts. */
export function finalMoveResponse(output: string): {
  status: number;
  completed: number;
  failed: number;
} {
  const final = output.slice(output.lastIndexOf('Received Final Move Response'));
  const count = (name: string) =>
    Number(new RegExp(`${name} Suboperations\\s*: (\\d+)`).exec(final)?.[1] ?? 0);
  const status = /DIMSE Status\s*: 0x([0-9a-f]{4})/i.exec(final)?.[1];
  if (status === undefined) throw new Error(`no final C-MOVE response in:\n${output}`);
  return {
    status: Number.parseInt(status, 16),
    completed: count('Completed'),
    failed: count('Failed'),
  };
}
