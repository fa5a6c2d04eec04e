/**
 * Organisations by AE title (config `organisations[].aeTitles`): the DIMSE edge's principal, and the
 * organisation a study received over C-STORE belongs to. An AE title listed under no organisation
 * belongs to none (and its studies to no organisation).
 */
import type { OrganisationConfig } from '../../config/schema.js';
import type { Principal } from './principal.js';

/** The id of the organisation that lists this Calling AE Title, if any (AE titles are trimmed). */
export function organisationOfCallingAETitle(
  organisations: readonly OrganisationConfig[],
  callingAETitle: string,
): string | undefined {
  const ae = callingAETitle.trim();
  if (ae === '') return undefined;
  return organisations.find((o) => o.aeTitles.includes(ae))?.id;
}

/** The principal of an association: its Calling AE Title's organisation, or none. */
export function principalOfCallingAETitle(
  organisations: readonly OrganisationConfig[],
  callingAETitle: string,
): Principal | undefined {
  const organisationId = organisationOfCallingAETitle(organisations, callingAETitle);
  return organisationId ? { kind: 'organisation', organisationId } : undefined;
}
