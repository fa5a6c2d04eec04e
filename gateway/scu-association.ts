/**
 * An association Lightbox opens to a configured peer (PS3.8 §7.1): for the C-STORE sub-operations
 * of a C-MOVE, and for a Storage Commitment N-EVENT-REPORT whose requester has gone. Connects,
 * negotiates the given presentation contexts, and hands back the DimseConnection; release() ends
 * it with A-RELEASE (or, failing that, closes the socket).
 */
import net from 'node:net';
import dimse from 'dcmjs-dimse';
import type { DimsePeerConfig } from '../config/schema.js';
import { LightboxError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DimseConnection } from './dimse-connection.js';

const { Association } = dimse.association;

export interface ProposedPresentationContext {
  abstractSyntaxUID: string;
  transferSyntaxUIDs: string[];
  /** SCP/SCU Role Selection: propose that Lightbox, the requester, acts as SCP (N-EVENT-REPORT). */
  requesterIsSCP?: boolean;
}

export interface ScuOptions {
  callingAETitle: string;
  maxPduLength: number;
  connectTimeoutMs: number;
  log: Logger;
}

export interface ScuAssociation {
  connection: DimseConnection;
  release(): Promise<void>;
}

/** PS3.8 §9.3.2.2: at most 128 presentation contexts (odd IDs 1–255). */
export const MAX_PRESENTATION_CONTEXTS = 128;

export async function openAssociation(
  peer: DimsePeerConfig,
  contexts: readonly ProposedPresentationContext[],
  options: ScuOptions,
): Promise<ScuAssociation> {
  const socket = net.connect({ host: peer.host, port: peer.port });
  socket.setNoDelay(true);
  const connection = new DimseConnection(
    socket,
    {
      maxPduLength: options.maxPduLength,
      associationTimeoutMs: options.connectTimeoutMs,
      pduTimeoutMs: 5 * 60_000,
    },
    options.log,
  );
  const association = new Association(options.callingAETitle, peer.aeTitle);
  association.setMaxPduLength(options.maxPduLength);
  association.setNegotiateAsyncOps(false);
  for (const proposed of contexts.slice(0, MAX_PRESENTATION_CONTEXTS)) {
    const id = association.addPresentationContext(proposed.abstractSyntaxUID);
    for (const ts of proposed.transferSyntaxUIDs)
      association.addTransferSyntaxToPresentationContext(id, ts);
    if (proposed.requesterIsSCP) {
      association.getPresentationContext(id).setUserRole(false);
      association.getPresentationContext(id).setProviderRole(true);
    }
  }
  try {
    await negotiate(connection, socket, association, options.connectTimeoutMs);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  connection.peerMaxPduLength = connection.negotiated!.getMaxPduLength();
  return { connection, release: () => release(connection, socket) };
}

function negotiate(
  connection: DimseConnection,
  socket: net.Socket,
  association: InstanceType<typeof Association>,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new LightboxError('StorageUnavailable', `association to peer failed: ${why}`));
    };
    const timer = setTimeout(() => fail('timeout'), timeoutMs);
    socket.once('connect', () => connection.sendAssociationRequest(association));
    socket.once('error', (error) => fail(error.message));
    socket.once('close', () => fail('closed'));
    connection.once('associationRejected', () => fail('rejected'));
    connection.once('associationAccepted', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function release(connection: DimseConnection, socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    connection.once('associationReleaseResponse', () => socket.end());
    connection.sendAssociationReleaseRequest();
  });
}
