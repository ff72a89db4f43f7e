import { describe, expect, it } from 'vitest';
import {
  AXIS_FONT_PX, axisWidth, canUseLogScale, decimalsFor, linearYAxis, logDomain, logTickFormat, logTicks, logYAxis, niceTicks,
  percentTickFormatter, shouldUseLogScale, stepTicks, textWidth, tickFormatter, tickStep, titleBand, xAxisHeight, xAxisLayout,
} from './chartAxis';
import { unitTicks } from './format';

describe('tick labels', () => {
  it('take the decimals of the tick step, the same on every label', () => {
    expect(decimalsFor(1)).toBe(0);
    expect(decimalsFor(0.5)).toBe(1);
    expect(decimalsFor(0.25)).toBe(2);
    expect(decimalsFor(0.001)).toBe(3);
    expect(decimalsFor(0.1 * 3)).toBe(1);
    const loss = tickFormatter([4, 4.25, 4.5, 4.75, 5]);
    expect([4, 4.5, 5].map(loss)).toEqual(['4.00', '4.50', '5.00']);
    const big = tickFormatter([100, 120, 140, 160]);
    expect([100, 140].map(big)).toEqual(['100', '140']);
    const tenths = tickFormatter([-1, -0.5, 0, 0.5, 1]);
    expect([-1, 0, 0.5].map(tenths)).toEqual(['-1.0', '0.0', '0.5']);
  });

  it('write thousands and millions short: 1.2k, 3M', () => {
    const f = tickFormatter([0, 600, 1200, 1800]);
    expect([0, 600, 1200, 1800].map(f)).toEqual(['0', '0.6k', '1.2k', '1.8k']);
    expect(tickFormatter([0, 1e6, 2e6, 3e6])(3e6)).toBe('3M');
    expect(logTickFormat(1000)).toBe('1k');
    expect(logTickFormat(1200)).toBe('1.2k');
    expect(logTickFormat(2_500_000)).toBe('2.5M');
    expect(logTickFormat(0.001)).toBe('0.001');
    expect(logTickFormat(200)).toBe('200');
  });

  it('show accuracies as percentages with the step’s decimals', () => {
    expect([0.6, 0.8, 1].map(percentTickFormatter([0.6, 0.7, 0.8, 0.9, 1]))).toEqual(['60%', '80%', '100%']);
    expect(percentTickFormatter([0.6, 0.625, 0.65])(0.625)).toBe('62.5%');
  });

  it('step is the smallest gap, whatever the order', () => {
    expect(tickStep([0, 2, 1, 3])).toBe(1);
    expect(tickStep([5])).toBeNaN();
  });
});

describe('axis width', () => {
  it('140.00 needs a wider axis than 4.00, and the axis holds the whole label', () => {
    const narrow = axisWidth(['4.00', '4.50', '5.00']);
    const wide = axisWidth(['100.00', '120.00', '140.00']);
    expect(wide).toBeGreaterThan(narrow);
    // the label, the 6 px tick line and its 2 px gap all fit
    expect(wide).toBeGreaterThanOrEqual(textWidth('140.00') + 8);
    // the old fixed 48 px could not hold "140.00" at the old inherited 16 px font
    expect(textWidth('140.00', 16) + 8).toBeGreaterThan(48);
  });

  it('a wider font or a title asks for more room', () => {
    expect(axisWidth(['0.50'], 14)).toBeGreaterThan(axisWidth(['0.50'], AXIS_FONT_PX));
    expect(axisWidth(['0.50'], AXIS_FONT_PX, true)).toBe(axisWidth(['0.50']) + titleBand());
  });

  it('a titled x axis leaves a line under its tick labels', () => {
    expect(xAxisHeight(true) - xAxisHeight(false)).toBeGreaterThanOrEqual(AXIS_FONT_PX);
    expect(xAxisLayout('step')).toMatchObject({ height: xAxisHeight(true), label: { value: 'step', position: 'insideBottomRight' } });
    expect(xAxisLayout()).not.toHaveProperty('label');
  });

  it('linearYAxis sizes the axis from its own labels', () => {
    const loss = linearYAxis(unitTicks([4, 5], 0.25));
    expect(loss.format(4.25)).toBe('4.25');
    const raw = linearYAxis(niceTicks(4.7, 141));
    expect(raw.ticks.map(raw.format)).toEqual(['0', '50', '100', '150']);
    expect(raw.width).toBe(axisWidth(['150']));
    expect(raw.domain).toEqual([0, 150]);
  });
});

describe('nice ticks', () => {
  it('cover the range at a 1, 2, 2.5 or 5 step, no more than asked for', () => {
    expect(niceTicks(4.7, 141, 6)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(0.42, 0.97, 6)).toEqual([0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 0.0042, 5)).toEqual([0, 0.002, 0.004, 0.006]);
    const ticks = niceTicks(-0.93, 0.61, 5);
    expect(ticks[0]).toBeLessThanOrEqual(-0.93);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(0.61);
    expect(ticks.length).toBeLessThanOrEqual(5);
  });

  it('give a single value a band around it', () => {
    const ticks = niceTicks(2, 2);
    expect(ticks[0]).toBeLessThan(2);
    expect(ticks[ticks.length - 1]).toBeGreaterThan(2);
  });
});

describe('step ticks', () => {
  it('never end on a crowded pair like 9, 10', () => {
    expect(stepTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(stepTicks(0, 15)).toEqual([0, 5, 10, 15]);
    expect(stepTicks(0, 60)).toEqual([0, 20, 40, 60]);
    // whole steps only: a run at step 3 has no step 1.5
    expect(niceTicks(1, 3, 6, 1)).toEqual([1, 2, 3]);
    expect(niceTicks(1, 3, 6)).toEqual([1, 1.5, 2, 2.5, 3]);
    expect(stepTicks(0, 1500).map(tickFormatter(stepTicks(0, 1500)))).toEqual(['0', '0.5k', '1.0k', '1.5k']);
  });
});

describe('log scale', () => {
  it('is chosen when positive values span more than 20×', () => {
    // normalized NT-Xent near 5 beside unnormalized near 140
    expect(shouldUseLogScale([5.2, 4.9, 141, 138])).toBe(true);
    expect(shouldUseLogScale([4.2, 5.3, 6.1])).toBe(false);
    // 0.001…1 spans three orders of magnitude
    expect(shouldUseLogScale([0.001, 0.02, 1])).toBe(true);
    // the smallest settings: unnormalized near 32 against 3.3; the comparison chart's order-of-magnitude threshold catches it
    expect(shouldUseLogScale([3.3, 3.2, 32.3, 19.1])).toBe(false);
    expect(shouldUseLogScale([3.3, 3.2, 32.3, 19.1], 10)).toBe(true);
  });

  it('is never chosen, nor possible, with a value at or below 0', () => {
    expect(canUseLogScale([-0.5, 10, 200])).toBe(false);
    expect(shouldUseLogScale([0, 10, 200])).toBe(false);
    expect(canUseLogScale([])).toBe(false);
    expect(canUseLogScale([3, Number.NaN])).toBe(true);
  });

  it('runs from a 1-2-5 step below the data to one above it', () => {
    expect(logDomain([4.7, 141])).toEqual([2, 200]);
    expect(logDomain([0.001, 0.5, 1])).toEqual([0.001, 1]);
    expect(logDomain([3, 3])).toEqual([2, 5]);
  });

  it('ticks every decade of 0.001…1, or 1-2-5 in a short range', () => {
    expect(logTicks([0.001, 1])).toEqual([0.001, 0.01, 0.1, 1]);
    expect(logTicks([2, 200])).toEqual([2, 10, 100, 200]);
    expect(logTicks([1, 10])).toEqual([1, 2, 5, 10]);
    expect(logTicks([0.5, 2000])).toEqual([0.5, 1, 10, 100, 1000, 2000]);
  });

  it('logYAxis gives labels and the width they need', () => {
    const axis = logYAxis([4.7, 141]);
    expect(axis.ticks.map(axis.format)).toEqual(['2', '10', '100', '200']);
    expect(axis.width).toBe(axisWidth(['200']));
  });
});
