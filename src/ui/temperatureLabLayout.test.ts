import { describe, expect, it } from 'vitest';
import { positiveLabelPosition } from './TemperatureLab';

describe('the temperature lab’s positive marker label', () => {
  it('goes inside the plot when the positive is ranked near the left edge, where a centred label would cover the y axis’s top tick', () => {
    // a trained encoder ranks the positive first of 2N − 1 = 31 candidates
    expect(positiveLabelPosition(1, 31)).toBe('insideTopLeft');
    expect(positiveLabelPosition(4, 31)).toBe('insideTopLeft');
    // elsewhere it stays above the chart, centred on the line
    expect(positiveLabelPosition(6, 31)).toBe('top');
    expect(positiveLabelPosition(31, 31)).toBe('top');
    // two candidates: the first is the left edge
    expect(positiveLabelPosition(1, 2)).toBe('insideTopLeft');
    expect(positiveLabelPosition(2, 2)).toBe('top');
  });
});
