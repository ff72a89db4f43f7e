import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../data/dataset';
import type { ExperimentConfig } from '../core/config';
import { CancelledError, computeEmbedding, findNeighbours, runLabelEfficiency } from './evaluations';
import type { FewShotRow, LabelEfficiencyRow } from './protocol';
import { TOY_CONFIG, toyDataset } from './toyDataset.testutil';
import { Trainer } from './trainer';

await tf.setBackend('cpu');

const config: ExperimentConfig = {
  ...TOY_CONFIG, learningRate: 0.01, probeTrainSize: 200, probeTestSize: 80, probeEpochs: 60, knnK: 20,
};

/** The toy set as RGB with the grey value in all three channels: another dataset with other channels, for transfer. */
function rgbCopy(ds: ImageDataset): ImageDataset {
  const rgb = (images: Uint8Array) => Uint8Array.from({ length: images.length * 3 }, (_, i) => images[Math.floor(i / 3)]);
  return {
    ...ds, id: 'toy-rgb', name: 'toy in RGB', channels: 3,
    train: { ...ds.train, images: rgb(ds.train.images) },
    test: { ...ds.test, images: rgb(ds.test.images) },
  };
}

async function table(trainer: Trainer, evalDataset: ImageDataset, fractions: number[], isCancelled = () => false) {
  const rows: LabelEfficiencyRow[] = [];
  const fewShot: FewShotRow[] = [];
  const phases: string[] = [];
  await runLabelEfficiency(trainer, evalDataset, { requestId: 1, fractions, supervisedSteps: 10, shots: [1, 5], evalDataset: evalDataset.id }, {
    row: (r) => rows.push(r), fewShot: (r) => fewShot.push(r), progress: (_d, _t, phase) => phases.push(phase), isCancelled,
  });
  return { rows, fewShot, phases };
}

describe('label efficiency, embedding map and neighbours on the worker side', () => {
  it('fills every (fraction, model) row with an accuracy, caps k at the labelled images and says so, and leaks nothing', async () => {
    const ds = toyDataset(256, 80);
    const trainer = new Trainer(ds, config);
    for (let i = 0; i < 3; i++) await trainer.trainStep();
    const before = tf.memory().numTensors;
    const { rows, fewShot, phases } = await table(trainer, ds, [0.04, 1]);
    expect(tf.memory().numTensors).toBe(before);

    const models = ['ssl-linear', 'ssl-knn', 'ssl-finetune', 'random-init', 'random-init-knn', 'raw-pixels', 'raw-pixels-knn', 'supervised'];
    for (const fraction of [0.04, 1]) {
      for (const model of models) {
        const row = rows.find((r) => r.fraction === fraction && r.model === model);
        expect(row, `${model} at ${fraction}`).toBeDefined();
        expect(row!.testAccuracy).toBeGreaterThanOrEqual(0);
        expect(row!.testAccuracy).toBeLessThanOrEqual(1);
      }
    }
    // 4% of 200 probe images, class-balanced over 4 classes: 2 each, 8 images; kNN asked for 20 neighbours
    const small = rows.find((r) => r.fraction === 0.04 && r.model === 'ssl-knn')!;
    expect(small.labelledCount).toBe(8);
    expect(small.note).toContain('k = 8');
    expect(rows.find((r) => r.fraction === 1 && r.model === 'ssl-knn')!.note).toBeUndefined();
    // the trained rows say how far their loss fell, against chance (log 4)
    expect(rows.find((r) => r.fraction === 1 && r.model === 'supervised')!.note).toMatch(/cross-entropy \d\.\d\d → \d\.\d\d over 10 steps \(chance: log 4 = 1\.39\)/);
    // the clear classes of the toy set: raw pixels with all labels read them well above chance (25%)
    expect(rows.find((r) => r.fraction === 1 && r.model === 'raw-pixels')!.testAccuracy).toBeGreaterThan(0.6);
    expect(fewShot.map((r) => `${r.model}:${r.shots}`).sort()).toEqual(
      ['random-init:1', 'random-init:5', 'raw-pixels:1', 'raw-pixels:5', 'ssl:1', 'ssl:5'].sort(),
    );
    expect(phases.at(-1)).toBe('done');
    // the run's own encoder is untouched by fine-tuning: still at 3 steps, and it trains on
    expect(trainer.step).toBe(3);
    await trainer.trainStep();
    trainer.dispose();
  });

  it('transfer: an encoder trained on grey images is probed on an RGB dataset (luma), and a cancel stops cleanly', async () => {
    const ds = toyDataset(128, 40);
    const trainer = new Trainer(ds, config);
    await trainer.trainStep();
    const before = tf.memory().numTensors;
    const { rows } = await table(trainer, rgbCopy(ds), [1]);
    expect(rows.find((r) => r.model === 'raw-pixels')!.testAccuracy).toBeGreaterThan(0.6);
    expect(rows).toHaveLength(8);

    let calls = 0;
    await expect(table(trainer, ds, [0.5, 1], () => ++calls > 3)).rejects.toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('refuses an unlabelled set with a message', async () => {
    const ds = toyDataset(64, 16);
    const trainer = new Trainer(ds, config);
    const unlabelled: ImageDataset = { ...ds, id: 'u', name: 'holiday photos', classNames: [], test: { images: new Uint8Array(0), labels: new Int32Array(0), count: 0 } };
    await expect(table(trainer, unlabelled, [1])).rejects.toThrow(/no labels/);
    trainer.dispose();
  });

  it('maps the test images to 2-D by PCA and finds 8 + 8 neighbours, excluding the query itself', async () => {
    const ds = toyDataset(128, 40);
    const trainer = new Trainer(ds, config);
    const before = tf.memory().numTensors;
    const map = await computeEmbedding(trainer, { requestId: 3, encoder: 'random-init', projection: 'pca', count: 30 }, () => {});
    expect(map.split).toBe('test');
    expect(map.points).toHaveLength(60);
    expect(Array.from(map.points).every(Number.isFinite)).toBe(true);
    expect(map.images).toHaveLength(30 * 12 * 12);
    expect(map.explained![0]).toBeGreaterThanOrEqual(map.explained![1]);

    // UMAP (umap-js) with the run's seed: finite points, epochs reported as progress, the same layout for the same seed
    const phases: string[] = [];
    const umap = await computeEmbedding(trainer, { requestId: 4, encoder: 'encoder', projection: 'umap', count: 30 }, (phase) => phases.push(phase));
    expect(umap.points).toHaveLength(60);
    expect(Array.from(umap.points).every(Number.isFinite)).toBe(true);
    expect(phases).toContain('UMAP layout');
    const again = await computeEmbedding(trainer, { requestId: 5, encoder: 'encoder', projection: 'umap', count: 30 }, () => {});
    expect(Array.from(again.points)).toEqual(Array.from(umap.points));

    const found = await findNeighbours(trainer, 4, 'train', 5);
    expect(found.byH).toHaveLength(8);
    expect(found.byPixels).toHaveLength(8);
    expect(found.byH.map((n) => n.index)).not.toContain(5);
    expect(found.byPixels.map((n) => n.index)).not.toContain(5);
    expect(found.images).toHaveLength(17 * 12 * 12);
    // by pixels on this set, the nearest images share the query's class (its bar or blob is most of the image)
    expect(found.byPixels.filter((n) => n.label === ds.train.labels[5]).length).toBeGreaterThanOrEqual(5);
    await expect(findNeighbours(trainer, 5, 'test', 999)).rejects.toThrow(/no image 999/);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });
});
