/**
 * pydicom (Debian python3-pydicom, the library the test files come from) as the reference reader of
 * pixel data: the frames of a file as pydicom splits them (native: PixelData cut by
 * get_expected_length, big endian words swapped to little endian; encapsulated: the bytes of each
 * frame's fragments, generate_pixel_data_frame), and pixel_array for the codecs pydicom decodes alone.
 */
import { run } from './dcmtk.js';

export const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import base64, json, sys
import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
from pydicom.pixel_data_handlers.util import get_expected_length

ds = pydicom.dcmread(sys.argv[1])
decode = sys.argv[2] == 'decode'
ts = ds.file_meta.TransferSyntaxUID
nf = int(getattr(ds, 'NumberOfFrames', 1) or 1)
if decode:
    arr = ds.pixel_array
    data = arr.astype(arr.dtype.newbyteorder('<')).tobytes()
    per = len(data) // nf
    frames = [data[i * per:(i + 1) * per] for i in range(nf)]
elif ts.is_compressed:
    frames = list(generate_pixel_data_frame(ds.PixelData, nf))
else:
    total = get_expected_length(ds, 'bytes')
    data = ds.PixelData[:total]
    if not ts.is_little_endian and ds.BitsAllocated > 8 and ds['PixelData'].VR == 'OW':
        data = np.frombuffer(data, '>u2').byteswap().tobytes()
    per = total // nf
    frames = [data[i * per:(i + 1) * per] for i in range(nf)]
print(json.dumps([base64.b64encode(f).decode() for f in frames]))
`;

/** pydicom's frames of `file` (raw: as stored, little endian), or decoded (pixel_array, LE). */
export async function pydicomFrames(
  file: string,
  mode: 'raw' | 'decode' = 'raw',
): Promise<Buffer[]> {
  const result = await run(PYTHON, ['-c', SCRIPT, file, mode]);
  if (result.code !== 0)
    throw new Error(`pydicom ${file}: ${result.stderr.trim().split('\n').pop()}`);
  return (JSON.parse(result.stdout) as string[]).map((f) => Buffer.from(f, 'base64'));
}

/** Resolves when python3 can import pydicom (for requireService). */
export async function probePydicom(): Promise<void> {
  const result = await run(PYTHON, ['-c', 'import pydicom, numpy']);
  if (result.code !== 0) throw new Error(result.stderr.trim() || 'python3-pydicom not importable');
}
