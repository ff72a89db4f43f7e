import { describe, expect, it } from 'vitest';
import { CLASS_COLOURS, UNLABELLED_COLOUR, buildGrid, classColour, classesPresent, drawnCount, layoutPoints, nearestPoint } from './embeddingMap';
import { hwcToRgba } from './pixels';

describe('layoutPoints', () => {
  it('fits the points in the box with one scale for both axes, y up', () => {
    const xy = layoutPoints(new Float32Array([0, 0, 2, 0, 2, 1]), 100, 100, 10);
    // x spans 2 → 80 px, so y (span 1) spans 40 px, centred vertically
    expect(Array.from(xy)).toEqual([10, 70, 90, 70, 90, 30]);
  });
  it('leaves non-finite points out (NaN) and copes with a single point', () => {
    const xy = layoutPoints(new Float32Array([Number.NaN, 0, 3, 4]), 50, 50, 5);
    expect(xy[0]).toBeNaN();
    expect(xy[2]).toBeCloseTo(25);
    expect(xy[3]).toBeCloseTo(25);
    expect(drawnCount(xy)).toBe(1);
  });
  it('places nothing when no point is finite', () => {
    expect(drawnCount(layoutPoints(new Float32Array([Number.NaN, Number.NaN]), 50, 50, 5))).toBe(0);
  });
});

describe('nearestPoint', () => {
  it('agrees with a linear scan on random points', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const n = 800;
    const xy = new Float32Array(2 * n).map(() => random() * 400);
    const grid = buildGrid(xy, 400, 400, 8);
    for (let t = 0; t < 500; t++) {
      const x = random() * 420 - 10, y = random() * 420 - 10;
      let best = -1, bestD2 = 8 * 8;
      for (let i = 0; i < n; i++) {
        const d2 = (xy[2 * i] - x) ** 2 + (xy[2 * i + 1] - y) ** 2;
        if (d2 <= bestD2) { bestD2 = d2; best = i; }
      }
      const found = nearestPoint(grid, x, y, 8);
      if (best < 0) expect(found).toBe(-1);
      else expect((xy[2 * found] - x) ** 2 + (xy[2 * found + 1] - y) ** 2).toBeCloseTo(bestD2, 6);
    }
  });
  it('misses when nothing is within the radius, and skips NaN points', () => {
    const grid = buildGrid(new Float32Array([10, 10, Number.NaN, Number.NaN]), 100, 100, 6);
    expect(nearestPoint(grid, 12, 12, 6)).toBe(0);
    expect(nearestPoint(grid, 30, 30, 6)).toBe(-1);
  });
});

describe('class colours', () => {
  it('gives 20 distinct colours and grey to unlabelled points', () => {
    expect(new Set(CLASS_COLOURS).size).toBe(20);
    expect(CLASS_COLOURS).not.toContain(UNLABELLED_COLOUR);
    expect(classColour(-1)).toBe(UNLABELLED_COLOUR);
    expect(classColour(3)).toBe(CLASS_COLOURS[3]);
    expect(classColour(23)).toBe(CLASS_COLOURS[3]);
  });
  it('lists the classes present, unlabelled last', () => {
    expect(classesPresent(new Int32Array([3, -1, 0, 3, 1]))).toEqual([0, 1, 3, -1]);
  });
});

describe('hwcToRgba', () => {
  it('repeats the grey channel and makes pixels opaque', () => {
    const out = new Uint8ClampedArray(8);
    hwcToRgba(new Uint8Array([9, 42, 10, 20]), 1, 1, 1, out);
    expect(Array.from(out.slice(0, 4))).toEqual([42, 42, 42, 255]);
    const grey = new Uint8ClampedArray(8);
    hwcToRgba(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 1, 2, 1, grey);
    expect(Array.from(grey)).toEqual([5, 5, 5, 255, 6, 6, 6, 255]);
  });
  it('copies RGB images of a batch', () => {
    const out = new Uint8ClampedArray(4);
    hwcToRgba(new Uint8Array([1, 2, 3, 40, 50, 60]), 1, 1, 3, out);
    expect(Array.from(out)).toEqual([40, 50, 60, 255]);
  });
  it('stops at the end of a short batch', () => {
    const out = new Uint8ClampedArray(8);
    hwcToRgba(new Uint8Array([7, 8, 9]), 0, 2, 3, out);
    expect(Array.from(out)).toEqual([7, 8, 9, 255, 0, 0, 0, 0]);
  });
});
