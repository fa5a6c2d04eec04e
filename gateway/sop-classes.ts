/**
 * Which abstract syntaxes the gateway accepts (PS3.4 Annex B, Storage Service Class). "Every storage SOP
 * class" cannot be a fixed list (new ones appear in every edition of PS3.6), so the rule is by UID
 * structure: the Storage SOP Classes live under 1.2.840.10008.5.1.4.1.1, a few newer ones elsewhere
 * (listed), and private SOP classes (roots other than 1.2.840.10008) are vendors' storage objects.
 */
import dimse from 'dcmjs-dimse';

export const VerificationSOPClassUID = '1.2.840.10008.1.1';

const STANDARD_ROOT = '1.2.840.10008.';
const STORAGE_ROOT = '1.2.840.10008.5.1.4.1.1.';

/** Storage SOP Classes outside 1.2.840.10008.5.1.4.1.1 (PS3.4 Table B.5-1). */
const OTHER_STORAGE = new Set<string>([
  '1.2.840.10008.5.1.4.34.7', // RT Beams Delivery Instruction Storage
  '1.2.840.10008.5.1.4.34.10', // RT Brachy Application Setup Delivery Instruction Storage
  '1.2.840.10008.5.1.4.38.1', // Hanging Protocol Storage
  '1.2.840.10008.5.1.4.39.1', // Color Palette Storage
  '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
  '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
  '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
  ...Object.values(dimse.constants.StorageClass as Record<string, string>),
]);

export function isStorageSOPClass(uid: string, acceptPrivate = true): boolean {
  if (uid.startsWith(STORAGE_ROOT) || OTHER_STORAGE.has(uid)) return true;
  return acceptPrivate && !uid.startsWith(STANDARD_ROOT);
}
