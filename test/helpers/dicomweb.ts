/**
 * DICOMweb from the client side, as a viewer would use it: dicomweb-client (the library OHIF uses),
 * in Node through the xhr2 XMLHttpRequest polyfill, with the archive's bearer token.
 */
import { createRequire } from 'node:module';
import dicomweb from 'dicomweb-client';

const require = createRequire(import.meta.url);
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= require('xhr2');

/** A token for tests: configured through startTestLightbox({ viewerApi: { apiToken } }). */
export const TEST_API_TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvwxyz';

type Json = Record<
  string,
  { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }
>;
type Query = { queryParams?: Record<string, string | number | boolean> };
type Study = { studyInstanceUID: string };
type Series = Study & { seriesInstanceUID: string };
type Instance = Series & { sopInstanceUID: string };
type MediaTypes = { mediaTypes?: Array<{ mediaType: string; transferSyntaxUID?: string }> };
/** A frame or bulk value as dicomweb-client returns it: bytes with the part's headers. */
export type Part = ArrayBuffer & { contentType?: string; transferSyntaxUID?: string };

/**
 * The dicomweb-client calls the tests use, typed as the library documents them (its generated .d.ts
 * marks every option as required).
 */
export interface DICOMwebClient {
  searchForStudies(options?: Query): Promise<Json[]>;
  searchForSeries(options?: Query & Partial<Study>): Promise<Json[]>;
  searchForInstances(options?: Query & Partial<Series>): Promise<Json[]>;
  retrieveStudyMetadata(options: Study): Promise<Json[]>;
  retrieveSeriesMetadata(options: Series): Promise<Json[]>;
  retrieveInstanceMetadata(options: Instance): Promise<Json[]>;
  retrieveStudy(options: Study & MediaTypes): Promise<Part[]>;
  retrieveSeries(options: Series & MediaTypes): Promise<Part[]>;
  retrieveInstance(options: Instance & MediaTypes): Promise<Part>;
  retrieveInstanceFrames(
    options: Instance & MediaTypes & { frameNumbers: number[] },
  ): Promise<Part[]>;
  retrieveBulkData(
    options: { BulkDataURI: string; byteRange?: number[] } & MediaTypes,
  ): Promise<Part[]>;
  storeInstances(options: { datasets: ArrayBuffer[]; studyInstanceUID?: string }): Promise<unknown>;
}

/** A client for `<viewerApiUrl>/dicom-web`, quiet (no console noise on expected 4xx). */
export function dicomwebClient(viewerApiUrl: string, token = TEST_API_TOKEN): DICOMwebClient {
  return new dicomweb.api.DICOMwebClient({
    url: `${viewerApiUrl}/dicom-web`,
    headers: { Authorization: `Bearer ${token}` },
    verbose: false,
    singlepart: false,
  }) as unknown as DICOMwebClient;
}

/** fetch with the test token (for what dicomweb-client does not expose: headers, status codes). */
export function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${TEST_API_TOKEN}`);
  return fetch(url, { ...init, headers });
}

/** The status of a failed dicomweb-client call (it rejects with { status }). */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

/** A Buffer's bytes as an ArrayBuffer of their own (what dicomweb-client sends). */
export function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/** ArrayBuffer → Buffer without a copy. */
export function buffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/**
 * Splits a multipart/related body (RFC 2046) into its parts' headers and bytes: an independent
 * reading of what the server wrote, for tests that check part headers.
 */
export function splitMultipart(
  body: Buffer,
  contentType: string,
): Array<{ headers: Record<string, string>; body: Buffer }> {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const lineEnd = body.indexOf('\r\n', at);
    if (body.subarray(at + delimiter.length, at + delimiter.length + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', lineEnd);
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(lineEnd + 2, headerEnd)
      .toString('latin1')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    parts.push({ headers, body: body.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}
