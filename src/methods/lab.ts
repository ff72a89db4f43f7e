/**
 * CIE Lab for colorization (Zhang et al. 2016): sRGB in [0, 1] → linear RGB →
 * XYZ (D65) → L*a*b*, and back, twice over: as tfjs ops for batches of images
 * (float32), and on plain numbers in float64 (the tests' reference and the
 * instrument's pictures). Then the quantized ab space of the paper's
 * classification head: bins of side 10, only those that sRGB colours reach.
 *
 *   linear:  c ≤ 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055)^2.4
 *   XYZ:     M · [R, G, B]   (sRGB primaries, D65 white)
 *   Lab:     L = 116 f(Y/Yn) − 16,  a = 500 (f(X/Xn) − f(Y/Yn)),  b = 200 (f(Y/Yn) − f(Z/Zn))
 *            f(t) = t^(1/3) for t > δ³, else t / (3δ²) + 4/29,  δ = 6/29
 */
import * as tf from '@tensorflow/tfjs';

/** linear sRGB → XYZ, rows X, Y, Z (IEC 61966-2-1 primaries, D65 white) */
export const RGB_TO_XYZ: readonly (readonly [number, number, number])[] = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
];

/**
 * The reference white (Xn, Yn, Zn): the image of sRGB white under M, the D65
 * white to seven digits (0.95047, 1.0, 1.08883); taken from M itself so that
 * white, and every grey, has a = b = 0 exactly.
 */
export const D65_WHITE: readonly [number, number, number] = [0, 1, 2].map((row) => RGB_TO_XYZ[row][0] + RGB_TO_XYZ[row][1] + RGB_TO_XYZ[row][2]) as [number, number, number];

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/** XYZ → linear sRGB: M⁻¹ in float64, so the round trip is exact up to rounding. */
export const XYZ_TO_RGB: readonly (readonly number[])[] = invert3(RGB_TO_XYZ);

const DELTA = 6 / 29;

// ---------------------------------------------------------------------------
// float64 on plain numbers

export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * Math.max(c, 0) ** (1 / 2.4) - 0.055;
}

const labF = (t: number) => (t > DELTA ** 3 ? Math.cbrt(t) : t / (3 * DELTA * DELTA) + 4 / 29);
const labFInverse = (t: number) => (t > DELTA ? t ** 3 : 3 * DELTA * DELTA * (t - 4 / 29));

/** One sRGB colour in [0, 1] to [L, a, b] (L in [0, 100]). */
export function rgbToLabPixel(r: number, g: number, b: number): [number, number, number] {
  const linear = [r, g, b].map(srgbToLinear);
  const [fx, fy, fz] = RGB_TO_XYZ.map((row, k) => labF((row[0] * linear[0] + row[1] * linear[1] + row[2] * linear[2]) / D65_WHITE[k]));
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** [L, a, b] to sRGB, clipped to [0, 1] unless `clip` is false (colours outside the sRGB gamut then fall outside [0, 1]). */
export function labToRgbPixel(l: number, a: number, b: number, clip = true): [number, number, number] {
  const fy = (l + 16) / 116;
  const xyz = [fy + a / 500, fy, fy - b / 200].map((f, k) => labFInverse(f) * D65_WHITE[k]);
  const rgb = XYZ_TO_RGB.map((row) => {
    const linear = row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2];
    // below 0 the sRGB curve is continued as an odd function, so an unclipped round trip still inverts
    const c = linear < 0 ? -linearToSrgb(-linear) : linearToSrgb(linear);
    return clip ? Math.min(1, Math.max(0, c)) : c;
  });
  return rgb as [number, number, number];
}

/** Interleaved RGB (HWC, any count of pixels) to interleaved Lab, float64. */
export function rgbToLabArray(pixels: ArrayLike<number>): Float64Array {
  const out = new Float64Array(pixels.length);
  for (let p = 0; p < pixels.length; p += 3) out.set(rgbToLabPixel(pixels[p], pixels[p + 1], pixels[p + 2]), p);
  return out;
}

/** Lightness and ab planes (L one value a pixel, ab two) back to interleaved RGB in [0, 1]. */
export function labPlanesToRgb(lightness: ArrayLike<number>, ab: ArrayLike<number>): Float32Array {
  const out = new Float32Array(3 * lightness.length);
  for (let p = 0; p < lightness.length; p++) out.set(labToRgbPixel(lightness[p], ab[2 * p], ab[2 * p + 1]), 3 * p);
  return out;
}

// ---------------------------------------------------------------------------
// tfjs, for batches [n, H, W, 3]

/** sRGB images in [0, 1] to Lab, [n, H, W, 3] with channels L, a, b. */
export function rgbToLab(images: tf.Tensor4D): tf.Tensor4D {
  if (images.shape[3] !== 3) throw new Error(`rgbToLab: images need 3 channels (RGB), got ${images.shape[3]}`);
  return tf.tidy(() => {
    const c = tf.clipByValue(images, 0, 1);
    // the power branch is evaluated everywhere by tf.where: keep its base positive
    const linear = tf.where(tf.lessEqual(c, 0.04045), tf.div(c, 12.92), tf.pow(tf.div(tf.add(c, 0.055), 1.055), 2.4));
    // XYZ / white in one product: column k of the matrix is row k of M divided by the white's k-th value
    const toScaledXyz = tf.tensor2d(RGB_TO_XYZ.map((row, k) => row.map((m) => m / D65_WHITE[k]))).transpose();
    const t = tf.reshape(tf.matMul(tf.reshape(linear, [-1, 3]), toScaledXyz), images.shape);
    const cube = DELTA ** 3;
    const f = tf.where(tf.greater(t, cube), tf.pow(tf.maximum(t, cube), 1 / 3), tf.add(tf.div(t, 3 * DELTA * DELTA), 4 / 29));
    const [fx, fy, fz] = tf.split(f, 3, 3);
    return tf.concat([tf.sub(tf.mul(fy, 116), 16), tf.mul(tf.sub(fx, fy), 500), tf.mul(tf.sub(fy, fz), 200)], 3) as tf.Tensor4D;
  });
}

/** Lab [n, H, W, 3] to sRGB in [0, 1] (clipped: ab outside the gamut come out at its edge). */
export function labToRgb(lab: tf.Tensor4D): tf.Tensor4D {
  if (lab.shape[3] !== 3) throw new Error(`labToRgb: Lab images need 3 channels, got ${lab.shape[3]}`);
  return tf.tidy(() => {
    const [l, a, b] = tf.split(lab, 3, 3);
    const fy = tf.div(tf.add(l, 16), 116);
    const f = tf.concat([tf.add(fy, tf.div(a, 500)), fy, tf.sub(fy, tf.div(b, 200))], 3);
    const t = tf.where(tf.greater(f, DELTA), tf.mul(f, tf.mul(f, f)), tf.mul(tf.sub(f, 4 / 29), 3 * DELTA * DELTA));
    const toRgb = tf.tensor2d(XYZ_TO_RGB.map((row) => row.map((m, k) => m * D65_WHITE[k])) as number[][]).transpose();
    const linear = tf.clipByValue(tf.reshape(tf.matMul(tf.reshape(t, [-1, 3]), toRgb), lab.shape), 0, 1);
    const srgb = tf.where(tf.lessEqual(linear, 0.0031308), tf.mul(linear, 12.92), tf.sub(tf.mul(tf.pow(tf.maximum(linear, 0.0031308), 1 / 2.4), 1.055), 0.055));
    return tf.clipByValue(srgb, 0, 1) as tf.Tensor4D;
  });
}

/**
 * What the colorization encoder sees: L / 100 in [0, 1], one channel. Grey
 * images (one channel, R = G = B) are read as the grey colour they show.
 */
export function lightnessInput(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) as tf.Tensor4D : images;
    return tf.div(tf.slice(rgbToLab(rgb), [0, 0, 0, 0], [-1, -1, -1, 1]), 100) as tf.Tensor4D;
  });
}

// ---------------------------------------------------------------------------
// Quantized ab space (the classification head's classes)

/** Side of an ab bin, in Lab units, as in the paper. */
export const AB_BIN_SIDE = 10;
/** Bin centres are multiples of 10 from −110 to 110 on each axis; sRGB's ab lie within ±108. */
export const AB_GRID_RADIUS = 11;
const GRID_SIDE = 2 * AB_GRID_RADIUS + 1;

export interface AbBins {
  /** Q, the bins kept: those some sRGB colour falls in */
  count: number;
  /** Q × 2 interleaved (a, b) centres, in the order of the class indices */
  centres: Float32Array;
  /**
   * per grid cell (row a, column b: (round(a/10) + 11)·23 + round(b/10) + 11),
   * its class: the cell's own bin when kept, else the nearest kept bin
   */
  lookup: Int32Array;
}

let binsMemo: AbBins | null = null;

/** The grid cell of an ab value: round(a / 10) and round(b / 10) clamped to the grid, as one index. */
export function abCell(a: number, b: number): number {
  const index = (v: number) => Math.min(AB_GRID_RADIUS, Math.max(-AB_GRID_RADIUS, Math.floor(v / AB_BIN_SIDE + 0.5))) + AB_GRID_RADIUS;
  return index(a) * GRID_SIDE + index(b);
}

/**
 * The in-gamut ab bins, computed once and deterministically: every colour on
 * the six faces of the RGB cube at 8-bit steps (the ab that sRGB reaches are
 * those of the cube's surface: each line through the gamut solid leaves it
 * through a face), converted to Lab in float64 and binned. The paper kept the
 * 313 bins its ImageNet gamut reached; sRGB reaches fewer.
 */
export function abBins(): AbBins {
  if (binsMemo) return binsMemo;
  const hit = new Uint8Array(GRID_SIDE * GRID_SIDE);
  for (let fixed = 0; fixed < 3; fixed++) {
    for (const end of [0, 1]) {
      for (let u = 0; u < 256; u++) {
        for (let v = 0; v < 256; v++) {
          const rgb = [0, 0, 0];
          rgb[fixed] = end;
          rgb[(fixed + 1) % 3] = u / 255;
          rgb[(fixed + 2) % 3] = v / 255;
          const [, a, b] = rgbToLabPixel(rgb[0], rgb[1], rgb[2]);
          hit[abCell(a, b)] = 1;
        }
      }
    }
  }
  const kept: number[] = [];
  hit.forEach((h, cell) => {
    if (h) kept.push(cell);
  });
  const centreOf = (cell: number): [number, number] => [
    (Math.floor(cell / GRID_SIDE) - AB_GRID_RADIUS) * AB_BIN_SIDE, ((cell % GRID_SIDE) - AB_GRID_RADIUS) * AB_BIN_SIDE,
  ];
  const centres = new Float32Array(2 * kept.length);
  kept.forEach((cell, q) => centres.set(centreOf(cell), 2 * q));
  const lookup = new Int32Array(GRID_SIDE * GRID_SIDE);
  for (let cell = 0; cell < lookup.length; cell++) {
    const [a, b] = centreOf(cell);
    let best = 0;
    let bestDistance = Infinity;
    kept.forEach((_, q) => {
      const d = (centres[2 * q] - a) ** 2 + (centres[2 * q + 1] - b) ** 2;
      if (d < bestDistance) [best, bestDistance] = [q, d];
    });
    lookup[cell] = best;
  }
  binsMemo = { count: kept.length, centres, lookup };
  return binsMemo;
}

/** The class (bin index) of an ab value, on plain numbers: the tests' reference for abBinLabels. */
export function abBinOf(a: number, b: number): number {
  return abBins().lookup[abCell(a, b)];
}

/** Hard bin labels of an ab map [..., 2] (Lab units), one int32 per pixel, flattened in row-major order. */
export function abBinLabels(ab: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const { lookup } = abBins();
    const index = tf.clipByValue(tf.floor(tf.add(tf.div(tf.reshape(ab, [-1, 2]), AB_BIN_SIDE), 0.5)), -AB_GRID_RADIUS, AB_GRID_RADIUS);
    const [ia, ib] = tf.split(tf.add(index, AB_GRID_RADIUS), 2, 1);
    // small whole numbers, exact in float32 before the cast
    const cell = tf.cast(tf.reshape(tf.add(tf.mul(ia, GRID_SIDE), ib), [-1]), 'int32');
    return tf.gather(tf.tensor1d(lookup, 'int32'), cell) as tf.Tensor1D;
  });
}
