/** One study in the viewer. Also the share landing page's view of a shared study. */
import { h, notice } from '../dom.js';
import { studyDate, value } from '../dicom-json.js';
import { createViewer } from '../viewer/viewer.js';

/** The viewer section for a study of `dicomweb`; `back` is an optional link back to a list. */
export async function studyView(dicomweb, StudyInstanceUID, back) {
  const [study] = (await dicomweb.get(`/studies?StudyInstanceUID=${StudyInstanceUID}`)) ?? [];
  const series = await dicomweb.searchForSeries(StudyInstanceUID);
  const description = value(study, 'StudyDescription') || 'Study';
  const viewer = series.length > 0 ? createViewer(dicomweb, StudyInstanceUID, series) : undefined;
  const element = h(
    'section',
    { class: 'page page-study' },
    back && h('p', { class: 'back' }, h('a', { href: back.href }, `‹ ${back.label}`)),
    h('h1', {}, description),
    h('p', { class: 'lede' }, studyDate(value(study, 'StudyDate'))),
    viewer ? viewer.element : notice('This study has no images to show.'),
  );
  return {
    title: description,
    element,
    ready: () => void viewer?.start(),
    leave: () => viewer?.destroy(),
  };
}

export function studyPage({ dicomweb }, StudyInstanceUID) {
  return studyView(dicomweb, StudyInstanceUID, { href: '#/studies', label: 'My studies' });
}
