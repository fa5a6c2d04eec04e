/** The series of a study as buttons with thumbnails; one is current (aria-pressed). */
import { h } from '../dom.js';
import { number, value } from '../dicom-json.js';
import { withConcurrency } from '../dicomweb.js';
import { thumbnail } from '../thumbnail.js';

export function seriesLabel(series) {
  const parts = [
    `Series ${value(series, 'SeriesNumber') ?? ''}`.trim(),
    value(series, 'Modality'),
    value(series, 'SeriesDescription'),
  ];
  const count = number(series, 'NumberOfSeriesRelatedInstances');
  if (count !== undefined) parts.push(`${count} ${count === 1 ? 'image' : 'images'}`);
  return parts.filter(Boolean).join(' · ');
}

export function seriesList(dicomweb, StudyInstanceUID, seriesDatasets, onSelect) {
  const items = seriesDatasets.map((series) => {
    const SeriesInstanceUID = value(series, 'SeriesInstanceUID');
    const label = seriesLabel(series);
    const img = thumbnail(
      dicomweb,
      dicomweb.seriesThumbnailPath(StudyInstanceUID, SeriesInstanceUID),
      '',
    );
    const button = h(
      'button',
      {
        type: 'button',
        class: 'series-button',
        'aria-pressed': 'false',
        'data-series': SeriesInstanceUID,
        onclick: () => onSelect(series),
      },
      img,
      h('span', {}, label),
    );
    return { SeriesInstanceUID, button, img };
  });
  return {
    element: h(
      'ul',
      { class: 'series-list', 'aria-label': 'Series' },
      items.map((i) => h('li', {}, i.button)),
    ),
    loadThumbnails: () => withConcurrency(items.map((i) => () => i.img.load())),
    markCurrent(SeriesInstanceUID) {
      for (const i of items)
        i.button.setAttribute('aria-pressed', String(i.SeriesInstanceUID === SeriesInstanceUID));
    },
  };
}
