import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config';
import { METHOD_CATALOG, METHOD_FAMILIES, METHOD_IDS, lossReference, methodMenu, methodUnfitReason } from './methods';

const grey = { name: 'Fashion-MNIST (12k)', channels: 1 as const, imageSize: 28, trainCount: 12000 };
const colour = { ...grey, name: 'Coloured shapes', channels: 3 as const };

describe('the method menu', () => {
  it('groups every method by family in the lectures’ order, and each method once', () => {
    const menu = methodMenu(grey, DEFAULT_CONFIG);
    const order = METHOD_FAMILIES.map((f) => f.label);
    const labels = menu.map((g) => g.label);
    expect(labels).toEqual(order.filter((l) => labels.includes(l)));
    expect(labels.slice(0, 3)).toEqual(['Contrastive', 'Non-contrastive', 'Pretext tasks']);
    const listed = menu.flatMap((g) => g.options.map((o) => o.value));
    expect([...listed].sort()).toEqual([...METHOD_IDS].sort());
    for (const group of menu) {
      for (const option of group.options) expect(METHOD_FAMILIES.find((f) => f.label === group.label)!.id).toBe(METHOD_CATALOG[option.value].family);
    }
    expect(menu[0].options.map((o) => o.value)).toEqual(['simclr', 'memory-bank', 'moco', 'cpc', 'cmc', 'pirl']);
  });

  it('holds back what cannot train here, with the reason, and offers the rest', () => {
    const menu = methodMenu(grey, DEFAULT_CONFIG).flatMap((g) => g.options);
    for (const option of menu) {
      const entry = METHOD_CATALOG[option.value];
      const unfit = methodUnfitReason(option.value, grey, DEFAULT_CONFIG);
      expect(entry.available).toBe(true);
      expect(option.reason).toBe(unfit ?? undefined);
    }
    expect(menu.find((o) => o.value === 'rotation')!.reason).toBeUndefined();
    // before a dataset is known, only what has no implementation is held back
    for (const option of methodMenu(null, DEFAULT_CONFIG).flatMap((g) => g.options)) {
      expect(option.reason === undefined).toBe(METHOD_CATALOG[option.value].available);
    }
  });

  it('gives every method a paragraph of its own and a full-sentence reason wherever it refuses a dataset', () => {
    for (const id of METHOD_IDS) {
      const entry = METHOD_CATALOG[id];
      expect(entry.about.length, id).toBeGreaterThan(entry.summary.length - 1);
      for (const data of [grey, colour, { ...grey, imageSize: 8, trainCount: 5 }]) {
        const reason = methodUnfitReason(id, data, { ...DEFAULT_CONFIG, imageSize: data.imageSize });
        if (reason) expect(reason, id).toMatch(/^[A-Z].*[.!]$/);
      }
    }
  });
});

describe('loss references of the pretext tasks', () => {
  it('RotNet’s line is a uniform guess among four rotations, log 4', () => {
    const reference = lossReference('rotation', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 100)!;
    expect(reference.value).toBeCloseTo(Math.log(4), 12);
    expect(reference.label).toBe('log 4 = 1.39');
  });

  it('the first six keep theirs', () => {
    expect(lossReference('simclr', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 100)!.label).toBe('log(2N − 1) = 3.43');
    expect(lossReference('barlow-twins', { batchSize: 16, queueSize: 1, projectionDim: 8 }, 100)!.value).toBe(8);
  });
});
