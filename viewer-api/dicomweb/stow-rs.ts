/**
 * STOW-RS Store Instances (PS3.18 §10.5): multipart/related; type="application/dicom", each part a
 * Part 10 file, through the one ingest path C-STORE uses (core/ingest/accept-instance.ts, as Medplum
 * does, so neither entry point can drift): spool.open(maxBytes) → the part's bytes streamed in as they
 * arrive → end() → acceptInstance. The file is kept to the bit. The response (PS3.18 §10.5.3, Table
 * 10.5.3-1) lists each instance in ReferencedSOPSequence or FailedSOPSequence with a FailureReason:
 * 200 all stored, 202 some failed, 409 none stored.
 */
import type Koa from 'koa';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DicomJson } from '../../core/archive/index-store.js';
import { Tag } from '../../core/dicom/keywords.js';
import { decodeFileMetaInformation } from '../../core/dicom/part10-meta.js';
import { readPart10Header } from '../../core/dicom/part10-header.js';
import { acceptInstance } from '../../core/ingest/accept-instance.js';
import type { SpoolWriter } from '../../core/spool/spool-writer.js';
import { assertValidUID, trimUID } from '../../core/dicom/uid.js';
import { LightboxError, isLightboxError } from '../../core/errors.js';
import { canStore } from '../../core/grants/grants.js';
import { principalOf } from '../auth.js';
import { parseMediaType } from './accept.js';
import { instanceUrl, serviceUrl, studyUrl, type DicomWebDeps } from './context.js';
import { MultipartParser, boundaryOf, type IncomingPart } from './multipart.js';

const HEAD_BYTES = 64 * 1024;

/** FailureReason (0008,1197) values, PS3.18 Table 10.5.3-1 and PS3.4 Annex B.2.3. */
export const FailureReason = {
  ProcessingFailure: 0x0110,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSOPClass: 0xa900,
  CannotUnderstand: 0xc000,
} as const;

/** THE error → FailureReason map of STOW-RS (the per-instance counterpart of problem.ts). */
export function failureReason(error: unknown): number {
  if (!isLightboxError(error)) return FailureReason.ProcessingFailure;
  switch (error.code) {
    case 'StorageUnavailable':
    case 'PayloadTooLarge':
      return FailureReason.OutOfResources;
    case 'DatasetDoesNotMatchSOPClass':
      return FailureReason.DataSetDoesNotMatchSOPClass;
    case 'InvalidUID':
    case 'InvalidDataset':
    case 'UnsupportedMediaType':
    case 'BadRequest':
      return FailureReason.CannotUnderstand;
    case 'Conflict': // an instance of another study than the URL names (PS3.18 §10.5.1)
    default:
      return FailureReason.ProcessingFailure;
  }
}

interface Outcome {
  SOPClassUID?: string;
  SOPInstanceUID?: string;
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
  failure?: number;
  /** Bytes received for the part (metrics). */
  bytes?: number;
}

/** Stores one part; never throws: a failure becomes the part's outcome. */
async function storePart(
  deps: DicomWebDeps,
  part: IncomingPart,
  StudyInstanceUID: string | undefined,
  organisationId: string | undefined,
): Promise<Outcome> {
  const type = part.headers['content-type'];
  if (type !== undefined && parseMediaType(type).mediaType !== 'application/dicom') {
    part.body.resume(); // drained and dropped: only Part 10 instances are stored
    return { failure: FailureReason.CannotUnderstand };
  }
  const reception = deps.spool.open(deps.config.maxInstanceBytes);
  const head: Buffer[] = []; // the file's first bytes, to name a refused instance in the response
  try {
    await receive(part.body, reception, head);
    if (StudyInstanceUID !== undefined) {
      // The URL names a study (PS3.18 §10.5.1): an instance of another study is refused, before
      // acceptInstance commits it. The header is parsed from the bytes kept in memory.
      await reception.finished();
      if (!reception.error) {
        const header = await readPart10Header(reception.tmpPath, {
          head: { bytes: reception.head, size: reception.bytesReceived },
        });
        const study = header.dataset[Tag.StudyInstanceUID]?.Value?.[0];
        if (typeof study !== 'string' || trimUID(study) !== StudyInstanceUID) {
          throw new LightboxError('Conflict', 'the instance belongs to another study than the URL');
        }
      }
    }
    const accepted = await acceptInstance(
      reception,
      { callingAETitle: '', organisationId },
      deps.queue,
    );
    return {
      SOPClassUID: accepted.job.SOPClassUID,
      SOPInstanceUID: accepted.job.SOPInstanceUID,
      StudyInstanceUID: accepted.StudyInstanceUID,
      SeriesInstanceUID: accepted.SeriesInstanceUID,
      bytes: reception.bytesReceived,
    };
  } catch (error) {
    await reception.abort();
    part.body.resume();
    if (
      !isLightboxError(error) ||
      error.code === 'StorageUnavailable' ||
      error.code === 'Internal'
    ) {
      deps.log.warn({ err: error }, 'STOW-RS instance not stored');
    }
    return {
      ...uidsOf(Buffer.concat(head)),
      failure: failureReason(error),
      bytes: reception.bytesReceived,
    };
  }
}

/**
 * Streams a part into its reception with backpressure. The reception is always ended and finished
 * before a failure is rethrown (then aborted by the caller), so that no byte is still on its way to
 * the file when the caller removes it.
 */
async function receive(body: Readable, reception: SpoolWriter, head: Buffer[]): Promise<void> {
  let failure: unknown;
  let headLength = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (headLength < HEAD_BYTES) {
        head.push(chunk.subarray(0, HEAD_BYTES - headLength));
        headLength += head[head.length - 1].length;
      }
      if (!reception.write(chunk)) await once(reception, 'drain');
    }
  } catch (error) {
    failure = error;
  }
  reception.end();
  await reception.finished();
  if (failure !== undefined) throw failure;
}

/** SOP Class and Instance UID of a refused file, from its meta group when it has a readable one. */
function uidsOf(head: Buffer): Outcome {
  try {
    const { meta } = decodeFileMetaInformation(head);
    return {
      SOPClassUID: meta.MediaStorageSOPClassUID,
      SOPInstanceUID: meta.MediaStorageSOPInstanceUID,
    };
  } catch {
    return {};
  }
}

function ui(value: string | undefined) {
  return value ? { vr: 'UI', Value: [value] } : { vr: 'UI' };
}

/** The Store Instances Response Module (PS3.18 §10.5.3, Table 10.5.3-1). */
function response(outcomes: Outcome[], base: string, StudyInstanceUID?: string): DicomJson {
  const referenced: DicomJson[] = [];
  const failed: DicomJson[] = [];
  for (const o of outcomes) {
    const item: DicomJson = { '00081150': ui(o.SOPClassUID), '00081155': ui(o.SOPInstanceUID) };
    if (o.failure !== undefined) {
      failed.push({ ...item, '00081197': { vr: 'US', Value: [o.failure] } });
    } else {
      const url = instanceUrl(base, o as Required<Outcome>);
      referenced.push({ ...item, '00081190': { vr: 'UR', Value: [url] } });
    }
  }
  const studies = new Set(outcomes.filter((o) => !o.failure).map((o) => o.StudyInstanceUID));
  const study = StudyInstanceUID ?? (studies.size === 1 ? [...studies][0] : undefined);
  const body: DicomJson = {};
  if (study) body['00081190'] = { vr: 'UR', Value: [studyUrl(base, { StudyInstanceUID: study })] };
  if (failed.length > 0) body['00081198'] = { vr: 'SQ', Value: failed };
  if (referenced.length > 0) body['00081199'] = { vr: 'SQ', Value: referenced };
  return body;
}

export function stowRs(deps: DicomWebDeps) {
  const storeInstances: Koa.Middleware = async (ctx) => {
    const principal = principalOf(ctx);
    if (!canStore(principal)) throw new LightboxError('NotFound', 'not found');
    // An organisation's STOW-RS makes the studies its own (the C-STORE path maps the Calling AE).
    const organisationId =
      principal?.kind === 'organisation' ? principal.organisationId : undefined;
    const study = ctx.params.study;
    const StudyInstanceUID =
      study === undefined ? undefined : assertValidUID(study, 'StudyInstanceUID');
    const { mediaType, params } = parseMediaType(ctx.get('Content-Type'));
    if (mediaType !== 'multipart/related') {
      throw new LightboxError('UnsupportedMediaType', 'STOW-RS takes multipart/related');
    }
    if (params.type !== undefined && params.type !== 'application/dicom') {
      throw new LightboxError('UnsupportedMediaType', 'only application/dicom parts are supported');
    }
    const stored: Array<Promise<Outcome>> = [];
    const parser = new MultipartParser(boundaryOf(params), (part) =>
      stored.push(storePart(deps, part, StudyInstanceUID, organisationId)),
    );
    const parsed = await pipeline(ctx.req, parser).then(
      () => undefined,
      (error: unknown) => error,
    );
    const outcomes = await Promise.all(stored);
    for (const o of outcomes) {
      deps.metrics?.instanceReceived('stow-rs', o.failure === undefined, o.bytes ?? 0);
    }
    if (outcomes.length === 0)
      throw parsed ?? new LightboxError('BadRequest', 'no instance in the request');
    ctx.status = outcomes.every((o) => o.failure === undefined)
      ? 200
      : outcomes.some((o) => o.failure === undefined)
        ? 202
        : 409;
    ctx.set('Content-Type', 'application/dicom+json');
    ctx.body = JSON.stringify(response(outcomes, serviceUrl(ctx, deps.config), StudyInstanceUID));
  };
  return {
    /** POST /studies and /studies/{study} */
    storeInstances,
  };
}
