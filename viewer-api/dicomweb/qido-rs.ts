/**
 * QIDO-RS (PS3.18 §10.6): Search for studies, series and instances, at every level of the resource
 * tree, answered from the index alone (never from object storage) in one SQL statement. Results are
 * DICOM JSON (PS3.18 §F.2) with RetrieveURL; an empty search is 200 with [] (CP-2473).
 */
import type Koa from 'koa';
import type { QidoLevel } from '../../core/archive/qido-attributes.js';
import { withAttributes, type QidoQuery, type QidoResult } from '../../core/archive/qido-query.js';
import type { DicomJson } from '../../core/archive/index-store.js';
import type { AuditRecord } from '../../core/audit/audit-log.js';
import { studyScope } from '../../core/grants/grants.js';
import { channelOf, principalOf } from '../auth.js';
import { negotiateDicomJson } from './accept.js';
import {
  instanceUrl,
  resourceOf,
  searchTarget,
  serviceUrl,
  seriesUrl,
  studyUrl,
  type DicomWebDeps,
} from './context.js';
import { parseQidoParams } from './qido-params.js';

const UID = { study: '0020000D', series: '0020000E', instance: '00080018' } as const;

function uid(match: DicomJson, tag: string): string {
  return String(match[tag]?.Value?.[0] ?? '');
}

/** RetrieveURL (0008,1190) and, for studies and instances, InstanceAvailability (0008,0056). */
function complete(level: QidoLevel, match: DicomJson, base: string): DicomJson {
  const StudyInstanceUID = uid(match, UID.study);
  const SeriesInstanceUID = uid(match, UID.series);
  const SOPInstanceUID = uid(match, UID.instance);
  const url =
    level === 'study'
      ? studyUrl(base, { StudyInstanceUID })
      : level === 'series'
        ? seriesUrl(base, { StudyInstanceUID, SeriesInstanceUID })
        : instanceUrl(base, { StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID });
  const added: DicomJson = { '00081190': { vr: 'UR', Value: [url] } };
  if (level !== 'series') added['00080056'] = { vr: 'CS', Value: ['ONLINE'] };
  return withAttributes(match, added);
}

/** Warning header values (RFC 9111 §5.5 syntax, PS3.18 §8.3.4.1 and §8.3.4.4). */
function warningHeader(warnings: string[]): string {
  return warnings.map((w) => `299 lightbox "${w.replace(/["\\]/g, '')}"`).join(', ');
}

/**
 * One 'query' event per search, naming every study (study level) or series (series and instance
 * levels) it returned, so that a patient sees who found their studies; none named for an empty
 * answer. The matching keys are recorded by name, never their values.
 */
function auditQuery(ctx: Koa.Context, deps: DicomWebDeps, level: QidoLevel, matches: DicomJson[]) {
  const principal = principalOf(ctx);
  if (!principal) return;
  const keys = Object.keys(ctx.query)
    .filter((k) => /^[A-Za-z0-9]{1,64}$/.test(k))
    .slice(0, 20);
  const records: AuditRecord[] = [];
  const seen = new Set<string>();
  for (const match of matches) {
    const StudyInstanceUID = uid(match, UID.study);
    const SeriesInstanceUID = level === 'study' ? '' : uid(match, UID.series);
    if (!StudyInstanceUID || seen.has(`${StudyInstanceUID}/${SeriesInstanceUID}`)) continue;
    seen.add(`${StudyInstanceUID}/${SeriesInstanceUID}`);
    records.push(
      SeriesInstanceUID ? { StudyInstanceUID, SeriesInstanceUID } : { StudyInstanceUID },
    );
  }
  deps.audit.record({
    action: 'query',
    principal,
    via: channelOf(ctx),
    outcome: 'ok',
    ...(records.length > 0 ? { records } : {}),
    detail: { resource: resourceOf(ctx), level, keys, matches: matches.length },
  });
}

export function qidoRs(deps: DicomWebDeps) {
  const searches: Record<QidoLevel, (q: QidoQuery) => Promise<QidoResult>> = {
    study: (q) => deps.index.searchForStudies(q),
    series: (q) => deps.index.searchForSeries(q),
    instance: (q) => deps.index.searchForInstances(q),
  };
  const search =
    (level: QidoLevel): Koa.Middleware =>
    async (ctx) => {
      const mediaType = negotiateDicomJson(ctx.get('Accept') || undefined);
      const target = await searchTarget(ctx, deps);
      const scope = studyScope(principalOf(ctx));
      const { query, warnings } = parseQidoParams(level, ctx.query, target, scope);
      const result = await searches[level](query);
      auditQuery(ctx, deps, level, result.matches);
      if (result.more) warnings.push('There are additional results that can be requested');
      if (warnings.length > 0) ctx.set('Warning', warningHeader(warnings));
      const base = serviceUrl(ctx, deps.config);
      ctx.type = mediaType;
      ctx.body = result.matches.map((match) => complete(level, match, base));
    };
  return {
    /** GET /studies — PS3.18 §10.6.1 (Search for Studies). */
    searchForStudies: search('study'),
    /** GET /series, /studies/{study}/series — Search for Series. */
    searchForSeries: search('series'),
    /** GET /instances, /studies/{study}/instances, …/series/{series}/instances. */
    searchForInstances: search('instance'),
  };
}
