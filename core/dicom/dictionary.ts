/**
 * The PS3.6 data dictionary by keyword, for the attributes that requests name (QIDO-RS match keys and
 * includefield, PS3.18 §8.3.4): keyword or "GGGGEEEE" → tag and VR. The dictionary is the one that
 * ships with dcmjs (as for implicit VR reading), loaded on first use.
 */
import { createRequire } from 'node:module';

interface DictionaryEntry {
  tag: string; // "(GGGG,EEEE)"
  vr?: string;
  name: string;
}

interface Dcmjs {
  data: { DicomMetaDictionary: { nameMap: Record<string, DictionaryEntry | undefined> } };
}

export interface DictionaryAttribute {
  /** "GGGGEEEE", the DICOM JSON key (PS3.18 §F.2.1.1). */
  tag: string;
  /** The DICOM keyword, or undefined for a tag the dictionary does not know (private, retired). */
  keyword?: string;
  vr?: string;
}

let byKeyword: Map<string, DictionaryAttribute> | undefined;
let byTag: Map<string, DictionaryAttribute> | undefined;

function load(): void {
  const nameMap = (createRequire(import.meta.url)('dcmjs') as Dcmjs).data.DicomMetaDictionary
    .nameMap;
  byKeyword = new Map();
  byTag = new Map();
  for (const [keyword, entry] of Object.entries(nameMap)) {
    const match = entry && /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag);
    if (!match) continue; // range tags such as (60xx,3000)
    const attribute = { tag: (match[1] + match[2]).toUpperCase(), keyword, vr: entry!.vr };
    byKeyword.set(keyword, attribute);
    byTag.set(attribute.tag, attribute);
  }
}

/**
 * Resolves a DICOM keyword ("PatientName") or tag ("00100010", any case) to its attribute; undefined
 * when it is neither a known keyword nor a well-formed tag.
 */
export function lookUpAttribute(keywordOrTag: string): DictionaryAttribute | undefined {
  if (!byKeyword) load();
  if (/^[0-9A-Fa-f]{8}$/.test(keywordOrTag)) {
    const tag = keywordOrTag.toUpperCase();
    return byTag!.get(tag) ?? { tag };
  }
  return byKeyword!.get(keywordOrTag);
}
