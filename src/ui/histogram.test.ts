import { describe, expect, it } from 'vitest';
import { colorHistogram, histogramDistance, normalizeHistogram } from './histogram';

describe('colorHistogram', () => {
  it('bins float intensities in [0, 1], clamping 1.0 and out-of-range values to the end bins', () => {
    const h = colorHistogram(new Float32Array([0, 0.1, 0.25, 0.5, 0.74, 0.99, 1, 1.5, -0.2, Number.NaN]), 1, 4);
    // bins [0, .25) [.25, .5) [.5, .75) [.75, 1]; NaN is dropped
    expect(h).toEqual([[3, 1, 2, 3]]);
  });

  it('bins uint8 values over 0..255 with 255 in the last bin', () => {
    expect(colorHistogram(new Uint8Array([0, 63, 64, 127, 128, 191, 192, 255]), 1, 4)).toEqual([[2, 2, 2, 2]]);
    expect(colorHistogram(new Uint8Array([0, 128, 255]), 1, 256)[0].filter((n) => n > 0)).toEqual([1, 1, 1]);
    expect(colorHistogram(new Uint8Array([255]), 1, 256)[0][255]).toBe(1);
  });

  it('keeps interleaved HWC channels apart', () => {
    // two pure-red pixels and one pure-blue pixel
    const pixels = new Float32Array([1, 0, 0, 1, 0, 0, 0, 0, 1]);
    const [r, g, b] = colorHistogram(pixels, 3, 2);
    expect(r).toEqual([1, 2]);
    expect(g).toEqual([3, 0]);
    expect(b).toEqual([2, 1]);
  });

  it('uses 32 bins by default and counts every pixel once per channel', () => {
    const pixels = Uint8Array.from({ length: 3 * 100 }, (_, i) => (i * 37) % 256);
    const h = colorHistogram(pixels, 3);
    expect(h).toHaveLength(3);
    for (const channel of h) {
      expect(channel).toHaveLength(32);
      expect(channel.reduce((s, n) => s + n, 0)).toBe(100);
    }
  });

  it('gives the same bins for the same image as uint8 and as float', () => {
    const bytes = Uint8Array.from({ length: 3 * 256 }, (_, i) => i % 256);
    const floats = Float32Array.from(bytes, (v) => v / 255);
    // with 8 bins, v/255 (float) and v·8/256 (uint8) pick the same bin for every byte value
    expect(colorHistogram(floats, 3, 8)).toEqual(colorHistogram(bytes, 3, 8));
  });

  it('refuses a bin count that is not a positive integer', () => {
    expect(() => colorHistogram(new Uint8Array(3), 1, 0)).toThrow(/bins/);
  });
});

describe('histogramDistance', () => {
  it('is 0 for identical histograms and for the same distribution at another scale', () => {
    const h = colorHistogram(new Float32Array([0.1, 0.2, 0.9, 0.4, 0.6, 0.3]), 3, 8);
    expect(histogramDistance(h, h)).toBe(0);
    expect(histogramDistance([[1, 2, 3]], [[10, 20, 30]])).toBeCloseTo(0, 12);
  });

  it('is 2 for disjoint histograms', () => {
    const dark = colorHistogram(new Float32Array(30).fill(0.05), 3, 4);
    const bright = colorHistogram(new Float32Array(30).fill(0.95), 3, 4);
    expect(histogramDistance(dark, bright)).toBe(2);
  });

  it('averages L1 over channels', () => {
    // channel 0 identical (0), channel 1 disjoint (2) → mean 1
    expect(histogramDistance([[1, 0], [1, 0]], [[1, 0], [0, 1]])).toBe(1);
    // half the mass moved: |0.5 − 0| + |0.5 − 1| = 1
    expect(histogramDistance([[1, 1]], [[0, 2]])).toBe(1);
  });

  it('treats empty channels as equal to each other and as far as possible from anything else', () => {
    expect(histogramDistance([[0, 0]], [[0, 0]])).toBe(0);
    expect(histogramDistance([[0, 0]], [[3, 1]])).toBe(2);
  });

  it('refuses histograms of different shapes', () => {
    expect(() => histogramDistance([[1]], [[1], [1]])).toThrow(/channels/);
    expect(() => histogramDistance([[1, 2]], [[1, 2, 3]])).toThrow(/bins/);
  });
});

describe('normalizeHistogram', () => {
  it('turns counts into fractions per channel', () => {
    expect(normalizeHistogram([[1, 3], [0, 0]])).toEqual([[0.25, 0.75], [0, 0]]);
  });
});
