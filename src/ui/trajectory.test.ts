import { describe, expect, it } from 'vitest';
import { collapseAxisHigh, healthyCollapseStd, metricSeries, svgPath, trajectory, trajectoryDomains, type GeometryStep } from './trajectory';

const history = (n: number): GeometryStep[] =>
  Array.from({ length: n }, (_, i) => ({ step: i + 1, alignment: 1 - i / n, uniformity: -i / n, collapseStd: 0.1 }));

describe('metricSeries', () => {
  it('keeps finite values only: old steps without the field and NaN are left out', () => {
    const steps: GeometryStep[] = [{ step: 1 }, { step: 2, alignment: Number.NaN }, { step: 3, alignment: 0.5 }, { step: 4, alignment: Infinity }];
    expect(metricSeries(steps, 'alignment', 300)).toEqual([{ step: 3, value: 0.5 }]);
  });
  it('thins long histories, keeping the first and last step', () => {
    const out = metricSeries(history(5000), 'uniformity', 300);
    expect(out).toHaveLength(300);
    expect(out[0].step).toBe(1);
    expect(out[out.length - 1].step).toBe(5000);
  });
});

describe('trajectory', () => {
  it('needs both coordinates and keeps step order', () => {
    const steps: GeometryStep[] = [
      { step: 1, alignment: 1.2, uniformity: -0.5 },
      { step: 2, alignment: 1.1 },
      { step: 3, uniformity: -1 },
      { step: 4, alignment: 0.8, uniformity: -1.5 },
    ];
    expect(trajectory(steps, 300)).toEqual([
      { step: 1, alignment: 1.2, uniformity: -0.5 },
      { step: 4, alignment: 0.8, uniformity: -1.5 },
    ]);
  });
  it('draws at most max points of a long run, from its start to its end, in order', () => {
    const out = trajectory(history(10_000), 300);
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out[0].step).toBe(1);
    expect(out[out.length - 1].step).toBe(10_000);
    for (let i = 1; i < out.length; i++) expect(out[i].step).toBeGreaterThan(out[i - 1].step);
  });
  it('is empty for runs recorded before the metrics existed', () => {
    expect(trajectory([{ step: 1 }, { step: 2 }], 300)).toEqual([]);
  });
});

describe('collapse meter', () => {
  it('puts the healthy level at 1/√d', () => {
    expect(healthyCollapseStd(64)).toBeCloseTo(0.125, 12);
    expect(healthyCollapseStd(0)).toBeNaN();
  });
  it('leaves room above the healthy level and every reading', () => {
    const high = collapseAxisHigh([0.01, 0.05], 0.125);
    expect(high).toBeGreaterThanOrEqual(0.125 * 1.25);
    expect(high).toBeLessThan(0.3);
    expect(collapseAxisHigh([0.5], 0.125)).toBeGreaterThanOrEqual(0.5);
    expect(collapseAxisHigh([], Number.NaN)).toBe(1);
  });
});

describe('trajectoryDomains', () => {
  it('covers every path, alignment from 0, ends on the 0.1 grid', () => {
    const { x, y } = trajectoryDomains([
      [{ alignment: 1.23, uniformity: -0.42 }],
      [{ alignment: 0.5, uniformity: -2.61 }, { alignment: 0.7, uniformity: -1 }],
    ]);
    expect(x[0]).toBeCloseTo(-2.7, 10);
    expect(x[1]).toBeCloseTo(-0.4, 10);
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(1.3, 10);
  });
  it('has a sensible default without points', () => {
    expect(trajectoryDomains([[], []])).toEqual({ x: [-4, 0], y: [0, 2] });
  });
});

describe('svgPath', () => {
  const x = (u: number) => 100 + 10 * u;
  const y = (a: number) => 50 - 10 * a;
  it('draws the points in order', () => {
    expect(svgPath([{ uniformity: -1, alignment: 1 }, { uniformity: -2, alignment: 0.5 }], x, y)).toBe('M90.0,40.0L80.0,45.0');
  });
  it('breaks the line where a point cannot be placed', () => {
    const d = svgPath([{ uniformity: -1, alignment: 1 }, { uniformity: Number.NaN, alignment: 1 }, { uniformity: -3, alignment: 0 }], x, y);
    expect(d).toBe('M90.0,40.0M70.0,50.0');
    expect(svgPath([], x, y)).toBe('');
  });
});
