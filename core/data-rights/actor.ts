/**
 * Who exercised a right, as kept in receipts and rows: the principal's kind and opaque id, never a
 * name or other patient data.
 */
import type { Principal } from '../grants/principal.js';

export function actorOf(principal: Principal | { kind: 'operator' }): string {
  switch (principal.kind) {
    case 'patient':
    case 'doctor':
    case 'platform-admin':
    case 'organisation-admin':
      return `${principal.kind}:${principal.accountId}`;
    case 'organisation':
      return `organisation:${principal.organisationId}`;
    case 'share-link':
      return `share-link:${principal.shareLinkId}`;
    default:
      return principal.kind;
  }
}
