/** A rendered frame before encoding: 8 bits per sample, interleaved, row by row. */
export interface RawFrame {
  data: Buffer;
  width: number;
  height: number;
  /** 1 for grayscale (MONOCHROME1/2), 3 for colour (RGB after palette or YBR conversion). */
  channels: 1 | 3;
}
