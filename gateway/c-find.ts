/**
 * C-FIND SCP (PS3.4 §C.4.1) for the Patient Root and Study Root Query/Retrieve Information Models,
 * answered from the index alone. Reads top to bottom: parse the identifier → search a page of the
 * index (the principal's scope is part of the SQL) → one Pending response per match → next page;
 * a C-CANCEL between two responses ends it with Cancel (0xFE00); any failure → the status from
 * dimse-status.ts.
 */
import type { DicomJson, IndexStore } from '../core/archive/index-store.js';
import type { QidoQuery, QidoResult } from '../core/archive/qido-query.js';
import type { StudyScope } from '../core/grants/grants.js';
import { QueryRetrieveStatus, queryRetrieveFailure } from './dimse-status.js';
import {
  parseFindIdentifier,
  QueryRetrieveLevelTag,
  SpecificCharacterSetTag,
  type ParsedIdentifier,
  type QueryModel,
} from './query-identifier.js';

/** Matches read from the index per statement: memory stays bounded whatever the result size. */
const PAGE = 200;
const RetrieveAETitleTag = '00080054';

export interface FindContext {
  index: IndexStore;
  scope: StudyScope;
  /** Lightbox's AE title, returned as RetrieveAETitle (where to C-MOVE/C-GET from). */
  aeTitle: string;
  cancelled(): boolean;
  /** Sends one C-FIND-RSP; resolves when it is handed to the socket. */
  respond(status: number, identifier?: DicomJson, errorComment?: string): void;
}

export async function cFind(
  ctx: FindContext,
  model: QueryModel,
  identifier: DicomJson,
): Promise<void> {
  try {
    const parsed = parseFindIdentifier(identifier, model);
    const pending = parsed.unsupportedMatching
      ? QueryRetrieveStatus.PendingWithWarning
      : QueryRetrieveStatus.Pending;
    for (let offset = 0; ; offset += PAGE) {
      const page = await search(ctx, parsed, offset);
      for (const match of page.matches) {
        // Lets a C-CANCEL that has arrived be read before the next response.
        await new Promise((resolve) => setImmediate(resolve));
        if (ctx.cancelled()) return ctx.respond(QueryRetrieveStatus.Cancel);
        ctx.respond(pending, responseIdentifier(parsed, match, ctx.aeTitle));
      }
      if (!page.more) break;
    }
    ctx.respond(ctx.cancelled() ? QueryRetrieveStatus.Cancel : QueryRetrieveStatus.Success);
  } catch (error) {
    const failure = queryRetrieveFailure(error);
    ctx.respond(failure.status, undefined, failure.errorComment);
  }
}

function search(ctx: FindContext, parsed: ParsedIdentifier, offset: number): Promise<QidoResult> {
  const common = {
    matches: parsed.matches,
    attributes: parsed.attributes,
    limit: PAGE,
    offset,
    scope: ctx.scope,
  };
  if (!parsed.indexLevel) return ctx.index.searchForPatients(common);
  const query: QidoQuery = {
    ...common,
    level: parsed.indexLevel,
    fuzzymatching: false,
    metadataTags: parsed.metadataTags,
  };
  if (query.level === 'study') return ctx.index.searchForStudies(query);
  if (query.level === 'series') return ctx.index.searchForSeries(query);
  return ctx.index.searchForInstances(query);
}

/**
 * The identifier of one Pending response (PS3.4 §C.4.1.1.3.2): every requested key (its value, or
 * zero length), the level's unique key, SpecificCharacterSet (values are Unicode text: ISO_IR 192),
 * QueryRetrieveLevel and RetrieveAETitle.
 */
export function responseIdentifier(
  parsed: ParsedIdentifier,
  match: DicomJson,
  aeTitle: string,
): DicomJson {
  const out: DicomJson = {
    [SpecificCharacterSetTag]: { vr: 'CS', Value: ['ISO_IR 192'] },
    [QueryRetrieveLevelTag]: { vr: 'CS', Value: [parsed.level] },
    [RetrieveAETitleTag]: { vr: 'AE', Value: [aeTitle] },
  };
  for (const { tag, vr } of parsed.returnKeys) {
    if (out[tag]) continue;
    const value = match[tag];
    out[tag] =
      value && value.Value && value.InlineBinary === undefined
        ? { vr, Value: value.Value }
        : { vr };
  }
  for (const attribute of parsed.attributes)
    out[attribute.tag] ??= match[attribute.tag] ?? { vr: attribute.vr };
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
