import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { COLORIZATION_AB_BINS } from '../core/pretext/colorization';
import { createRng } from '../core/random';
import {
  AB_GRID_RADIUS, abBinLabels, abBinOf, abBins, abCell, D65_WHITE, labPlanesToRgb, labToRgb, labToRgbPixel, lightnessInput,
  rgbToLab, rgbToLabArray, rgbToLabPixel,
} from './lab';

await tf.setBackend('cpu');

/** n random sRGB colours in [0, 1], interleaved, with the cube's 8 corners first. */
function colours(n: number, seed = 1): Float32Array {
  const rng = createRng(seed);
  const corners = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((k) => [k & 1, (k >> 1) & 1, (k >> 2) & 1]);
  return Float32Array.from([...corners, ...Array.from({ length: 3 * n }, () => rng())]);
}

describe('sRGB → CIE Lab (D65), float64', () => {
  it('gives the known values: white, black, greys, the primaries', () => {
    const [lw, aw, bw] = rgbToLabPixel(1, 1, 1);
    expect(lw).toBeCloseTo(100, 4);
    expect(Math.abs(aw) + Math.abs(bw)).toBeLessThan(1e-12);
    expect(rgbToLabPixel(0, 0, 0)).toEqual([0, 0, 0]);
    for (const v of [0.01, 0.2, 0.5, 0.9]) {
      const [, a, b] = rgbToLabPixel(v, v, v);
      expect(Math.abs(a) + Math.abs(b)).toBeLessThan(1e-12);
    }
    // mid grey (sRGB 0.5): Y = 0.2140, L = 53.39
    expect(rgbToLabPixel(0.5, 0.5, 0.5)[0]).toBeCloseTo(53.389, 2);
    const close = (got: number[], want: number[]) => got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 2));
    close(rgbToLabPixel(1, 0, 0), [53.24, 80.09, 67.2]);
    close(rgbToLabPixel(0, 1, 0), [87.73, -86.18, 83.18]);
    close(rgbToLabPixel(0, 0, 1), [32.3, 79.19, -107.86]);
    // the reference white is D65's to five digits
    close([...D65_WHITE], [0.95047, 1, 1.08883]);
  });

  it('round-trips Lab → RGB → Lab and RGB → Lab → RGB', () => {
    const rgb = colours(500);
    const lab = rgbToLabArray(rgb);
    for (let p = 0; p < rgb.length; p += 3) {
      const back = labToRgbPixel(lab[p], lab[p + 1], lab[p + 2], false);
      back.forEach((v, k) => expect(v).toBeCloseTo(rgb[p + k], 9));
      const again = rgbToLabPixel(...back);
      again.forEach((v, k) => expect(v).toBeCloseTo(lab[p + k], 7));
    }
    // out of gamut: clipped into [0, 1]
    for (const v of labToRgbPixel(50, 120, -120)) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('sRGB → CIE Lab as tfjs ops', () => {
  it('matches the float64 reference within float32 rounding', () => {
    const rgb = colours(2000, 2);
    const n = rgb.length / 3;
    const lab = rgbToLab(tf.tensor4d(rgb, [1, 1, n, 3]));
    const got = lab.dataSync();
    const want = rgbToLabArray(rgb);
    let worst = 0;
    for (let k = 0; k < got.length; k++) worst = Math.max(worst, Math.abs(got[k] - want[k]));
    expect(worst).toBeLessThan(2e-3);
    // white, red
    expect(Array.from(got.subarray(21, 24)).map((v) => Math.round(v * 100) / 100)).toEqual([100, 0, 0]);
    expect(Array.from(got.subarray(3, 6)).map((v) => Math.round(v * 100) / 100)).toEqual([53.24, 80.09, 67.2]);
    lab.dispose();
  });

  it('round-trips Lab → RGB → Lab, and RGB → Lab → RGB', () => {
    const rgb = colours(1000, 3);
    const n = rgb.length / 3;
    const x = tf.tensor4d(rgb, [1, 1, n, 3]);
    const lab = tf.tensor4d(Float32Array.from(rgbToLabArray(rgb)), [1, 1, n, 3]);
    const rgbBack = labToRgb(lab);
    const labBack = rgbToLab(rgbBack);
    const worst = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
    expect(worst(rgbBack, x)).toBeLessThan(1e-4);
    expect(worst(labBack, lab)).toBeLessThan(5e-3);
    const viaLab = labToRgb(rgbToLab(x));
    expect(worst(viaLab, x)).toBeLessThan(1e-4);
    // and the float64 inverse agrees with the tfjs one
    const planes = labPlanesToRgb(Float64Array.from({ length: n }, (_, p) => lab.dataSync()[3 * p]), Float64Array.from({ length: 2 * n }, (_, k) => lab.dataSync()[3 * Math.floor(k / 2) + 1 + (k % 2)]));
    expect(Math.max(...Array.from(planes, (v, k) => Math.abs(v - rgbBack.dataSync()[k])))).toBeLessThan(1e-4);
    tf.dispose([x, lab, rgbBack, labBack, viaLab]);
  });

  it('gives the encoder L / 100, one channel; a grey image reads as the grey it shows', () => {
    const rgb = colours(30, 4);
    const n = rgb.length / 3;
    const l = lightnessInput(tf.tensor4d(rgb, [1, 1, n, 3]));
    expect(l.shape).toEqual([1, 1, n, 1]);
    const want = rgbToLabArray(rgb);
    Array.from(l.dataSync()).forEach((v, p) => expect(v).toBeCloseTo(want[3 * p] / 100, 4));
    const grey = lightnessInput(tf.tensor4d([0, 0.5, 1], [1, 1, 3, 1]));
    Array.from(grey.dataSync()).forEach((v, p) => expect(v).toBeCloseTo(rgbToLabPixel(p / 2, p / 2, p / 2)[0] / 100, 4));
    tf.dispose([l, grey]);
  });
});

describe('quantized ab bins', () => {
  it('keeps the bins of side 10 that sRGB reaches, once and the same each time', () => {
    const bins = abBins();
    expect(bins.count).toBe(COLORIZATION_AB_BINS);
    expect(abBins()).toBe(bins);
    for (let q = 0; q < bins.count; q++) {
      for (const v of [bins.centres[2 * q], bins.centres[2 * q + 1]]) {
        expect(Number.isInteger(v / 10)).toBe(true);
        expect(Math.abs(v)).toBeLessThanOrEqual(10 * AB_GRID_RADIUS);
      }
    }
    // every colour falls in a kept bin of its own: the bin whose centre is its ab rounded to tens
    const rgb = colours(3000, 5);
    const lab = rgbToLabArray(rgb);
    for (let p = 0; p < lab.length; p += 3) {
      const q = abBinOf(lab[p + 1], lab[p + 2]);
      expect(bins.centres[2 * q]).toBe(Math.round(lab[p + 1] / 10) * 10 + 0);
      expect(bins.centres[2 * q + 1]).toBe(Math.round(lab[p + 2] / 10) * 10 + 0);
    }
    // an ab no sRGB colour has goes to the nearest kept bin: deep green-blue (a −110, b −110) is outside the gamut
    const far = abBinOf(-110, -110);
    expect(abCell(-110, -110)).toBe(0);
    const d = (q: number) => Math.hypot(bins.centres[2 * q] + 110, bins.centres[2 * q + 1] + 110);
    for (let q = 0; q < bins.count; q++) expect(d(far)).toBeLessThanOrEqual(d(q));
  });

  it('labels a tensor of ab as the plain-array lookup does', () => {
    const rng = createRng(6);
    const values = Float32Array.from({ length: 2 * 500 }, () => (rng() - 0.5) * 260);
    const labels = abBinLabels(tf.tensor3d(values, [10, 50, 2]));
    expect(labels.shape).toEqual([500]);
    const got = labels.dataSync();
    for (let p = 0; p < 500; p++) expect(got[p]).toBe(abBinOf(values[2 * p], values[2 * p + 1]));
    labels.dispose();
  });
});
