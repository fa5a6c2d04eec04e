/**
 * An <img> for an image resource fetched with the bearer token: it shows a placeholder until the
 * blob arrives, then the image; the object URL is released once the image is decoded.
 */
import { h } from './dom.js';

export function thumbnail(dicomweb, path, alt) {
  const img = h('img', { class: 'thumb', alt, width: 128, height: 128, 'data-state': 'loading' });
  img.load = async () => {
    try {
      const url = await dicomweb.imageURL(path);
      img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
      img.src = url;
      img.dataset.state = 'loaded';
    } catch {
      img.dataset.state = 'failed';
      img.alt = `${alt} (no preview)`;
    }
  };
  return img;
}
