import { describe, expect, it } from 'vitest';
import type { GeneratorNeighbours, GeneratorQualityPoint, GeneratorState, GeneratorStepMetrics, StoredGeneratorInfo } from '../train/protocol';
import {
  FIELD_CONTROLS, LOSS_SERIES, closestDistance, continueBlocker, distanceText, frechetAxis, gridColumns, lossAxis, lossChartRows, mosaic,
  neighbourRows, progressFraction, progressText, qualityChartRows, savedSettingsText, stepAxisEnd, storedQuality,
} from './generatorPanel';

const ganStep = (step: number, discriminatorLoss = 1.3): GeneratorStepMetrics => ({
  step, kind: 'dcgan', stepMs: 4, values: { discriminatorLoss, generatorLoss: 0.7, realScore: 0.55, fakeScore: 0.45 },
});
const vaeStep = (step: number, reconstruction: number, kl: number): GeneratorStepMetrics => ({
  step, kind: 'vae', stepMs: 4, values: { reconstruction, kl, negativeElbo: reconstruction + kl },
});

describe('loss chart rows', () => {
  it('DCGAN: L_D, L_G, D(x) and D(G(z)) per step, the scores on their own axis', () => {
    expect(lossChartRows([ganStep(1), ganStep(2, 1.1)], 'dcgan')).toEqual([
      { step: 1, discriminatorLoss: 1.3, generatorLoss: 0.7, realScore: 0.55, fakeScore: 0.45 },
      { step: 2, discriminatorLoss: 1.1, generatorLoss: 0.7, realScore: 0.55, fakeScore: 0.45 },
    ]);
    expect(LOSS_SERIES.dcgan.filter((s) => s.axis === 'score').map((s) => s.key)).toEqual(['realScore', 'fakeScore']);
    expect(LOSS_SERIES.dcgan.map((s) => s.name.split(':')[0])).toEqual(['L_D', 'L_G = −log D(G(z))', 'D(x)', 'D(G(z))']);
  });
  it('VAE: reconstruction, KL and −ELBO; another kind’s steps are left out', () => {
    const rows = lossChartRows([ganStep(1), vaeStep(1, 300, 4), vaeStep(2, 250, 6)], 'vae');
    expect(rows).toEqual([
      { step: 1, reconstruction: 300, kl: 4, negativeElbo: 304 },
      { step: 2, reconstruction: 250, kl: 6, negativeElbo: 256 },
    ]);
    expect(LOSS_SERIES.vae.map((s) => s.name)).toContain('KL(q(z|x) ‖ N(0, I))');
  });
  it('a diverged (NaN) value leaves a gap instead of a point', () => {
    expect(lossChartRows([ganStep(1, Number.NaN)], 'dcgan')[0].discriminatorLoss).toBeUndefined();
  });
  it('thins a long training to at most the points asked for, first and last kept', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => ganStep(i + 1));
    const rows = lossChartRows(steps, 'dcgan', 300);
    expect(rows).toHaveLength(300);
    expect([rows[0].step, rows[rows.length - 1].step]).toEqual([1, 5000]);
  });
});

describe('axes', () => {
  it('a VAE’s reconstruction beside its small KL goes on a log axis; GAN losses on a linear one from 0', () => {
    const vae = lossAxis(lossChartRows([vaeStep(1, 400, 2), vaeStep(2, 300, 5)], 'vae'), 'vae');
    expect(vae.log).toBe(true);
    expect(vae.domain[0]).toBeLessThanOrEqual(2);
    expect(vae.domain[1]).toBeGreaterThanOrEqual(405);
    const gan = lossAxis(lossChartRows([ganStep(1, 1.4), ganStep(2, 0.6)], 'dcgan'), 'dcgan');
    expect(gan.log).toBe(false);
    expect(gan.domain[0]).toBe(0);
    expect(gan.domain[1]).toBeGreaterThanOrEqual(1.4);
  });
  it('an empty chart still has an axis', () => {
    expect(lossAxis([], 'dcgan').domain).toEqual([0, 1]);
    expect(frechetAxis([]).domain).toEqual([0, 1]);
  });
  it('the step axis reaches the step the training aims for, at a nice number', () => {
    expect(stepAxisEnd(undefined)).toBe(10);
    expect(stepAxisEnd(37, 300)).toBe(300);
    expect(stepAxisEnd(320, 300)).toBe(400);
  });
});

describe('quality chart rows', () => {
  const point = (step: number, frechet: number): GeneratorQualityPoint => ({
    step, frechet, precision: 0.4, recall: 0.2, k: 3, generatedCount: 200, realCount: 200, features: 'random-init h', ms: 9,
  });
  it('Fréchet distance, precision and recall per step', () => {
    expect(qualityChartRows([point(50, 80), point(100, 30)])).toEqual([
      { step: 50, frechet: 80, precision: 0.4, recall: 0.2 },
      { step: 100, frechet: 30, precision: 0.4, recall: 0.2 },
    ]);
  });
  it('a Fréchet distance that fell a hundredfold is drawn on a log axis', () => {
    expect(frechetAxis(qualityChartRows([point(1, 500), point(2, 5)])).log).toBe(true);
    expect(frechetAxis(qualityChartRows([point(1, 50), point(2, 30)])).log).toBe(false);
  });
});

describe('sample grid', () => {
  it('16 samples make a 4 × 4 grid', () => {
    expect(gridColumns(16)).toBe(4);
    expect(gridColumns(9)).toBe(3);
    expect(gridColumns(10)).toBe(4);
  });
  it('lays grey images out in a mosaic with a one-pixel gap, each tile where its index says', () => {
    // four 2 × 2 grey images, image i filled with 10·(i + 1)
    const images = Uint8Array.from({ length: 16 }, (_, p) => 10 * (Math.floor(p / 4) + 1));
    const { width, height, data } = mosaic({ images, count: 4, imageSize: 2, channels: 1 });
    expect([width, height]).toEqual([5, 5]);
    const at = (x: number, y: number) => Array.from(data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
    expect(at(0, 0)).toEqual([10, 10, 10, 255]);
    expect(at(4, 0)).toEqual([20, 20, 20, 255]);
    expect(at(0, 4)).toEqual([30, 30, 30, 255]);
    expect(at(4, 4)).toEqual([40, 40, 40, 255]);
    expect(at(2, 2)).toEqual([226, 232, 240, 255]); // the gap
  });
  it('RGB images keep their colours; a batch shorter than its count leaves the missing tiles empty', () => {
    const images = Uint8Array.of(255, 0, 0, 0, 0, 255); // two 1 × 1 RGB images of the four claimed
    const { data } = mosaic({ images, count: 4, imageSize: 1, channels: 3 }, 0);
    expect(Array.from(data)).toEqual([255, 0, 0, 255, 0, 0, 255, 255, 226, 232, 240, 255, 226, 232, 240, 255]);
  });
});

describe('nearest real neighbours', () => {
  const result: GeneratorNeighbours = {
    step: 200, sampleIndices: [3, 7], k: 2, neighbourIndices: [11, 12, 21, 22], distances: [0.05, 0.09, 0.2, 0.3],
    images: new Uint8Array(6 * 4), imageSize: 2, channels: 1,
  };
  it('each sample with its k nearest training images, nearest first, and their distances', () => {
    expect(neighbourRows(result)).toEqual([
      { sample: 3, imageIndex: 0, neighbours: [{ imageIndex: 1, trainIndex: 11, distance: 0.05 }, { imageIndex: 2, trainIndex: 12, distance: 0.09 }] },
      { sample: 7, imageIndex: 3, neighbours: [{ imageIndex: 4, trainIndex: 21, distance: 0.2 }, { imageIndex: 5, trainIndex: 22, distance: 0.3 }] },
    ]);
    expect(closestDistance(neighbourRows(result))).toBe(0.05);
    expect(distanceText(0.05)).toBe('RMS 0.050');
  });
  it('a truncated result gives only the whole parts, never an index past the images', () => {
    const rows = neighbourRows({ ...result, images: new Uint8Array(4 * 4) });
    expect(rows.map((r) => r.neighbours.length)).toEqual([2, 0]);
    expect(neighbourRows({ ...result, images: new Uint8Array(0) })).toEqual([]);
    expect(closestDistance([])).toBeUndefined();
  });
});

describe('labels', () => {
  it('the progress line says the step and where it ends', () => {
    expect(progressText('train-fresh', 120, { from: 0, to: 300 })).toBe('Step 120 of 300');
    expect(progressText('train-continue', undefined, { from: 300, to: 500 })).toBe('Starting: step 300 of 500…');
    expect(progressText('train-continue', 300, { from: 300, to: 500 })).toBe('Step 300 of 500');
    expect(progressText('train-fresh', 42, null)).toBe('Step 42');
    expect(progressText('load', undefined, null)).toMatch(/Loading the saved generator/);
    expect(progressFraction(400, { from: 300, to: 500 })).toBe(0.5);
    expect(progressFraction(10, null)).toBeNull();
  });
  it('reads the stored quality figures by name', () => {
    expect(storedQuality({ frechet: 12.5, precision: 0.6, recall: 0.3 })).toEqual({ frechet: 12.5, precision: 0.6, recall: 0.3 });
    expect(storedQuality({ 'Fréchet distance on random-init encoder features': 7 })).toEqual({ frechet: 7 });
    expect(storedQuality(undefined)).toEqual({});
  });
  it('Continue needs a held generator of this dataset and kind, and says which is missing', () => {
    const held: GeneratorState = {
      datasetId: 'shapes', datasetName: 'Coloured shapes', kind: 'vae', savedId: null,
      config: { size: 16, channels: 3, width: 8, zDim: 16, seed: 1, stepsTrained: 300 },
    };
    expect(continueBlocker(held, 'shapes', 'vae')).toBeNull();
    expect(continueBlocker(null, 'shapes', 'vae')).toMatch(/train a new one or load a saved one/);
    expect(continueBlocker(held, 'fashion-mnist', 'vae')).toMatch(/trained on “Coloured shapes”/);
    expect(continueBlocker(held, 'shapes', 'dcgan')).toMatch(/is a VAE: choose VAE/);
  });
  it('a saved generator’s settings in one line, with the real budget it was trained on when not the whole split', () => {
    const info: StoredGeneratorInfo = {
      id: 'g', datasetId: 'fashion-mnist', kind: 'dcgan', createdAt: 0, weightCount: 1, parameterCount: 1,
      config: { size: 28, channels: 1, width: 16, zDim: 64, seed: 1, stepsTrained: 300 },
    };
    expect(savedSettingsText(info)).toBe('w 16, z 64, seed 1, 28 px grayscale');
    expect(savedSettingsText({ ...info, config: { ...info.config, budget: { realFraction: 0.1, seed: 7, count: 6000 } } }))
      .toBe('w 16, z 64, seed 1, 28 px grayscale; on 10% of the training images (6,000)');
  });
  it('every numeric setting has a control', () => {
    expect(FIELD_CONTROLS.map((c) => c.field).sort()).toEqual(['batchSize', 'seed', 'steps', 'width', 'zDim']);
  });
});
