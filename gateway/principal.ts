/**
 * The DIMSE edge's half of access control: an association's Calling AE Title → the Principal that
 * core/grants judges. The operator's own PACS (a dimse.peers entry with access 'archive') reads as
 * the archive reader; an AE title of a configured organisation is that organisation; anything else
 * is nobody and sees nothing (the association policy still decides who may connect at all).
 */
import type { DimsePeerConfig, OrganisationConfig } from '../config/schema.js';
import { principalOfCallingAETitle } from '../core/grants/organisations.js';
import type { Principal } from '../core/grants/principal.js';

export interface AccessConfig {
  peers: readonly DimsePeerConfig[];
  organisations: readonly OrganisationConfig[];
}

export function principalForCallingAETitle(
  config: AccessConfig,
  callingAETitle: string,
): Principal | undefined {
  const peer = config.peers.find((p) => p.aeTitle === callingAETitle);
  if (peer?.access === 'archive') return { kind: 'archive-reader' };
  return principalOfCallingAETitle(config.organisations, callingAETitle);
}

/**
 * Where a C-MOVE may send: a configured peer; an organisation may send only to its own AEs, so that
 * a query right never becomes a way to push its studies into someone else's PACS.
 */
export function moveDestination(
  config: AccessConfig,
  principal: Principal | undefined,
  MoveDestination: string,
): DimsePeerConfig | undefined {
  const peer = config.peers.find((p) => p.aeTitle === MoveDestination);
  if (!peer || !principal) return undefined;
  if (principal.kind === 'archive-reader') return peer;
  if (principal.kind !== 'organisation') return undefined;
  const own = config.organisations.find((o) => o.id === principal.organisationId);
  return own?.aeTitles.includes(peer.aeTitle) ? peer : undefined;
}
