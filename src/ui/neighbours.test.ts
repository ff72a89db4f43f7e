import { describe, expect, it } from 'vitest';
import { randomIndex, sameClassCount, scoreText } from './neighbours';

describe('sameClassCount', () => {
  it('counts neighbours of the query class, and has nothing to say without labels', () => {
    expect(sameClassCount(2, [{ label: 2 }, { label: 1 }, { label: 2 }])).toBe(2);
    expect(sameClassCount(-1, [{ label: -1 }])).toBeNull();
  });
});

describe('scoreText', () => {
  it('writes cosines with three decimals and distances with three significant digits', () => {
    expect(scoreText(0.93456, 'cosine')).toBe('cos 0.935');
    expect(scoreText(1234.5, 'distance')).toBe('dist 1230');
    expect(scoreText(0.012345, 'distance')).toBe('dist 0.0123');
    expect(scoreText(Number.NaN, 'cosine')).toBe('—');
  });
});

describe('randomIndex', () => {
  it('stays in range, including at the top end of random()', () => {
    expect(randomIndex(10, () => 0)).toBe(0);
    expect(randomIndex(10, () => 0.99999)).toBe(9);
    expect(randomIndex(10, () => 1)).toBe(9);
    expect(randomIndex(0)).toBeNull();
  });
});
