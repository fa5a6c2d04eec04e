/**
 * WADO-RS Retrieve Study / Series / Instance (PS3.18 §10.4.1.1): multipart/related; type=
 * "application/dicom", one part per instance, each the stored Part 10 file byte for byte, streamed
 * from the object store as fast as the client reads (one object open at a time). No transcoding: an
 * Accept naming a transfer syntax other than the one the instances are stored in is 406, and "*" or
 * no transfer-syntax returns the stored bytes, the part's Content-Type naming their syntax.
 */
import type Koa from 'koa';
import type { Readable } from 'node:stream';
import type { StoredInstance } from '../../core/archive/index-store.js';
import { LightboxError } from '../../core/errors.js';
import { negotiate } from './accept.js';
import { instanceUrl, readTarget, serviceUrl, type DicomWebDeps } from './context.js';
import {
  multipartBody,
  multipartContentType,
  multipartLength,
  newBoundary,
  type OutgoingPart,
} from './multipart.js';

function partHeaders(instance: StoredInstance, base: string): Record<string, string> {
  return {
    'Content-Type': `application/dicom; transfer-syntax=${instance.TransferSyntaxUID}`,
    'Content-Length': String(instance.size),
    'Content-Location': instanceUrl(base, instance),
  };
}

async function* instanceParts(
  deps: DicomWebDeps,
  instances: StoredInstance[],
  headers: Record<string, string>[],
  first: Readable,
): AsyncGenerator<OutgoingPart> {
  for (const [i, instance] of instances.entries()) {
    yield {
      headers: headers[i]!,
      body: async () => (i === 0 ? first : deps.objects.getObject(instance.objectKey)),
    };
  }
}

export function wadoRs(deps: DicomWebDeps) {
  const retrieve: Koa.Middleware = async (ctx) => {
    const target = await readTarget(ctx, deps, 'download');
    const instances = await deps.index.findStoredInstances(target);
    if (instances.length === 0) throw new LightboxError('NotFound', 'not found');
    negotiate(ctx.get('Accept') || undefined, [
      {
        mediaType: 'multipart/related',
        partType: 'application/dicom',
        transferSyntaxes: [...new Set(instances.map((i) => i.TransferSyntaxUID))],
      },
    ]);
    // Opened before the status is sent, so that a missing first object is still a problem document.
    const first = await deps.objects.getObject(instances[0].objectKey);
    ctx.res.once('close', () => first.destroy());
    const boundary = newBoundary();
    const base = serviceUrl(ctx, deps.config);
    const headers = instances.map((instance) => partHeaders(instance, base));
    ctx.status = 200;
    ctx.set('Content-Type', multipartContentType('application/dicom', boundary));
    ctx.body = multipartBody(instanceParts(deps, instances, headers, first), boundary);
    // Every part's size is in the index: the length is known, so no chunked transfer coding, and a
    // client can tell a complete response from one cut short by a missing object.
    ctx.length = multipartLength(
      instances.map((instance, i) => ({ headers: headers[i]!, size: instance.size })),
      boundary,
    );
  };
  return {
    /** GET /studies/{study} */
    retrieveStudy: retrieve,
    /** GET /studies/{study}/series/{series} */
    retrieveSeries: retrieve,
    /** GET /studies/{study}/series/{series}/instances/{instance} */
    retrieveInstance: retrieve,
  };
}
