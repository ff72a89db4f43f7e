import { describe, expect, it } from 'vitest';
import { uniformGuessLoss } from '../core/chance';
import { ntXentReference } from './ntxentReference';

describe('uniformGuessLoss', () => {
  it('is the float64 NT-Xent of a batch whose views are all the same vector', () => {
    for (const n of [1, 2, 8, 16, 128]) {
      const same = Array.from({ length: n }, () => [0.3, -1.2, 2]);
      for (const temperature of [0.1, 0.5, 1]) {
        expect(uniformGuessLoss(n)).toBeCloseTo(ntXentReference(same, same, { temperature, normalize: true }), 12);
      }
    }
  });

  it('is log 31 ≈ 3.434 at N = 16 and 0 at N = 1 (the positive is the only candidate)', () => {
    expect(uniformGuessLoss(16)).toBeCloseTo(3.4340, 4);
    expect(uniformGuessLoss(1)).toBe(0);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => uniformGuessLoss(0)).toThrow(/positive integer/);
    expect(() => uniformGuessLoss(2.5)).toThrow(/positive integer/);
  });
});
