/** Images as the worker sends them (HWC uint8, 1 or 3 channels) turned into canvas pixels. */

/**
 * Writes image `index` of a batch of size × size × channels HWC bytes into
 * `out` as opaque RGBA (grey images repeat their one channel). Pixels past
 * the end of `batch` stay untouched.
 */
export function hwcToRgba(batch: Uint8Array, index: number, size: number, channels: number, out: Uint8ClampedArray): void {
  const pixels = size * size;
  const start = index * pixels * channels;
  const n = Math.min(pixels, Math.max(0, Math.floor((batch.length - start) / channels)), Math.floor(out.length / 4));
  for (let p = 0; p < n; p++) {
    const at = start + p * channels;
    out[4 * p] = batch[at];
    out[4 * p + 1] = batch[at + (channels === 3 ? 1 : 0)];
    out[4 * p + 2] = batch[at + (channels === 3 ? 2 : 0)];
    out[4 * p + 3] = 255;
  }
}
