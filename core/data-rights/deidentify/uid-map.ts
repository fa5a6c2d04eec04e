/**
 * U (PS3.15 §E.3.1): "replace with a non-zero length UID that is internally consistent within a set
 * of Instances". Within one de-identified share the same UID always maps to the same new one, so that
 * references between instances (series, study, referenced SOP instances) still hold; across shares
 * the mappings are unrelated. The new UID is 2.25.<128 bits of HMAC-SHA-256(share secret, UID)>
 * (PS3.5 §B.2), so no table needs to be kept.
 */
import { createHmac } from 'node:crypto';

export type UIDMap = (uid: string) => string;

export function uidMap(shareSecret: string): UIDMap {
  return (uid) => {
    const digest = createHmac('sha256', shareSecret)
      .update(uid.replace(/[\0 ]+$/, ''))
      .digest('hex');
    return `2.25.${BigInt(`0x${digest.slice(0, 32)}`).toString()}`;
  };
}
