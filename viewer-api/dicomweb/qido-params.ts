/**
 * QIDO-RS query parameters (PS3.18 §8.3.4) → a typed QidoQuery for core/archive/qido-query.ts:
 * {attributeID}={value} match keys (keyword or tag), includefield (list or "all"), fuzzymatching,
 * limit and offset. Malformed values are 400; keys Lightbox cannot match on are ignored with a
 * Warning (PS3.18 §8.3.4.1), and still returned when the instance metadata has them.
 */
import {
  DEFAULT_ATTRIBUTES,
  DEFAULT_METADATA_TAGS,
  QIDO_ATTRIBUTES,
  attributesByKeyword,
  indexedAttribute,
  isAtOrAbove,
  type QidoAttribute,
  type QidoLevel,
} from '../../core/archive/qido-attributes.js';
import { parseMatcher } from '../../core/archive/qido-matcher.js';
import type { QidoMatch, QidoQuery } from '../../core/archive/qido-query.js';
import { lookUpAttribute } from '../../core/dicom/dictionary.js';
import { LightboxError } from '../../core/errors.js';
import type { StudyScope } from '../../core/grants/grants.js';

/** Matches per response at most; more → a Warning and the rest by offset (PS3.18 §8.3.4.4). */
export const QIDO_MAX_RESULTS = 2000;

const RESERVED = new Set(['limit', 'offset', 'fuzzymatching', 'includefield']);

/** The UIDs each level identifies its results by (always returned: RetrieveURL is built from them). */
const IDENTIFYING: Record<QidoLevel, string[]> = {
  study: ['StudyInstanceUID'],
  series: ['StudyInstanceUID', 'SeriesInstanceUID'],
  instance: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID'],
};

export interface ParsedQido {
  query: QidoQuery;
  /** Warning texts (PS3.18 §8.3.4.1: unsupported or ignored parameters). */
  warnings: string[];
}

type Params = Record<string, string | string[] | undefined>;

export function parseQidoParams(
  level: QidoLevel,
  params: Params,
  target: { StudyInstanceUID?: string; SeriesInstanceUID?: string },
  scope: StudyScope,
): ParsedQido {
  const warnings: string[] = [];
  const attributes = new Map<string, QidoAttribute>();
  const add = (list: QidoAttribute[]) => list.forEach((a) => attributes.set(a.tag, a));
  add(attributesByKeyword([...IDENTIFYING[level], ...DEFAULT_ATTRIBUTES[level]]));
  // Searches across studies (or series) return the parent levels' attributes too (PS3.18 §10.6.3.3).
  if (level !== 'study' && !target.StudyInstanceUID)
    add(attributesByKeyword(DEFAULT_ATTRIBUTES.study));
  if (level === 'instance' && !target.SeriesInstanceUID) {
    add(attributesByKeyword(DEFAULT_ATTRIBUTES.series));
  }
  const metadataTags = new Set(DEFAULT_METADATA_TAGS[level]);
  const matches: QidoMatch[] = [];
  let includeAll = false;
  for (const [key, raw] of Object.entries(params)) {
    if (raw === undefined || RESERVED.has(key)) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    const attribute = key.includes('.') ? undefined : lookUpAttribute(key);
    const indexed = attribute && indexedAttribute(attribute.tag);
    if (!attribute) {
      warnings.push(`The query parameter ${key} is not supported and was ignored`);
    } else if (!indexed || !isAtOrAbove(indexed.level, level) || !matchable(indexed, level)) {
      warnings.push(`The attribute ${key} is not supported for matching and was ignored`);
      if (!indexed) metadataTags.add(attribute.tag);
    } else {
      attributes.set(indexed.tag, indexed);
      const matcher = parseMatcher(indexed, values);
      if (matcher) matches.push({ attribute: indexed, matcher });
    }
  }
  for (const field of list(params.includefield)) {
    if (field === 'all') {
      includeAll = true;
      add(QIDO_ATTRIBUTES.filter((a) => isAtOrAbove(a.level, level)));
      continue;
    }
    const attribute = lookUpAttribute(field);
    const indexed = attribute && indexedAttribute(attribute.tag);
    if (indexed && isAtOrAbove(indexed.level, level)) attributes.set(indexed.tag, indexed);
    else if (indexed)
      continue; // a lower level's attribute (Modality of a study): not defined here
    else if (attribute) metadataTags.add(attribute.tag);
    else warnings.push(`The includefield ${field} is not a known attribute and was ignored`);
  }
  return {
    query: {
      level,
      ...target,
      matches,
      fuzzymatching: parseBoolean(params.fuzzymatching),
      attributes: [...attributes.values()],
      metadataTags: includeAll && level === 'instance' ? 'all' : [...metadataTags],
      limit: Math.min(parseCount(params.limit, 'limit') || QIDO_MAX_RESULTS, QIDO_MAX_RESULTS),
      offset: parseCount(params.offset, 'offset') ?? 0,
      scope,
    },
    warnings,
  };
}

/** Computed attributes are returned, not matched; ModalitiesInStudy is the exception (study level). */
function matchable(attribute: QidoAttribute, level: QidoLevel): boolean {
  if (attribute.keyword === 'ModalitiesInStudy') return level === 'study';
  return !attribute.computed;
}

function list(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function parseBoolean(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new LightboxError('BadRequest', 'fuzzymatching must be true or false');
}

function parseCount(value: string | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    throw new LightboxError('BadRequest', `${name} must be a non-negative integer`);
  }
  return Number(value);
}
