/**
 * A C-FIND identifier (PS3.4 §C.4.1.1.3), as DICOM JSON, → what the index answers: the level, the
 * match keys (with QIDO-RS's own matcher, core/archive/qido-matcher.ts, so that both searches match
 * alike), and the return keys. Every key of the identifier is returned, with a value when Lightbox
 * has one and zero-length otherwise (PS3.4 §C.2.2.1.2).
 */
import { PATIENT_ATTRIBUTES } from '../core/archive/patient-query.js';
import {
  indexedAttribute,
  isAtOrAbove,
  type QidoAttribute,
  type QidoLevel,
} from '../core/archive/qido-attributes.js';
import { parseMatcher } from '../core/archive/qido-matcher.js';
import type { QidoMatch } from '../core/archive/qido-query.js';
import type { DicomJson } from '../core/archive/index-store.js';
import { LightboxError } from '../core/errors.js';

export type QueryRetrieveLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export type QueryModel = 'patient' | 'study';

export const QueryRetrieveLevelTag = '00080052';
export const SpecificCharacterSetTag = '00080005';

const INDEX_LEVEL: Record<Exclude<QueryRetrieveLevel, 'PATIENT'>, QidoLevel> = {
  STUDY: 'study',
  SERIES: 'series',
  IMAGE: 'instance',
};

/** The unique key of each level (PS3.4 §C.6.1.1 and §C.6.2.1), always returned. */
const UNIQUE_KEY: Record<QueryRetrieveLevel, string> = {
  PATIENT: '00100020',
  STUDY: '0020000D',
  SERIES: '0020000E',
  IMAGE: '00080018',
};

export interface ReturnKey {
  tag: string;
  vr: string;
}

export interface ParsedIdentifier {
  level: QueryRetrieveLevel;
  /** undefined for the PATIENT level (answered by searchForPatients). */
  indexLevel?: QidoLevel;
  matches: QidoMatch[];
  /** Indexed attributes to read (match keys, return keys, the level's unique key). */
  attributes: QidoAttribute[];
  /** Keys only the stored header has, read from a sample instance's metadata. */
  metadataTags: string[];
  /** Every key the requester listed, in its order, as the response must carry them. */
  returnKeys: ReturnKey[];
  /** Some key had a value Lightbox cannot match on (status 0xFF01 instead of 0xFF00). */
  unsupportedMatching: boolean;
}

/** Reads the level: a missing or foreign level is an identifier that does not match the model. */
export function queryRetrieveLevel(identifier: DicomJson, model: QueryModel): QueryRetrieveLevel {
  const raw = String(identifier[QueryRetrieveLevelTag]?.Value?.[0] ?? '').trim();
  const allowed: QueryRetrieveLevel[] =
    model === 'patient' ? ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'] : ['STUDY', 'SERIES', 'IMAGE'];
  if (!allowed.includes(raw as QueryRetrieveLevel)) {
    throw new LightboxError(
      'BadRequest',
      `QueryRetrieveLevel ${raw || '(none)'} not in this model`,
    );
  }
  return raw as QueryRetrieveLevel;
}

/** The values of an attribute as text (PN: the alphabetic group). */
export function textValues(attribute: DicomJson[string] | undefined): string[] {
  return (attribute?.Value ?? []).map((value) => {
    if (value && typeof value === 'object')
      return String((value as { Alphabetic?: string }).Alphabetic ?? '');
    return String(value ?? '').trim();
  });
}

function attributeFor(tag: string, level: QueryRetrieveLevel): QidoAttribute | undefined {
  if (level === 'PATIENT') return PATIENT_ATTRIBUTES.find((a) => a.tag === tag);
  const indexed = indexedAttribute(tag);
  return indexed && isAtOrAbove(indexed.level, INDEX_LEVEL[level]) ? indexed : undefined;
}

/** Computed attributes are returned, not matched; ModalitiesInStudy matches (PS3.4 §C.6.1.1.4). */
function matchable(attribute: QidoAttribute): boolean {
  return !attribute.computed || attribute.keyword === 'ModalitiesInStudy';
}

export function parseFindIdentifier(identifier: DicomJson, model: QueryModel): ParsedIdentifier {
  const level = queryRetrieveLevel(identifier, model);
  const attributes = new Map<string, QidoAttribute>();
  const matches: QidoMatch[] = [];
  const metadataTags: string[] = [];
  const returnKeys: ReturnKey[] = [];
  let unsupportedMatching = false;
  const unique = attributeFor(UNIQUE_KEY[level], level)!;
  attributes.set(unique.tag, unique);
  for (const [tag, element] of Object.entries(identifier)) {
    const group = tag.slice(0, 4);
    if (group === '0000' || group === '0002' || tag === QueryRetrieveLevelTag) continue;
    if (tag === SpecificCharacterSetTag || tag.endsWith('0000')) continue;
    if (Number.parseInt(group, 16) % 2 === 1) continue; // private: not returned
    returnKeys.push({ tag, vr: element.vr });
    const values = element.vr === 'SQ' ? [] : textValues(element);
    const attribute = attributeFor(tag, level);
    const hasValue = values.some((v) => v !== '' && !/^\*+$/.test(v));
    if (!attribute) {
      if (level !== 'PATIENT' && element.vr !== 'SQ') metadataTags.push(tag);
      if (hasValue) unsupportedMatching = true;
      continue;
    }
    attributes.set(attribute.tag, attribute);
    if (!hasValue) continue;
    if (!matchable(attribute)) {
      unsupportedMatching = true;
      continue;
    }
    const matcher = parseMatcher(attribute, values);
    if (matcher) matches.push({ attribute, matcher });
  }
  return {
    level,
    indexLevel: level === 'PATIENT' ? undefined : INDEX_LEVEL[level],
    matches,
    attributes: [...attributes.values()],
    metadataTags,
    returnKeys,
    unsupportedMatching,
  };
}
