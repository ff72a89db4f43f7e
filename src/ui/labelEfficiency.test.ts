import { describe, expect, it } from 'vitest';
import type { FewShotRow, LabelEfficiencyModel, LabelEfficiencyRow } from '../train/protocol';
import {
  MODEL_ORDER, bestByFraction, chartRows, fewShotGrid, fractionLabel, fractionTicks, groupByModel, logDomain, modelLabel, parseBudget,
} from './labelEfficiency';

const row = (fraction: number, model: LabelEfficiencyModel, testAccuracy: number): LabelEfficiencyRow => ({
  fraction, model, testAccuracy, labelledCount: Math.round(fraction * 1000), step: 100, ms: 5,
});

describe('groupByModel', () => {
  it('groups rows by model in the table order, each sorted by fraction', () => {
    const rows = [row(1, 'supervised', 0.8), row(0.1, 'ssl-linear', 0.7), row(0.01, 'ssl-linear', 0.5), row(0.01, 'raw-pixels', 0.4)];
    const groups = groupByModel(rows);
    expect(groups.map((g) => g.model)).toEqual(['ssl-linear', 'raw-pixels', 'supervised']);
    expect(groups[0].rows.map((r) => r.fraction)).toEqual([0.01, 0.1]);
  });
  it('keeps the latest row when a fraction was measured twice', () => {
    const groups = groupByModel([row(0.1, 'ssl-knn', 0.6), row(0.1, 'ssl-knn', 0.65)]);
    expect(groups[0].rows).toHaveLength(1);
    expect(groups[0].rows[0].testAccuracy).toBe(0.65);
  });
});

describe('bestByFraction', () => {
  it('finds the top accuracy of each fraction', () => {
    const best = bestByFraction([row(0.01, 'ssl-linear', 0.5), row(0.01, 'supervised', 0.3), row(1, 'supervised', 0.9), row(1, 'ssl-linear', Number.NaN)]);
    expect(best.get(0.01)).toBe(0.5);
    expect(best.get(1)).toBe(0.9);
  });
});

describe('chartRows', () => {
  it('makes one row per fraction, ascending, with a column per model', () => {
    expect(chartRows([row(1, 'ssl-linear', 0.9), row(0.01, 'ssl-linear', 0.5), row(0.01, 'supervised', 0.2)])).toEqual([
      { fraction: 0.01, 'ssl-linear': 0.5, supervised: 0.2 },
      { fraction: 1, 'ssl-linear': 0.9 },
    ]);
  });
  it('leaves out what a log axis cannot show', () => {
    expect(chartRows([row(0, 'ssl-linear', 0.5), row(0.1, 'ssl-linear', Number.NaN)])).toEqual([]);
  });
});

describe('log axis', () => {
  it('ticks at each distinct fraction, ascending', () => {
    expect(fractionTicks([1, 0.01, 0.1, 0.1, 0])).toEqual([0.01, 0.1, 1]);
  });
  it('covers every fraction with room on both ends, and stays positive', () => {
    const [low, high] = logDomain([0.01, 0.1, 0.5, 1]);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThan(0.01);
    expect(high).toBeGreaterThan(1);
    expect(logDomain([])).toEqual([0.01, 1]);
    const [one, two] = logDomain([1]);
    expect(one).toBeLessThan(1);
    expect(two).toBeGreaterThan(1);
  });
  it('labels fractions as percentages', () => {
    expect([0.01, 0.1, 0.5, 1, 0.005].map(fractionLabel)).toEqual(['1%', '10%', '50%', '100%', '0.5%']);
  });
});

describe('parseBudget', () => {
  it('accepts whole numbers from 10 to 5000', () => {
    expect(parseBudget(' 200 ')).toEqual({ ok: true, value: 200 });
    expect(parseBudget('10')).toEqual({ ok: true, value: 10 });
    expect(parseBudget('5000')).toEqual({ ok: true, value: 5000 });
  });
  it('refuses anything else with a message', () => {
    for (const bad of ['', '9', '5001', '12.5', 'abc', '-20']) {
      const parsed = parseBudget(bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(/10 to 5000/);
    }
  });
});

describe('labels', () => {
  it('names every model, with the budget where it applies', () => {
    for (const m of MODEL_ORDER) expect(modelLabel(m, 300).length).toBeGreaterThan(0);
    expect(modelLabel('supervised', 300)).toBe('supervised from scratch (same architecture, same augmentations, 300 steps)');
  });
});

describe('fewShotGrid', () => {
  it('lays rows out by shots with a cell per model', () => {
    const rows: FewShotRow[] = [
      { shots: 5, model: 'ssl', testAccuracy: 0.6, episodes: 10 },
      { shots: 1, model: 'raw-pixels', testAccuracy: 0.3, episodes: 10 },
      { shots: 1, model: 'ssl', testAccuracy: 0.4, episodes: 10 },
    ];
    const grid = fewShotGrid(rows);
    expect(grid.map((g) => g.shots)).toEqual([1, 5]);
    expect(grid[0].cells.ssl?.testAccuracy).toBe(0.4);
    expect(grid[0].cells['random-init']).toBeUndefined();
  });
});
