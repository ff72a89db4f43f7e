import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetPipeline, type AugmentPipeline } from '../core/pipeline';
import { createRng } from '../core/random';
import { EncoderNetwork, type ModelConfig } from '../model/encoderNetwork';
import { CancelledError, trainSupervised, type SupervisedOptions } from './supervised';

const SIZE = 12;
const CLASSES = 3;

/**
 * Three classes of 12×12 grayscale images on noise U[0, 0.3): 0 the top half
 * bright, 1 the bottom half bright, 2 a bright vertical stripe in the middle
 * (columns 4–7). All three survive a horizontal flip and a large crop.
 */
function images(count: number, seed: number): { x: tf.Tensor4D; y: Int32Array } {
  const rng = createRng(seed);
  const values = new Float32Array(count * SIZE * SIZE);
  const y = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % CLASSES;
    y[n] = label;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const bright = label === 0 ? r < SIZE / 2 : label === 1 ? r >= SIZE / 2 : c >= 4 && c < 8;
        values[n * SIZE * SIZE + r * SIZE + c] = bright ? 0.7 + 0.3 * rng() : 0.3 * rng();
      }
    }
  }
  return { x: tf.tensor4d(values, [count, SIZE, SIZE, 1]), y };
}

/** crop+flip with crops of at least 60% of the area, so a view keeps its class. */
function cropFlip(): AugmentPipeline {
  const pipeline = presetPipeline('crop-flip');
  for (const op of pipeline.operators) if (op.kind === 'crop') op.scale = [0.6, 1];
  return pipeline;
}

const MODEL: ModelConfig = { channels: 1, encoderWidth: 2, projectionHead: 'linear', projectionDim: 8, seed: 3 };

const OPTIONS: SupervisedOptions = {
  steps: 30,
  batchSize: 24,
  learningRate: 0.01,
  imageSize: SIZE,
  augmentation: cropFlip(),
  seed: 11,
};

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** Every encoder variable's values, running statistics included. */
function encoderSnapshot(model: EncoderNetwork): Float32Array[] {
  return [...model.encoderVariables, ...model.runningStatistics].map((v) => v.dataSync() as Float32Array);
}

let train: { x: tf.Tensor4D; y: Int32Array };
let test: { x: tf.Tensor4D; y: Int32Array };

beforeAll(() => {
  train = images(48, 1);
  test = images(60, 2);
});

afterAll(() => {
  tf.dispose([train.x, test.x]);
});

describe('fine-tuning a copy (copyWeightsFrom + trainSupervised)', () => {
  it('starts the copy at the source\'s h, then changes the copy but not the source', async () => {
    const source = new EncoderNetwork(MODEL);
    const copy = new EncoderNetwork({ ...MODEL, seed: 99 });
    try {
      // move the source's running statistics off their initial values, so copying them is visible in inference mode
      tf.tidy(() => source.encode(train.x, true));
      const hOf = (m: EncoderNetwork) => tf.tidy(() => m.encode(test.x, false).arraySync());
      expect(hOf(copy)).not.toEqual(hOf(source));
      copy.copyWeightsFrom(source);
      expect(hOf(copy)).toEqual(hOf(source));

      const sourceValues = encoderSnapshot(source);
      const copyValues = encoderSnapshot(copy);
      const sourceH = hOf(source);
      const before = tf.memory().numTensors;
      await trainSupervised(copy, train.x, train.y, test.x, test.y, CLASSES, { ...OPTIONS, steps: 3 });
      expect(tf.memory().numTensors).toBe(before);
      encoderSnapshot(source).forEach((v, i) => expect(v).toEqual(sourceValues[i]));
      expect(hOf(source)).toEqual(sourceH);
      // every trainable encoder variable and every running statistic of the copy moved
      encoderSnapshot(copy).forEach((v, i) => expect(v).not.toEqual(copyValues[i]));
      expect(hOf(copy)).not.toEqual(sourceH);
    } finally {
      source.dispose();
      copy.dispose();
    }
  });
});

describe('trainSupervised', () => {
  it('lowers the loss below log(K), classifies the test set well above chance and leaks no tensors', async () => {
    const model = new EncoderNetwork(MODEL);
    const progress: [number, number][] = [];
    try {
      const before = tf.memory().numTensors;
      const result = await trainSupervised(model, train.x, train.y, test.x, test.y, CLASSES, {
        ...OPTIONS,
        onProgress: async (step, loss) => {
          progress.push([step, loss]);
        },
      });
      expect(tf.memory().numTensors).toBe(before);

      expect(result.steps).toBe(OPTIONS.steps);
      expect(result.losses).toHaveLength(OPTIONS.steps);
      const first = mean(result.losses.slice(0, 5));
      const last = mean(result.losses.slice(-5));
      expect(last).toBeLessThan(0.5 * first);
      expect(last).toBeLessThan(0.5 * Math.log(CLASSES));
      expect(result.testAccuracy).toBeGreaterThan(0.9);
      expect(result.trainAccuracy).toBeGreaterThan(0.9);
      expect(result.ms).toBeGreaterThan(0);
      // every 10 steps, with the step's own loss
      expect(progress.map(([s]) => s)).toEqual([10, 20, 30]);
      progress.forEach(([s, loss]) => expect(loss).toBe(result.losses[s - 1]));
    } finally {
      model.dispose();
    }
  });

  it('is reproducible from the seed, and the augmentation changes what it trains on', async () => {
    const run = async (opts: Partial<SupervisedOptions>) => {
      const model = new EncoderNetwork(MODEL);
      try {
        return (await trainSupervised(model, train.x, train.y, test.x, test.y, CLASSES, { ...OPTIONS, steps: 4, ...opts })).losses;
      } finally {
        model.dispose();
      }
    };
    const a = await run({});
    expect(await run({})).toEqual(a);
    expect(await run({ augmentation: presetPipeline('none') })).not.toEqual(a);
    expect(await run({ seed: 12 })).not.toEqual(a);
  });

  it('moves the batch-norm running statistics and caps the batch at the labelled-set size', async () => {
    const model = new EncoderNetwork(MODEL);
    const few = images(5, 4);
    try {
      const before = encoderSnapshot(model);
      const result = await trainSupervised(model, few.x, few.y, test.x, test.y, CLASSES, { ...OPTIONS, steps: 2, batchSize: 1000 });
      expect(result.losses).toHaveLength(2);
      const stats = model.runningStatistics.map((v) => v.dataSync());
      const statsBefore = before.slice(model.encoderVariables.length);
      expect(stats.some((v, i) => v.some((x, j) => x !== statsBefore[i][j]))).toBe(true);
    } finally {
      model.dispose();
      few.x.dispose();
    }
  });

  it('resizes test images of another size and trains views at imageSize', async () => {
    const model = new EncoderNetwork(MODEL);
    const bigTest = tf.image.resizeBilinear(test.x, [16, 16], true);
    try {
      const before = tf.memory().numTensors;
      const result = await trainSupervised(model, train.x, train.y, bigTest, test.y, CLASSES, { ...OPTIONS, steps: 2, imageSize: 8 });
      expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(result.testAccuracy).toBeLessThanOrEqual(1);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
      bigTest.dispose();
    }
  });

  it('throws CancelledError when isCancelled turns true, and leaks nothing', async () => {
    const model = new EncoderNetwork(MODEL);
    try {
      const before = tf.memory().numTensors;
      let checks = 0;
      const losses: number[] = [];
      const promise = trainSupervised(model, train.x, train.y, test.x, test.y, CLASSES, {
        ...OPTIONS,
        onProgress: (_, loss) => void losses.push(loss),
        isCancelled: () => ++checks > 3,
      });
      await expect(promise).rejects.toBeInstanceOf(CancelledError);
      await expect(promise).rejects.toThrow(/cancelled after 3 of 30 steps/);
      expect(checks).toBe(4);
      expect(tf.memory().numTensors).toBe(before);
      // a cancelled-at-once run frees everything too
      await expect(
        trainSupervised(model, train.x, train.y, test.x, test.y, CLASSES, { ...OPTIONS, isCancelled: () => true }),
      ).rejects.toBeInstanceOf(CancelledError);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('throws an explanatory error when the loss is not finite, freeing everything', async () => {
    const model = new EncoderNetwork(MODEL);
    const nanImages = tf.fill([6, SIZE, SIZE, 1], NaN) as tf.Tensor4D;
    try {
      const before = encoderSnapshot(model);
      const count = tf.memory().numTensors;
      await expect(
        trainSupervised(model, nanImages, new Int32Array([0, 1, 2, 0, 1, 2]), test.x, test.y, CLASSES, { ...OPTIONS, augmentation: presetPipeline('none') }),
      ).rejects.toThrow(/loss became NaN at step 1 of 30.*not applied/);
      expect(tf.memory().numTensors).toBe(count);
      // the failed step's update was not applied to f (the running statistics did move in the forward pass)
      const after = encoderSnapshot(model);
      model.encoderVariables.forEach((_, i) => expect(after[i]).toEqual(before[i]));
    } finally {
      model.dispose();
      nanImages.dispose();
    }
  });

  it('rejects invalid inputs with clear messages before allocating anything', async () => {
    const model = new EncoderNetwork(MODEL);
    const empty = tf.zeros([0, SIZE, SIZE, 1]) as tf.Tensor4D;
    const rgb = tf.zeros([3, SIZE, SIZE, 3]) as tf.Tensor4D;
    try {
      const count = tf.memory().numTensors;
      const call = (overrides: {
        x?: tf.Tensor4D; y?: Int32Array; testX?: tf.Tensor4D; testY?: Int32Array; k?: number; opts?: Partial<SupervisedOptions>;
      }) =>
        trainSupervised(
          model,
          overrides.x ?? train.x,
          overrides.y ?? train.y,
          overrides.testX ?? test.x,
          overrides.testY ?? test.y,
          overrides.k ?? CLASSES,
          { ...OPTIONS, ...overrides.opts },
        );
      await expect(call({ k: 1 })).rejects.toThrow(/numClasses must be an integer ≥ 2/);
      await expect(call({ k: 2 })).rejects.toThrow(/labelled label 2 at index 2 is outside \[0, 2\)/);
      await expect(call({ testY: Int32Array.from(test.y, (v, i) => (i === 7 ? -1 : v)) })).rejects.toThrow(/test label -1 at index 7/);
      await expect(call({ y: train.y.subarray(1) })).rejects.toThrow(/48 labelled images but 47 labelled labels/);
      await expect(call({ testY: test.y.subarray(1) })).rejects.toThrow(/60 test images but 59 test labels/);
      await expect(call({ x: empty, y: new Int32Array(0) })).rejects.toThrow(/labelled set is empty/);
      await expect(call({ testX: empty, testY: new Int32Array(0) })).rejects.toThrow(/test set is empty/);
      await expect(call({ x: rgb, y: new Int32Array(3) })).rejects.toThrow(/3 channel\(s\) but the model expects 1/);
      await expect(call({ opts: { steps: 0 } })).rejects.toThrow(/steps must be an integer ≥ 1, got 0/);
      await expect(call({ opts: { steps: 2.5 } })).rejects.toThrow(/steps must be an integer ≥ 1/);
      await expect(call({ opts: { batchSize: 0 } })).rejects.toThrow(/batchSize must be an integer ≥ 1/);
      await expect(call({ opts: { imageSize: 0 } })).rejects.toThrow(/imageSize must be an integer ≥ 1/);
      await expect(call({ opts: { learningRate: 0 } })).rejects.toThrow(/learningRate must be a positive finite number/);
      await expect(call({ opts: { augmentation: { operators: [{ kind: 'flip', enabled: true, p: 2 }] } } })).rejects.toThrow(
        /Invalid augmentation pipeline/,
      );
      expect(tf.memory().numTensors).toBe(count);
    } finally {
      model.dispose();
      tf.dispose([empty, rgb]);
    }
    await expect(trainSupervised(model, train.x, train.y, test.x, test.y, CLASSES, OPTIONS)).rejects.toThrow(/model has been disposed/);
  });
});
