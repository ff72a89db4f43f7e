/**
 * Square thumbnails from images of any shape. `fitRect` is the geometry the
 * decode worker hands to `drawImage`; `resizeRgba` does the same resampling
 * in plain TypeScript, for tests and for anywhere without a canvas. Pure.
 */

/** crop: the centred square of the image fills the thumbnail; letterbox: the whole image, padded black. */
export type Fit = 'crop' | 'letterbox';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** drawImage(image, src.x, src.y, src.w, src.h, dst.x, dst.y, dst.w, dst.h) */
export interface FitRects {
  src: Rect;
  dst: Rect;
}

/**
 * Where a srcW×srcH image goes in a size×size thumbnail. Crop takes the
 * centred square of side min(srcW, srcH) to the whole thumbnail; letterbox
 * scales the whole image by size / max(srcW, srcH) and centres it.
 */
export function fitRect(srcW: number, srcH: number, size: number, fit: Fit): FitRects {
  if (!(srcW > 0 && srcH > 0 && size > 0)) {
    throw new RangeError(`fitRect needs positive sizes, got ${srcW}×${srcH} into ${size}.`);
  }
  if (fit === 'crop') {
    const side = Math.min(srcW, srcH);
    return {
      src: { x: Math.floor((srcW - side) / 2), y: Math.floor((srcH - side) / 2), w: side, h: side },
      dst: { x: 0, y: 0, w: size, h: size },
    };
  }
  const scale = size / Math.max(srcW, srcH);
  const w = Math.min(size, Math.max(1, Math.round(srcW * scale)));
  const h = Math.min(size, Math.max(1, Math.round(srcH * scale)));
  return {
    src: { x: 0, y: 0, w: srcW, h: srcH },
    dst: { x: Math.floor((size - w) / 2), y: Math.floor((size - h) / 2), w, h },
  };
}

/** The source pixels, and their weights, that make up each destination pixel along one axis. */
interface Taps {
  index: Int32Array;
  weight: Float64Array;
  /** taps of output i: start[i] .. start[i+1]-1 */
  start: Int32Array;
}

/**
 * One axis of the resampling. Shrinking: a box filter, each output pixel the
 * area-weighted mean of the input pixels it covers (no aliasing). Growing:
 * linear interpolation between the two nearest input pixel centres.
 */
function axisTaps(srcStart: number, srcLen: number, dstLen: number): Taps {
  const ratio = srcLen / dstLen;
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(dstLen + 1);
  for (let i = 0; i < dstLen; i++) {
    start[i] = index.length;
    if (ratio >= 1) {
      const lo = i * ratio;
      const hi = lo + ratio;
      for (let k = Math.floor(lo); k < Math.ceil(hi); k++) {
        const w = Math.min(k + 1, hi) - Math.max(k, lo);
        if (w > 1e-9) {
          index.push(srcStart + Math.min(k, srcLen - 1));
          weight.push(w / ratio);
        }
      }
    } else {
      const u = Math.min(Math.max((i + 0.5) * ratio - 0.5, 0), srcLen - 1);
      const k = Math.floor(u);
      const t = u - k;
      index.push(srcStart + k);
      weight.push(1 - t);
      if (t > 0) {
        index.push(srcStart + k + 1);
        weight.push(t);
      }
    }
  }
  start[dstLen] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}

/**
 * Resamples an RGBA image (row-major, srcW×srcH×4) to a size×size RGB
 * thumbnail by `fitRect`, compositing transparency over black and padding
 * black: what the worker's canvas produces, up to the browser's filter.
 */
export function resizeRgba(
  rgba: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  size: number,
  fit: Fit,
): Uint8Array {
  if (rgba.length !== srcW * srcH * 4) {
    throw new RangeError(`resizeRgba expected ${srcW}×${srcH}×4 = ${srcW * srcH * 4} bytes, got ${rgba.length}.`);
  }
  const { src, dst } = fitRect(srcW, srcH, size, fit);
  const xs = axisTaps(src.x, src.w, dst.w);
  const ys = axisTaps(src.y, src.h, dst.h);
  const out = new Uint8Array(size * size * 3);
  const acc = [0, 0, 0];
  for (let oy = 0; oy < dst.h; oy++) {
    for (let ox = 0; ox < dst.w; ox++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let ty = ys.start[oy]; ty < ys.start[oy + 1]; ty++) {
        const row = ys.index[ty] * srcW;
        for (let tx = xs.start[ox]; tx < xs.start[ox + 1]; tx++) {
          const p = (row + xs.index[tx]) * 4;
          const w = (ys.weight[ty] * xs.weight[tx] * rgba[p + 3]) / 255;
          acc[0] += w * rgba[p];
          acc[1] += w * rgba[p + 1];
          acc[2] += w * rgba[p + 2];
        }
      }
      const q = ((dst.y + oy) * size + dst.x + ox) * 3;
      for (let c = 0; c < 3; c++) out[q + c] = Math.min(255, Math.max(0, Math.round(acc[c])));
    }
  }
  return out;
}

/** Drops the alpha channel: RGBA canvas pixels to the dataset's RGB. */
export function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const n = rgba.length / 4;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = rgba[i * 4];
    out[i * 3 + 1] = rgba[i * 4 + 1];
    out[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return out;
}
