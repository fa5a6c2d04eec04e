/**
 * DICOM JSON (PS3.18 §F.2) as WADO-RS metadata serves it: the header stored at ingest, with each
 * bulk value's empty BulkDataURI filled in with an absolute URI (PS3.18 §F.2.6) and the pixel data
 * (which the header reader stops before) added as a BulkDataURI. A header without bulk values is
 * passed through as the text the index returned, without a parse.
 */
import type { DicomJson, DicomJsonAttribute } from '../archive/index-store.js';

/**
 * The bulk data path of a value: its tag at the top level, "GGGGEEEE.<item>.GGGGEEEE" inside
 * sequences (item indexes from 0). core/archive/instance-layout.ts finds values by the same path.
 */
export function fillBulkDataURIs(dataset: DicomJson, bulkDataBase: string, prefix = ''): void {
  for (const [tag, attribute] of Object.entries(dataset)) {
    if (attribute.BulkDataURI === '') attribute.BulkDataURI = `${bulkDataBase}/${prefix}${tag}`;
    if (attribute.vr === 'SQ') {
      (attribute.Value as DicomJson[] | undefined)?.forEach((item, i) =>
        fillBulkDataURIs(item, bulkDataBase, `${prefix}${tag}.${i}.`),
      );
    }
  }
}

/**
 * One instance's metadata as JSON text. `metadata` is the stored header (jsonb text: keys in
 * ascending order, none past the pixel data); `pixelData`, when given, is appended as 7FE00010.
 */
export function instanceMetadataJson(
  metadata: string,
  bulkDataBase: string,
  pixelData?: DicomJsonAttribute,
): string {
  let text = metadata;
  if (text.includes('"BulkDataURI"')) {
    const dataset = JSON.parse(text) as DicomJson;
    fillBulkDataURIs(dataset, bulkDataBase);
    text = JSON.stringify(dataset);
  }
  if (!pixelData) return text;
  const body = text.trimEnd().slice(0, -1).trimEnd(); // without the closing brace
  const separator = body.endsWith('{') ? '' : ', ';
  return `${body}${separator}"7FE00010": ${JSON.stringify(pixelData)}}`;
}
