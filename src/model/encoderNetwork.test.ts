import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');

import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { EncoderNetwork, type ModelConfig } from './encoderNetwork';

const CONFIG: ModelConfig = { channels: 1, encoderWidth: 2, projectionHead: 'mlp', projectionDim: 8, seed: 3 };

function randomImages(count: number, size: number, channels: number, seed: number): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: count * size * size * channels }, () => rng()), [count, size, size, channels]);
}

/** Every encoder variable's values, running statistics included. */
const snapshot = (m: EncoderNetwork) => [...m.encoderVariables, ...m.runningStatistics].map((v) => v.dataSync().slice());
const hOf = (m: EncoderNetwork, x: tf.Tensor4D, training = false) => tf.tidy(() => m.encode(x, training).arraySync());

describe('EncoderNetwork.encoderVariables', () => {
  it('lists the trainable variables of f only: kernel, γ and β of each of the 4 blocks, no head', () => {
    const model = new EncoderNetwork(CONFIG);
    try {
      const vars = model.encoderVariables;
      expect(vars).toHaveLength(12);
      expect(vars.every((v) => v.trainable && /\/f\/(conv|bn)\d\/(kernel|gamma|beta)$/.test(v.name))).toBe(true);
      expect(vars.map((v) => v.shape)).toEqual([
        [3, 3, 1, 2], [2], [2],
        [3, 3, 2, 4], [4], [4],
        [3, 3, 4, 8], [8], [8],
        [3, 3, 8, 16], [16], [16],
      ]);
      // the trainable variables are f's then g's (an MLP head: two dense layers)
      expect(model.trainableVariables.slice(0, 12)).toEqual(vars);
      expect(model.trainableVariables.slice(12).every((v) => /\/g\//.test(v.name))).toBe(true);
      expect(model.trainableVariables).toHaveLength(16);
    } finally {
      model.dispose();
    }
  });
});

describe('EncoderNetwork.copyWeightsFrom', () => {
  it('makes two models give the same h in both modes, allocating nothing, and leaves g alone', () => {
    const x = randomImages(6, 12, 1, 1);
    const source = new EncoderNetwork(CONFIG);
    const target = new EncoderNetwork({ ...CONFIG, seed: 42, projectionHead: 'linear' });
    try {
      // running statistics off their initial values, so copying them shows in inference mode
      tf.tidy(() => source.encode(x, true));
      expect(hOf(target, x)).not.toEqual(hOf(source, x));
      const headBefore = target.trainableVariables.slice(12).map((v) => v.dataSync().slice());

      const count = tf.memory().numTensors;
      target.copyWeightsFrom(source);
      expect(tf.memory().numTensors).toBe(count);
      expect(hOf(target, x)).toEqual(hOf(source, x));
      snapshot(target).forEach((v, i) => expect(v).toEqual(snapshot(source)[i]));
      target.trainableVariables.slice(12).forEach((v, i) => expect(v.dataSync()).toEqual(headBefore[i]));
      // the training-mode pass also moves both models' running statistics identically
      expect(hOf(target, x, true)).toEqual(hOf(source, x, true));
      expect(hOf(target, x)).toEqual(hOf(source, x));
    } finally {
      source.dispose();
      target.dispose();
      x.dispose();
    }
  });

  it('keeps the two models independent: an optimizer step or dispose of the source does not reach the copy', () => {
    const x = randomImages(4, 8, 1, 2);
    const source = new EncoderNetwork(CONFIG);
    const target = new EncoderNetwork(CONFIG);
    const optimizer = tf.train.adam(0.1);
    try {
      target.copyWeightsFrom(source);
      const copied = snapshot(target);
      const h = hOf(target, x);
      optimizer.minimize(() => tf.tidy(() => tf.sum(tf.square(source.encode(x, true)))), false, source.encoderVariables);
      expect(snapshot(source).some((v, i) => v.some((s, j) => s !== copied[i][j]))).toBe(true);
      snapshot(target).forEach((v, i) => expect(v).toEqual(copied[i]));
      source.dispose();
      expect(hOf(target, x)).toEqual(h);
    } finally {
      optimizer.dispose();
      if (!source.encoderVariables[0].isDisposed) source.dispose();
      target.dispose();
      x.dispose();
    }
  });

  it('throws a clear error on an encoder of another shape, copying nothing', () => {
    const a = new EncoderNetwork(CONFIG);
    const wider = new EncoderNetwork({ ...CONFIG, encoderWidth: 3 });
    const rgb = new EncoderNetwork({ ...CONFIG, channels: 3 });
    try {
      const before = snapshot(a);
      expect(() => a.copyWeightsFrom(wider)).toThrow(/shapes differ at .*conv0\/kernel \[3, 3, 1, 2\] ← .*\[3, 3, 1, 3\].*encoder width 3.*encoder width 2/);
      expect(() => a.copyWeightsFrom(rgb)).toThrow(/shapes differ.*the source has 3 input channel\(s\)/);
      snapshot(a).forEach((v, i) => expect(v).toEqual(before[i]));
    } finally {
      [a, wider, rgb].forEach((m) => m.dispose());
    }
  });

  it('throws when either model has been disposed, and copying from itself is a no-op', () => {
    const a = new EncoderNetwork(CONFIG);
    const gone = new EncoderNetwork(CONFIG);
    gone.dispose();
    try {
      const before = snapshot(a);
      a.copyWeightsFrom(a);
      snapshot(a).forEach((v, i) => expect(v).toEqual(before[i]));
      expect(() => a.copyWeightsFrom(gone)).toThrow(/source model has been disposed/);
      expect(() => gone.copyWeightsFrom(a)).toThrow(/this model has been disposed/);
    } finally {
      a.dispose();
    }
  });

  it('gives every model its own variable names', () => {
    const models = [new EncoderNetwork(CONFIG), new EncoderNetwork(CONFIG)];
    try {
      models[1].copyWeightsFrom(models[0]);
      const names = models.flatMap((m) => [...m.trainableVariables, ...m.runningStatistics].map((v) => v.name));
      expect(new Set(names).size).toBe(names.length);
    } finally {
      models.forEach((m) => m.dispose());
    }
  });
});

describe('EncoderNetwork.followEma', () => {
  it('moves every variable to m·θ + (1 − m)·θ_online (float64 check), copies at m = 0, leaks nothing', async () => {
    const online = new EncoderNetwork({ channels: 1, encoderWidth: 2, projectionHead: 'mlp', projectionDim: 4, seed: 1 });
    const target = new EncoderNetwork({ channels: 1, encoderWidth: 2, projectionHead: 'mlp', projectionDim: 4, seed: 2 });
    const before = await Promise.all(target.allVariables.map((v) => v.data()));
    const onlineValues = await Promise.all(online.allVariables.map((v) => v.data()));
    const tensors = tf.memory().numTensors;
    target.followEma(online, 0.9);
    expect(tf.memory().numTensors).toBe(tensors);
    const after = await Promise.all(target.allVariables.map((v) => v.data()));
    after.forEach((values, i) => {
      values.forEach((x, j) => expect(x).toBeCloseTo(0.9 * before[i][j] + 0.1 * onlineValues[i][j], 5));
    });
    target.followEma(online, 0);
    const copied = await Promise.all(target.allVariables.map((v) => v.data()));
    copied.forEach((values, i) => expect(Array.from(values)).toEqual(Array.from(onlineValues[i])));
    const other = new EncoderNetwork({ channels: 1, encoderWidth: 3, projectionHead: 'mlp', projectionDim: 4, seed: 1 });
    expect(() => other.followEma(online, 0.5)).toThrow(/different architectures/);
    for (const n of [online, target, other]) n.dispose();
  });
});
