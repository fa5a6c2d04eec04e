/**
 * Transfer syntaxes (PS3.5 §10, PS3.6 Annex A) as DICOMweb media types see them (PS3.18 §8.7.3.5,
 * Table 8.7.3-5): native ones, whose frames are sent as application/octet-stream in Explicit VR
 * Little Endian, and encapsulated ones, each with the image or video media type of its bitstream.
 */

export const ExplicitVRLittleEndian = '1.2.840.10008.1.2.1';

const NATIVE = new Set([
  '1.2.840.10008.1.2', // Implicit VR Little Endian
  '1.2.840.10008.1.2.1', // Explicit VR Little Endian
  '1.2.840.10008.1.2.1.99', // Deflated Explicit VR Little Endian
  '1.2.840.10008.1.2.2', // Explicit VR Big Endian (retired)
]);

/** Native pixel data (PS3.5 §8.2: not encapsulated). */
export function isNative(TransferSyntaxUID: string): boolean {
  return NATIVE.has(TransferSyntaxUID);
}

/**
 * Media types of encapsulated frames, the standard's first (PS3.18 Table 8.7.3-5), then aliases that
 * clients also send (dicomweb-client: image/x-dicom-rle, image/x-jls).
 */
const MEDIA_TYPES: ReadonlyArray<[RegExp, string[]]> = [
  [/^1\.2\.840\.10008\.1\.2\.5$/, ['image/dicom-rle', 'image/x-dicom-rle']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(50|51|57|70)$/, ['image/jpeg']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(80|81)$/, ['image/jls', 'image/x-jls']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(90|91)$/, ['image/jp2']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(92|93)$/, ['image/jpx']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(201|202|203)$/, ['image/jphc']],
  [/^1\.2\.840\.10008\.1\.2\.4\.(100|101|100\.1|101\.1)$/, ['video/mpeg']],
  [
    /^1\.2\.840\.10008\.1\.2\.4\.(102|103|104|105|106|102\.1|103\.1|104\.1|105\.1|106\.1)$/,
    ['video/mp4'],
  ],
  [/^1\.2\.840\.10008\.1\.2\.4\.(107|108)$/, ['video/H265']],
];

/** Media types for frames of an encapsulated transfer syntax, best first; [] when unknown. */
export function frameMediaTypes(TransferSyntaxUID: string): string[] {
  return MEDIA_TYPES.find(([pattern]) => pattern.test(TransferSyntaxUID))?.[1] ?? [];
}
