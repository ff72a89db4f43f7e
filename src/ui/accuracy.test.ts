import { describe, expect, it } from 'vitest';
import { accuracyAxisLow, unscorableReason } from './accuracy';

describe('accuracyAxisLow', () => {
  it('starts 5 points under the lowest value, on a 5% grid, never below 0', () => {
    expect(accuracyAxisLow([0.83, 0.9, undefined])).toBeCloseTo(0.75, 10);
    expect(accuracyAxisLow([0.02])).toBe(0);
    expect(accuracyAxisLow([])).toBe(0);
    expect(accuracyAxisLow([Number.NaN, undefined])).toBe(0);
  });
});

describe('unscorableReason', () => {
  it('explains a missing label set or test split, and is null otherwise', () => {
    expect(unscorableReason(null, 'kNN', 'kNN')).toBeNull();
    expect(unscorableReason({ labelled: true, testCount: 10 }, 'kNN', 'kNN')).toBeNull();
    expect(unscorableReason({ labelled: false, testCount: 10 }, 'a linear probe', 'the probe')).toBe(
      'This dataset has no labels (no class folders), so there is nothing for a linear probe to predict. Training still works.',
    );
    expect(unscorableReason({ labelled: true, testCount: 0 }, 'a linear probe', 'the probe')).toBe(
      'This dataset has no test images (every class has a single image), so the probe cannot be measured.',
    );
  });
});
