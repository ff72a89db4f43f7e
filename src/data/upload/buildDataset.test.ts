import { describe, expect, it } from 'vitest';
import { imageAt, UNLABELLED } from '../dataset';
import { buildDataset, newDatasetId, uploadSummary } from './buildDataset';
import { labelsFromPaths } from './paths';
import { stratifiedSplit } from './split';

const size = 4;
const solid = (v: number) => new Uint8Array(size * size * 3).fill(v);

describe('buildDataset', () => {
  it('packs each split as HWC RGB with its labels', () => {
    const paths = ['cat/0.png', 'cat/1.png', 'cat/2.png', 'cat/3.png', 'dog/4.png', 'dog/5.png'];
    const labelling = labelsFromPaths(paths);
    const split = stratifiedSplit(labelling.labels, 0.5, 1);
    const images = paths.map((_, i) => solid(i * 10));
    const ds = buildDataset({ id: 'abc', name: 'Pets', imageSize: size, images, labelling, split });

    expect(ds).toMatchObject({ id: 'abc', name: 'Pets', imageSize: size, channels: 3, classNames: ['cat', 'dog'] });
    expect(ds.train.count + ds.test.count).toBe(6);
    expect(ds.test.count).toBe(3);
    expect(ds.train.images.length).toBe(ds.train.count * size * size * 3);
    expect(ds.test.images.length).toBe(ds.test.count * size * size * 3);
    // each packed image is the original at that index, with its label
    split.train.forEach((index, k) => {
      expect(imageAt(ds.train, k, size, 3)[0]).toBe(index * 10);
      expect(ds.train.labels[k]).toBe(labelling.labels[index]);
    });
    split.test.forEach((index, k) => expect(imageAt(ds.test, k, size, 3)[5]).toBe(index * 10));

    const summary = uploadSummary(ds, labelling, [{ name: 'a.txt', reason: 'not an image: text' }]);
    expect(summary).toEqual({
      id: 'abc',
      name: 'Pets',
      imageCount: 6,
      trainCount: 3,
      testCount: 3,
      classNames: ['cat', 'dog'],
      classCounts: [4, 2],
      labelled: true,
      skipped: [{ name: 'a.txt', reason: 'not an image: text' }],
    });
  });

  it('gives an unlabelled set no class names and every label UNLABELLED', () => {
    const labelling = labelsFromPaths(['a.png', 'b.png', 'c.png', 'd.png']);
    const split = stratifiedSplit(labelling.labels, 0.25, 1);
    const ds = buildDataset({ id: 'u', name: 'Loose', imageSize: size, images: [1, 2, 3, 4].map(solid), labelling, split });
    expect(ds.classNames).toEqual([]);
    expect([...ds.train.labels, ...ds.test.labels]).toEqual([UNLABELLED, UNLABELLED, UNLABELLED, UNLABELLED]);
    expect([ds.train.count, ds.test.count]).toEqual([3, 1]);
    const summary = uploadSummary(ds, labelling, [], { truncatedAt: 20000, droppedCount: 5 });
    expect(summary).toMatchObject({ labelled: false, classNames: [], classCounts: [], truncatedAt: 20000, droppedCount: 5 });
    expect(summary.unlabelledReason).toMatch(/No image is inside a folder/);
  });

  it('checks image sizes and counts', () => {
    const labelling = labelsFromPaths(['a/1.png', 'b/2.png']);
    const split = stratifiedSplit(labelling.labels, 0.2, 1);
    expect(() => buildDataset({ id: 'x', name: 'x', imageSize: size, images: [solid(1), new Uint8Array(3)], labelling, split })).toThrow(/has 3 bytes/);
    expect(() => buildDataset({ id: 'x', name: 'x', imageSize: size, images: [solid(1)], labelling, split })).toThrow(/2 labels for 1 images/);
  });
});

describe('names and ids', () => {
  it('makes ids that fit a dataset id', () => {
    const a = newDatasetId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newDatasetId()).not.toBe(a);
  });
});
