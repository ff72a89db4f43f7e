import { describe, expect, it } from 'vitest';
import { METHOD_CATALOG, METHOD_FIELD, METHOD_IDS, methodTrains } from '../core/methods';
import { implementedMethods } from './registry';

describe('method registry and catalog', () => {
  it('the catalog marks as available exactly the methods that have a method file', () => {
    const available = METHOD_IDS.filter(methodTrains);
    expect([...implementedMethods()].sort()).toEqual([...available].sort());
  });

  it('offers only the methods that train in the method menu, labelled from the catalog', () => {
    expect(METHOD_FIELD.kind).toBe('enum');
    if (METHOD_FIELD.kind !== 'enum') return;
    expect(METHOD_FIELD.options.map((o) => o.value)).toEqual(METHOD_IDS.filter(methodTrains));
    for (const option of METHOD_FIELD.options) expect(option.label).toBe(METHOD_CATALOG[option.value as keyof typeof METHOD_CATALOG].label);
  });

  it('gives every method a paper, a loss name and metric test ids of its own', () => {
    const testIds = new Set<string>();
    for (const id of METHOD_IDS) {
      const entry = METHOD_CATALOG[id];
      expect(entry.id).toBe(id);
      expect(entry.paper.url).toMatch(/^https:\/\//);
      expect(entry.lossName.length).toBeGreaterThan(0);
      for (const metric of entry.metrics) {
        expect(metric.testId).toMatch(/^metric-/);
        testIds.add(`${id}:${metric.key}`);
      }
      if (entry.matrix === 'none') expect(entry.matrixNote).toBeTruthy();
    }
  });
});
