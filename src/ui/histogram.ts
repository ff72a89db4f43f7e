/**
 * Colour histograms of images, for the previewer's "colour shortcut" instrument:
 * if two views of one image share a colour histogram, the encoder can match
 * them by colour alone. Pure functions: pixels in, numbers out.
 */

/**
 * Per-channel histogram of HWC pixels: `result[c][b]` counts the values of
 * channel c that fall into bin b of `bins` equal bins over the intensity range.
 * Float32 input is read as [0, 1], Uint8 input as 0..255. Values outside the
 * range are clamped into the first or last bin (so 1.0 and 255 land in the
 * last bin); NaN is not counted.
 */
export function colorHistogram(pixels: Float32Array | Uint8Array, channels: 1 | 3, bins = 32): number[][] {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`colorHistogram: bins must be a positive integer, got ${bins}.`);
  const counts = Array.from({ length: channels }, () => new Array<number>(bins).fill(0));
  const last = bins - 1;
  if (pixels instanceof Uint8Array) {
    // integer arithmetic: value v in 0..255 goes to floor(v · bins / 256)
    for (let i = 0; i < pixels.length; i++) {
      counts[i % channels][Math.min(last, Math.floor((pixels[i] * bins) / 256))]++;
    }
  } else {
    for (let i = 0; i < pixels.length; i++) {
      const v = pixels[i];
      if (Number.isNaN(v)) continue;
      counts[i % channels][Math.max(0, Math.min(last, Math.floor(v * bins)))]++;
    }
  }
  return counts;
}

/**
 * L1 distance between two histograms after normalizing each channel to sum 1,
 * averaged over channels: 0 when the colour distributions are identical, 2 when
 * they share no bin. An empty channel is 0 from another empty one and 2 from
 * any non-empty one.
 */
export function histogramDistance(a: number[][], b: number[][]): number {
  if (a.length !== b.length) throw new Error(`histogramDistance: ${a.length} channels vs ${b.length}.`);
  if (a.length === 0) return 0;
  let total = 0;
  for (let c = 0; c < a.length; c++) {
    if (a[c].length !== b[c].length) throw new Error(`histogramDistance: channel ${c} has ${a[c].length} bins vs ${b[c].length}.`);
    const sumA = sum(a[c]);
    const sumB = sum(b[c]);
    if (sumA === 0 || sumB === 0) {
      total += sumA === sumB ? 0 : 2;
      continue;
    }
    let d = 0;
    for (let k = 0; k < a[c].length; k++) d += Math.abs(a[c][k] / sumA - b[c][k] / sumB);
    total += d;
  }
  return total / a.length;
}

/** Each channel's counts divided by its total (an empty channel stays all zeros). */
export function normalizeHistogram(h: number[][]): number[][] {
  return h.map((counts) => {
    const total = sum(counts);
    return total === 0 ? counts.map(() => 0) : counts.map((n) => n / total);
  });
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
