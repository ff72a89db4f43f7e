import { describe, expect, it } from 'vitest';
import {
  DIAGONAL_RGB,
  MAX_CANVAS_PX,
  blockOf,
  blockStart,
  cellAt,
  cellPixels,
  colourDomain,
  colourFor,
  downsampleMatrix,
  downsampledSize,
  luminance,
  positiveBlocks,
  positiveIndex,
  renderHeatmapPixels,
  rowSoftmax,
} from './heatmap';

describe('colourFor and luminance', () => {
  it('measures relative luminance: black 0, white 1, green brighter than red brighter than blue', () => {
    expect(luminance([0, 0, 0])).toBe(0);
    expect(luminance([255, 255, 255])).toBeCloseTo(1, 10);
    expect(luminance([0, 255, 0])).toBeGreaterThan(luminance([255, 0, 0]));
    expect(luminance([255, 0, 0])).toBeGreaterThan(luminance([0, 0, 255]));
  });

  it('never gets darker as s rises across the whole domain, and clearly brighter over any step of 0.05', () => {
    for (const [lo, hi] of [[-1, 1], [-7.5, 7.5]]) {
      const steps = 2000;
      let previous = -Infinity;
      for (let k = 0; k <= steps; k++) {
        const y = luminance(colourFor(lo + ((hi - lo) * k) / steps, lo, hi));
        expect(y).toBeGreaterThanOrEqual(previous);
        previous = y;
      }
      for (let t = 0; t + 0.05 <= 1; t += 0.05) {
        const a = luminance(colourFor(lo + (hi - lo) * t, lo, hi));
        const b = luminance(colourFor(lo + (hi - lo) * (t + 0.05), lo, hi));
        expect(b).toBeGreaterThan(a);
      }
    }
  });

  it('returns 0..255 integers, clamps outside the domain, and ends dark-to-bright', () => {
    for (const s of [-1, -0.33, 0, 0.5, 1]) {
      for (const c of colourFor(s, -1, 1)) {
        expect(Number.isInteger(c)).toBe(true);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(255);
      }
    }
    expect(colourFor(-5, -1, 1)).toEqual(colourFor(-1, -1, 1));
    expect(colourFor(5, -1, 1)).toEqual(colourFor(1, -1, 1));
    expect(luminance(colourFor(1, -1, 1)) / luminance(colourFor(-1, -1, 1))).toBeGreaterThan(10);
  });

  it('never produces the neutral gray reserved for the masked diagonal', () => {
    for (let k = 0; k <= 1000; k++) {
      const [r, g, b] = colourFor(-1 + k / 500, -1, 1);
      expect(r === g && g === b).toBe(false);
    }
    const [r, g, b] = DIAGONAL_RGB;
    expect(r === g && g === b).toBe(true);
  });
});

describe('colourDomain', () => {
  it('is [−1, 1] for cosine similarities', () => {
    expect(colourDomain(new Float32Array([1, 9, 9, 1]), 2, true)).toEqual({ lo: -1, hi: 1 });
  });
  it('is ±max |s| off the diagonal for raw dot products', () => {
    // the diagonal (‖z‖² = 100) is ignored
    const m = new Float32Array([100, 2, -3.5, 1, 100, 0.5, -1, 2, 100]);
    expect(colourDomain(m, 3, false)).toEqual({ lo: -3.5, hi: 3.5 });
    expect(colourDomain(new Float32Array([4, 0, 0, 4]), 2, false)).toEqual({ lo: -1, hi: 1 });
  });
});

describe('positiveIndex', () => {
  it('pairs view i with the other view of the same image, N places away', () => {
    expect([0, 1, 2, 3, 4, 5].map((i) => positiveIndex(i, 6))).toEqual([3, 4, 5, 0, 1, 2]);
    expect(positiveIndex(0, 2)).toBe(1);
    expect(positiveIndex(1, 2)).toBe(0);
    for (let i = 0; i < 16; i++) {
      expect(Math.abs(i - positiveIndex(i, 16))).toBe(8);
      expect(positiveIndex(positiveIndex(i, 16), 16)).toBe(i);
    }
  });
  it('refuses an odd 2N or a view outside the batch', () => {
    expect(() => positiveIndex(0, 5)).toThrow(/even/);
    expect(() => positiveIndex(6, 6)).toThrow(/outside/);
  });
});

describe('rowSoftmax', () => {
  const m = new Float32Array([
    1.0, 0.2, -0.4, 0.9,
    0.2, 1.0, 0.1, 0.3,
    -0.4, 0.1, 1.0, 0.0,
    0.9, 0.3, 0.0, 1.0,
  ]);

  it('excludes the diagonal, sums to 1 and matches a value worked out by hand', () => {
    const p = rowSoftmax(m, 4, 0, 0.5);
    expect(p[0]).toBe(0);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // row 0 at τ = 0.5: logits 0.4, −0.8, 1.8 → e^0.4 = 1.49182, e^−0.8 = 0.44933, e^1.8 = 6.04965
    const total = 1.49182 + 0.44933 + 6.04965;
    expect(p[1]).toBeCloseTo(1.49182 / total, 5);
    expect(p[2]).toBeCloseTo(0.44933 / total, 5);
    expect(p[3]).toBeCloseTo(6.04965 / total, 5); // the positive (0 ↔ 3), ≈ 0.7571
    expect(p[3]).toBeCloseTo(0.7571, 4);
  });

  it('ignores a huge self-similarity and stays finite for huge logits', () => {
    const big = new Float32Array([1e6, 2, 1, 3, 1e6, 0, 1, 0, 1e6]);
    const p = rowSoftmax(big, 3, 0, 0.01); // logits 200 and 100: exp would overflow without max-subtraction
    expect(p[0]).toBe(0);
    expect(p[1]).toBeCloseTo(1, 6);
    expect(p[2]).toBeGreaterThanOrEqual(0);
    expect(p.every(Number.isFinite)).toBe(true);
  });

  it('is uniform over the 2N − 1 candidates when all similarities are equal', () => {
    const p = rowSoftmax(new Float32Array(36).fill(0.3), 6, 2, 0.1);
    for (let j = 0; j < 6; j++) expect(p[j]).toBeCloseTo(j === 2 ? 0 : 1 / 5, 6);
  });

  it('refuses a non-positive temperature', () => {
    expect(() => rowSoftmax(m, 4, 0, 0)).toThrow(/temperature/);
  });
});

describe('downsampleMatrix', () => {
  it('is exact when n ≤ target', () => {
    const m = Float32Array.from({ length: 16 }, (_, k) => k / 7);
    const out = downsampleMatrix(m, 4, 4);
    expect(out.size).toBe(4);
    expect(Array.from(out.matrix)).toEqual(Array.from(m));
    expect(downsampleMatrix(m, 4, 100).size).toBe(4);
  });

  it('averages b×b blocks', () => {
    // 4×4 → 2×2, value = 10·row + col
    const m = Float32Array.from({ length: 16 }, (_, k) => 10 * Math.floor(k / 4) + (k % 4));
    const out = downsampleMatrix(m, 4, 2);
    expect(out.size).toBe(2);
    // block (0,0) = mean of 0, 1, 10, 11; (0,1) = mean of 2, 3, 12, 13; …
    expect(Array.from(out.matrix)).toEqual([5.5, 7.5, 25.5, 27.5]);
  });

  it('keeps the overall mean and aligns blocks with the t(x) | t′(x) boundary', () => {
    const n = 512;
    const m = Float32Array.from({ length: n * n }, (_, k) => Math.sin(k));
    const out = downsampleMatrix(m, n, 128);
    expect(out.size).toBe(128);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out.matrix)).toBeCloseTo(mean(m), 5);
    expect(blockStart(64, n, 128)).toBe(256);
  });

  it('chooses equal even blocks when it can, uneven ones otherwise', () => {
    expect(downsampledSize(512, 128)).toBe(128);
    expect(downsampledSize(300, 128)).toBe(100);
    expect(downsampledSize(262, 128)).toBe(128); // 262 = 2·131: no divisor fits
  });

  it('maps every original index to the block that holds it', () => {
    for (const [n, size] of [[262, 128], [12, 5], [8, 8]]) {
      for (let j = 0; j < n; j++) {
        const I = blockOf(j, n, size);
        expect(blockStart(I, n, size)).toBeLessThanOrEqual(j);
        expect(blockStart(I + 1, n, size)).toBeGreaterThan(j);
      }
    }
  });
});

describe('cellAt', () => {
  it('maps CSS pixels to (row, column) and refuses points outside', () => {
    expect(cellAt(0, 0, 400, 8)).toEqual({ i: 0, j: 0 });
    expect(cellAt(399.9, 0, 400, 8)).toEqual({ i: 0, j: 7 });
    expect(cellAt(60, 260, 400, 8)).toEqual({ i: 5, j: 1 });
    expect(cellAt(-1, 10, 400, 8)).toBeNull();
    expect(cellAt(10, 400, 400, 8)).toBeNull();
  });
});

describe('positiveBlocks', () => {
  it('marks exactly |i − j| = N at full size, and the blocks holding positives when downsampled', () => {
    const full = positiveBlocks(8, 8);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(full[i * 8 + j]).toBe(Math.abs(i - j) === 4 ? 1 : 0);
    const half = positiveBlocks(4, 8); // blocks of 2: positives in blocks (0,2), (1,3), (2,0), (3,1)
    expect(Array.from(half)).toEqual([0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]);
  });
});

describe('renderHeatmapPixels', () => {
  /** A trained-looking batch: positives 0.9, negatives −0.2, diagonal 1. */
  function batch(twoN: number) {
    const n = twoN / 2;
    return Float32Array.from({ length: twoN * twoN }, (_, k) => {
      const i = Math.floor(k / twoN);
      const j = k % twoN;
      return i === j ? 1 : Math.abs(i - j) === n ? 0.9 : -0.2;
    });
  }
  const at = (data: Uint8ClampedArray, width: number, x: number, y: number): [number, number, number] => {
    const o = 4 * (y * width + x);
    return [data[o], data[o + 1], data[o + 2]];
  };

  it('fills the whole canvas with k×k cells whose centres are colourFor(s) exactly', () => {
    const twoN = 12;
    const m = batch(twoN);
    const { data, width, cell } = renderHeatmapPixels(m, twoN, twoN, -1, 1);
    expect(cell).toBe(cellPixels(twoN));
    expect(width).toBe(twoN * cell);
    expect(width).toBeLessThanOrEqual(MAX_CANVAS_PX);
    expect(data.every((v, p) => p % 4 !== 3 || v === 255)).toBe(true);
    const half = Math.floor(cell / 2);
    for (let i = 0; i < twoN; i++) {
      for (let j = 0; j < twoN; j++) {
        const rgb = at(data, width, j * cell + half, i * cell + half);
        if (i === j) expect(rgb[0] === rgb[1] && rgb[1] === rgb[2]).toBe(true);
        else expect(rgb).toEqual(colourFor(m[i * twoN + j], -1, 1));
      }
    }
    // positive cells are brighter than negatives, read from the pixels
    const pos = luminance(at(data, width, 6 * cell + half, 0 * cell + half));
    const neg = luminance(at(data, width, 1 * cell + half, 0 * cell + half));
    expect(pos).toBeGreaterThan(neg);
  });

  it('outlines positive cells inside their border, and only those', () => {
    const twoN = 8; // k = 64
    const { data, width, cell } = renderHeatmapPixels(batch(twoN), twoN, twoN, -1, 1);
    expect(at(data, width, 4 * cell, 0)).toEqual([255, 255, 255]); // corner of positive (0, 4)
    expect(at(data, width, 4 * cell + 1, 1)).toEqual([0, 0, 0]);
    expect(at(data, width, 1 * cell, 0)).toEqual(colourFor(-0.2, -1, 1)); // negative (0, 1): no ring
  });

  it('draws 512×512 cells in a few milliseconds', () => {
    const size = 512;
    const m = Float32Array.from({ length: size * size }, (_, k) => Math.sin(k));
    renderHeatmapPixels(m, size, size, -1, 1); // warm-up
    const t0 = performance.now();
    const { width } = renderHeatmapPixels(m, size, size, -1, 1);
    const ms = performance.now() - t0;
    expect(width).toBe(512);
    expect(ms).toBeLessThan(50); // typically 2–5 ms; loose so a slow CI machine does not flake
  });
});
