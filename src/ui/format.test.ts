import { describe, expect, it } from 'vitest';
import { downsample, niceCeil, percent, steadyDomain, unitTicks } from './format';

describe('downsample', () => {
  it('keeps short series whole', () => {
    expect(downsample([1, 2, 3], 10)).toEqual([1, 2, 3]);
  });
  it('caps long series, keeps first and last, stays ordered', () => {
    const series = Array.from({ length: 10_000 }, (_, i) => i);
    const out = downsample(series, 500);
    expect(out).toHaveLength(500);
    expect(out[0]).toBe(0);
    expect(out[out.length - 1]).toBe(9_999);
    for (let i = 1; i < out.length; i++) expect(out[i]).toBeGreaterThan(out[i - 1]);
  });
});

describe('percent', () => {
  it('formats fractions and refuses to print a non-number as a figure', () => {
    expect(percent(0.8612)).toBe('86.1%');
    expect(percent(Number.NaN)).toBe('—');
    expect(percent(undefined)).toBe('—');
  });
});

describe('niceCeil', () => {
  it('rounds up to 1, 1.5, 2, 3, 4, 5, 6, 8 × 10^k', () => {
    expect([1, 7, 10, 11, 21, 26, 49, 51, 75, 99, 101, 300, 301, 799, 801].map(niceCeil)).toEqual([
      1, 8, 10, 15, 30, 30, 50, 60, 80, 100, 150, 300, 400, 800, 1000,
    ]);
    expect(niceCeil(0.3)).toBeCloseTo(0.3, 12);
  });

  it('leaves at most a third of the axis empty, and moves about nine times per decade', () => {
    const ends = new Set<number>();
    for (let step = 100; step <= 1000; step++) {
      const end = niceCeil(step);
      expect(end).toBeGreaterThanOrEqual(step);
      expect(step / end).toBeGreaterThan(0.66);
      ends.add(end);
    }
    expect(ends.size).toBe(9);
  });

  it('refuses 0, negatives and NaN', () => {
    for (const x of [0, -1, Number.NaN, Infinity]) expect(() => niceCeil(x)).toThrow(/finite x > 0/);
  });
});

describe('steadyDomain', () => {
  it('rounds the ends out to the unit and stays put while the data stays inside', () => {
    expect(steadyDomain(2.93, 3.47, 0.25)).toEqual([2.75, 3.5]);
    expect(steadyDomain(3.01, 3.44, 0.25)).toEqual([3, 3.5]);
    expect(steadyDomain(3, 3, 0.25)).toEqual([3, 3.25]); // a flat series still gets an axis
  });

  it('gives a unit-wide axis for a series without finite values', () => {
    expect(steadyDomain(Infinity, -Infinity, 0.5)).toEqual([0, 0.5]);
    expect(steadyDomain(Number.NaN, 1, 0.5)).toEqual([0, 0.5]);
  });
});

describe('unitTicks', () => {
  it('puts ticks on the unit while few enough, coarser multiples of it otherwise', () => {
    expect(unitTicks([2.75, 3.5], 0.25)).toEqual([2.75, 3, 3.25, 3.5]);
    expect(unitTicks([0, 5], 0.25)).toEqual([0, 1, 2, 3, 4, 5]); // 21 quarter ticks → every 1 (4 units)
    expect(unitTicks([0.5, 4.25], 0.25)).toEqual([1, 2, 3, 4]); // 16 quarters, 8 halves: whole numbers, on multiples of the spacing
  });

  it('never gives more than maxTicks, even over a wide range', () => {
    for (const high of [1, 7.5, 30, 250, 4000]) {
      const ticks = unitTicks([0, high], 0.25);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
    }
  });
});
