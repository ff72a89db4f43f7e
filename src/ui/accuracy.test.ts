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
      'This dataset has no test images (a class needs at least two images to give one to testing), so the probe cannot be measured.',
    );
    expect(unscorableReason({ labelled: true, testCount: 0, trainClassCounts: [1, 1, 1] }, 'kNN', 'kNN')).toBe(
      'This dataset has no test images (every class has a single image, and a class needs at least two images to give one to testing), so kNN cannot be measured.',
    );
    // a set stored before classes of two gave a test image
    expect(unscorableReason({ labelled: true, testCount: 0, trainClassCounts: [2, 2, 1] }, 'kNN', 'kNN')).toBe(
      'This dataset has no test images (2 of its 3 classes have two or more images, but none was held out when it was stored; upload it again to split it), so kNN cannot be measured.',
    );
  });
});
