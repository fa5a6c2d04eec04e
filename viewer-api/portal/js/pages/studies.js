/** My studies: every study DICOMweb lets this account see, newest first, with a thumbnail each. */
import { h, notice } from '../dom.js';
import { number, studyDate, value, values } from '../dicom-json.js';
import { withConcurrency } from '../dicomweb.js';
import { thumbnail } from '../thumbnail.js';

/** One study as a card linking to its viewer (used by the share landing page too). */
export function studyCard(dicomweb, study, href) {
  const StudyInstanceUID = value(study, 'StudyInstanceUID');
  const description = value(study, 'StudyDescription') || 'Study without description';
  const modalities = values(study, 'ModalitiesInStudy').join(', ');
  const series = number(study, 'NumberOfStudyRelatedSeries');
  const instances = number(study, 'NumberOfStudyRelatedInstances');
  const img = thumbnail(
    dicomweb,
    dicomweb.studyThumbnailPath(StudyInstanceUID),
    `Preview of ${description}`,
  );
  const card = h(
    'li',
    { class: 'study-card', 'data-study': StudyInstanceUID },
    h(
      'a',
      { href },
      img,
      h(
        'span',
        { class: 'study-text' },
        h('span', { class: 'study-description' }, description),
        h('span', { class: 'study-date' }, studyDate(value(study, 'StudyDate'))),
        h(
          'span',
          { class: 'study-meta' },
          [
            modalities,
            series && `${series} series`,
            instances && `${instances} ${instances === 1 ? 'image' : 'images'}`,
          ]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
    ),
  );
  return { card, img };
}

/** The list of studies with thumbnails loading 4 at a time; `hrefOf(uid)` makes each link. */
export function studyList(dicomweb, studies, hrefOf) {
  const cards = studies.map((s) => studyCard(dicomweb, s, hrefOf(value(s, 'StudyInstanceUID'))));
  return {
    element: h(
      'ul',
      { class: 'study-list', 'aria-label': 'Studies' },
      cards.map((c) => c.card),
    ),
    loadThumbnails: () => withConcurrency(cards.map((c) => () => c.img.load())),
  };
}

export async function studiesPage({ dicomweb }) {
  const studies = await dicomweb.searchForStudies();
  const list = studyList(dicomweb, studies, (uid) => `#/studies/${uid}`);
  const element = h(
    'section',
    { class: 'page' },
    h('h1', {}, 'My studies'),
    studies.length === 0
      ? notice('No studies yet. Studies your imaging providers send appear here.')
      : [
          h(
            'p',
            { class: 'lede' },
            `${studies.length} ${studies.length === 1 ? 'study' : 'studies'}, newest first.`,
          ),
          list.element,
        ],
  );
  return { title: 'My studies', element, ready: () => void list.loadThumbnails() };
}
