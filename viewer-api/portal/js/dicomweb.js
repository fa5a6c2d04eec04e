/**
 * A DICOMweb client for one root: /dicom-web with the signed-in account's token, or a share link's
 * /share/<token>/dicom-web. Searches (QIDO-RS) and metadata answer DICOM JSON; images (rendered and
 * thumbnails, PS3.18 §10.4.1.1.5-6) are fetched with the bearer token as blobs and shown through
 * object URLs, since an <img src> cannot carry an Authorization header.
 */
import { request } from './api.js';

const uid = (value) => {
  if (!/^[0-9.]{1,64}$/.test(String(value))) throw new Error('not a UID');
  return value;
};

export class DicomWeb {
  /** `getToken` returns the bearer token to send, or undefined for none (a link without PIN). */
  constructor(root, getToken) {
    this.root = root;
    this.getToken = getToken;
  }

  get(path, options = {}) {
    return request(`${this.root}${path}`, { ...options, token: this.getToken() });
  }

  /** QIDO-RS search for studies, newest first (the archive's order). */
  async searchForStudies(limit = 100) {
    return (await this.get(`/studies?limit=${limit}`)) ?? [];
  }

  async searchForSeries(StudyInstanceUID) {
    return (await this.get(`/studies/${uid(StudyInstanceUID)}/series`)) ?? [];
  }

  /** The instances of a series in InstanceNumber order, with their NumberOfFrames. */
  async searchForInstances(StudyInstanceUID, SeriesInstanceUID) {
    return (
      (await this.get(
        `/studies/${uid(StudyInstanceUID)}/series/${uid(SeriesInstanceUID)}/instances`,
      )) ?? []
    );
  }

  async retrieveInstanceMetadata({ StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID }) {
    const path = `/studies/${uid(StudyInstanceUID)}/series/${uid(SeriesInstanceUID)}/instances/${uid(SOPInstanceUID)}/metadata`;
    const [dataset] = (await this.get(path)) ?? [];
    return dataset;
  }

  studyThumbnailPath(StudyInstanceUID) {
    return `/studies/${uid(StudyInstanceUID)}/thumbnail`;
  }

  seriesThumbnailPath(StudyInstanceUID, SeriesInstanceUID) {
    return `/studies/${uid(StudyInstanceUID)}/series/${uid(SeriesInstanceUID)}/thumbnail`;
  }

  /** The rendered resource of one frame, with the window as PS3.18 §8.3.5.1.4 spells it. */
  renderedFramePath({ StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID }, frameNumber, window) {
    const path = `/studies/${uid(StudyInstanceUID)}/series/${uid(SeriesInstanceUID)}/instances/${uid(SOPInstanceUID)}/frames/${Number(frameNumber)}/rendered`;
    if (!window) return path;
    const round = (n) => Math.round(n * 100) / 100;
    return `${path}?window=${round(window.center)},${round(window.width)},linear`;
  }

  /** An image resource as an object URL (the caller revokes it). PNG: lossless, for diagnosis. */
  async imageURL(path, signal) {
    const blob = await this.get(path, { as: 'blob', accept: 'image/png', signal });
    return URL.createObjectURL(blob);
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` at a time. */
export async function withConcurrency(tasks, limit = 4) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]().catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
