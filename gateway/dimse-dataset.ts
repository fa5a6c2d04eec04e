/**
 * Small data sets that the library decodes and encodes for us (C-FIND/C-MOVE/C-GET identifiers,
 * N-ACTION and N-EVENT-REPORT information) ↔ DICOM JSON (PS3.18 §F.2), the shape the index speaks.
 * Stored instances never pass through here.
 */
import { createRequire } from 'node:module';
import dimse from 'dcmjs-dimse';
import type { DicomJson } from '../core/archive/index-store.js';

type Naturalized = Record<string, unknown>;
interface MetaDictionary {
  denaturalizeDataset(dataset: Naturalized): DicomJson;
  naturalizeDataset(dataset: DicomJson): Naturalized;
}

const dictionary = (
  createRequire(import.meta.url)('dcmjs') as { data: { DicomMetaDictionary: MetaDictionary } }
).data.DicomMetaDictionary;

type Dataset = InstanceType<typeof dimse.Dataset>;

export function datasetToDicomJson(dataset: Dataset | undefined): DicomJson {
  if (!dataset) return {};
  const { _vrMap: _, ...elements } = dataset.getElements() as Naturalized;
  return dictionary.denaturalizeDataset(elements);
}

/** Zero-length values are written as '' (a sequence as no items): dcmjs would drop a null. */
export function dicomJsonToDataset(json: DicomJson, transferSyntaxUID: string): Dataset {
  const filled: DicomJson = {};
  for (const [tag, attribute] of Object.entries(json)) {
    const empty = !attribute.Value || attribute.Value.length === 0;
    filled[tag] = empty
      ? { vr: attribute.vr, Value: attribute.vr === 'SQ' ? [] : [''] }
      : attribute;
  }
  return new dimse.Dataset(dictionary.naturalizeDataset(filled), transferSyntaxUID);
}
