/**
 * Orthanc from Debian (/usr/sbin/Orthanc) as a DICOM peer: the configuration shared by the tests and
 * the benchmark (bench/orthanc.ts), and a launcher for tests on free ports with a temporary storage
 * directory, HTTP on 127.0.0.1 for its REST API, and TCP_NODELAY=1 (without it Debian's Orthanc
 * leaves Nagle on its DICOM port, see /work/shared/README.md).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';

/** Storage and SQLite index in `directory`, no plugins, no compression, HTTP and DICOM on the given ports. */
export function orthancBaseConfig(directory: string, dicomPort: number, httpPort: number) {
  return {
    Name: 'lightbox-peer',
    StorageDirectory: path.join(directory, 'storage'),
    IndexDirectory: path.join(directory, 'index'),
    StorageCompression: false,
    Plugins: [],
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomAet: 'ORTHANC',
    DicomPort: dicomPort,
    DicomCheckCalledAet: false,
  };
}

export interface TestOrthanc {
  aeTitle: string;
  dicomPort: number;
  /** Base URL of the REST API. */
  url: string;
  /** REST call: JSON in and out; throws on an HTTP error with Orthanc's answer. */
  rest<T = unknown>(method: string, route: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startTestOrthanc(options: {
  dicomPort?: number;
  /** DicomModalities: id → { AET, Host, Port }. */
  modalities: Record<string, { AET: string; Host: string; Port: number }>;
}): Promise<TestOrthanc> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'lightbox-orthanc-'));
  const dicomPort = options.dicomPort ?? (await freePort());
  const httpPort = await freePort();
  const config = {
    ...orthancBaseConfig(directory, dicomPort, httpPort),
    DicomModalities: options.modalities,
  };
  const configFile = path.join(directory, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config));
  const child = spawn(ORTHANC_BINARY, [configFile], {
    cwd: directory,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(directory, { recursive: true, force: true, maxRetries: 5 });
  };
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${base}/system`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('Orthanc did not start');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    aeTitle: 'ORTHANC',
    dicomPort,
    url: base,
    async rest<T>(method: string, route: string, body?: unknown): Promise<T> {
      const response = await fetch(`${base}${route}`, {
        method,
        body:
          body === undefined
            ? undefined
            : Buffer.isBuffer(body)
              ? new Uint8Array(body)
              : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`Orthanc ${method} ${route}: ${response.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop,
  };
}
