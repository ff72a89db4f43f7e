import { describe, expect, it } from 'vitest';
import { downsample, percent } from './format';

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
